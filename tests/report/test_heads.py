"""Every head of a layer as small multiples beside the single attention map: one grid per kept example, drawn
from the same data block, a layer box that redraws it, and nothing for an example without kept maps."""

from __future__ import annotations

from reportgen.report.charts.examples import HEADS_PER_ROW, heads_template
from reportgen.report.render import write_report
from reportgen.results.maps import stored_maps

from support.browser import CANVAS_PIXELS, PIXELS_CHANGED, opened_report, wait_until


def test_the_grid_has_one_map_per_head_of_the_chosen_layer():
    spec = heads_template("tpl-heads", 3, 6).spec
    assert spec["params"][0]["value"] == 2 and spec["params"][0]["bind"]["options"] == [0, 1, 2]
    assert spec["transform"][0] == {"filter": "datum.l == layer"}
    assert spec["facet"]["field"] == "h" and spec["columns"] == HEADS_PER_ROW
    assert spec["spec"]["width"] == spec["spec"]["height"]  # square maps, whatever the length


def test_an_example_with_kept_maps_draws_every_head_of_a_layer(playwright, classifier, tmp_path):
    from support.runs import demo_like_run

    run = demo_like_run(classifier)
    kept = [ex for ex in run.examples if ex.ok and stored_maps(run.attributions["attention"][ex.index].extra)]
    bare = [ex for ex in run.examples if ex.ok and ex not in kept]
    assert kept and bare
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        chart_id = f"ex{kept[0].index}-heads"
        page.evaluate("(id) => { window.reportgen.draw(document.getElementById(id)); }", chart_id)
        wait_until(page, "(id) => document.getElementById(id).getAttribute('data-drawn') === 'true'", chart_id)
        maps = stored_maps(run.attributions["attention"][kept[0].index].extra)
        heads = 1 + max(m["head"] for m in maps)
        width, height, _ = page.evaluate(CANVAS_PIXELS, chart_id)
        columns = min(heads, HEADS_PER_ROW)
        ratio = page.evaluate("() => window.devicePixelRatio")
        assert width >= columns * 150 * ratio  # one map per head, side by side
        before = page.evaluate(CANVAS_PIXELS, chart_id)
        page.locator(f"#{chart_id} .vega-bindings select").select_option(index=0)  # the first layer
        wait_until(page, PIXELS_CHANGED, arg=[chart_id, before], timeout=5000)
        assert page.evaluate("(id) => document.getElementById(id)", f"ex{bare[0].index}-heads") is None
