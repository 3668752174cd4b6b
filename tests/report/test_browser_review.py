"""The report read as a reviewer does, in Chromium: the explorer starts on the errors, sorts, lists a confusion
cell's examples, deep links land visible and opened below the sticky bars, and the page fits a phone."""

from __future__ import annotations

import re
from pathlib import Path

from reportgen.results.queries import review_key
from reportgen.report.heights import drawn_height, neutral
from reportgen.report.render import write_report

from support.browser import OVERFLOW, draw_everything, opened_report, wait_until
from support.runs import demo_like_run

ARTICLES = "() => Array.from(document.querySelectorAll('article.example')).map(a => a.id)"
VISIBLE = "() => Array.from(document.querySelectorAll('article.example')).filter(a => !a.hidden).map(a => a.id)"
# Where a cell of the confusion matrix lies on the page, from the chart's own scales.
CELL = """([id, trueName, predictedName]) => {
    const view = window.reportgen.view(id);
    const x = view.scale('x'), y = view.scale('y');
    const box = document.querySelector('#' + id + ' canvas').getBoundingClientRect();
    const origin = view.origin();
    return [box.left + origin[0] + x(predictedName) + x.bandwidth() / 2,
            box.top + origin[1] + y(trueName) + y.bandwidth() / 2]; }"""
# The article's top, and the bottom of the bars that stay on screen above it.
PLACE = """(id) => {
    const bars = Array.from(document.querySelectorAll('nav.toc, form.filters'))
        .filter(b => getComputedStyle(b).position === 'sticky').map(b => b.getBoundingClientRect().bottom);
    return [document.getElementById(id).getBoundingClientRect().top, Math.max(0, ...bars), window.innerHeight]; }"""


def test_the_explorer_starts_on_the_errors_and_every_finding_opens_its_examples(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    errors = [ex for ex in run.examples if ex.ok and ex.correct is False]
    assert errors and len(errors) < len(run.examples)  # the tiny model gets some wrong, not all
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        draw_everything(page)
        review = [f"example-{ex.index}" for ex in sorted(run.examples, key=review_key)]
        assert page.evaluate(ARTICLES) == review and review[0] == f"example-{max(errors, key=conf).index}"

        page.select_option("[data-sort]", "-confidence")
        by_confidence = sorted((ex for ex in run.examples if ex.probabilities), key=lambda ex: (-conf(ex), ex.index))
        assert page.evaluate(ARTICLES)[: len(by_confidence)] == [f"example-{ex.index}" for ex in by_confidence]
        page.select_option("[data-sort]", "index")
        assert page.evaluate(ARTICLES) == [f"example-{ex.index}" for ex in sorted(run.examples, key=lambda e: e.index)]

        # A deep link to an example the filters hide and that is closed: shown, opened, below the sticky bars.
        target = errors[-1]
        page.select_option("[data-filter=correct]", "1")
        page.click("[data-action=collapse]")
        assert f"example-{target.index}" not in page.evaluate(VISIBLE)
        page.evaluate("(id) => { location.hash = id; }", f"example-{target.index}")
        wait_until(page, "(id) => !document.getElementById(id).hidden", f"example-{target.index}")
        assert page.evaluate("(id) => document.querySelector('#' + id + ' details').open", f"example-{target.index}")
        top, bars, height = page.evaluate(PLACE, f"example-{target.index}")
        assert bars - 1 <= top < height

        # A confusion-matrix cell lists its examples: true class of the first error, predicted as it was.
        names = run.labels
        page.evaluate("() => document.getElementById('chart-confusion').scrollIntoView()")  # clicks land in view
        page.mouse.click(*page.evaluate(CELL, ["chart-confusion", names[target.label], names[target.prediction]]))
        wanted = {f"example-{ex.index}" for ex in run.examples
                  if ex.label == target.label and ex.prediction == target.prediction}
        wait_until(page, "(n) => document.querySelectorAll('article.example:not([hidden])').length === n", len(wanted))
        assert set(page.evaluate(VISIBLE)) == wanted
        assert page.input_value("[data-filter=label]") == str(target.label)
        assert page.input_value("[data-filter=prediction]") == str(target.prediction)


def test_the_report_fits_a_phone(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path, width=390, height=844) as page:
        draw_everything(page)
        assert page.evaluate(OVERFLOW) == []
        # Nothing stays on screen as the page scrolls: the navigation wraps above the summary.
        assert page.evaluate("() => getComputedStyle(document.querySelector('nav.toc')).position") == "static"
        assert page.evaluate("() => getComputedStyle(document.querySelector('form.filters')).position") == "static"
        links = page.evaluate("() => Array.from(document.querySelectorAll('nav.toc a')).map(a => "
                              "a.getBoundingClientRect().right)")
        assert links and max(links) <= 390


def conf(ex):
    return max(ex.probabilities)


# A4 pages the 8-example demo-like report may print to (the 50-example demo: under 25); 14 since its 13 methods
# and the sanity checks' curves and table
PRINT_PAGES = 14


def test_the_report_prints_compactly_with_every_chart_drawn_and_no_controls(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
        wait_until(page, "() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute('data-drawn'))",
                   timeout=60000)
        assert page.locator(".chart[data-drawn=true]").count() == page.locator(".chart").count()
        assert page.evaluate("() => Array.from(document.querySelectorAll('article.example > details')).every(d => d.open)")
        assert not page.evaluate("() => Array.from(document.querySelectorAll('details.definition')).some(d => d.open "
                                 "&& !d.closest('#examples'))")  # definitions stay as the page had them: closed
        page.emulate_media(media="print")
        shown = page.evaluate("() => Array.from(document.querySelectorAll('form.filters, nav.toc, select, button, "
                              "input')).filter(e => e.getClientRects().length > 0).length")
        assert shown == 0
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 3 <= pages <= PRINT_PAGES, pages


def test_every_chart_exports_to_svg_and_png_offline(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        draw_everything(page)
        charts = page.locator(".chart").count()
        assert page.locator(".chart > .vega-actions").count() == charts
        menu = page.locator("#chart-summary-lift > .vega-actions")
        for kind, start in (("svg", b"<svg"), ("png", b"\x89PNG")):
            with page.expect_download() as download:
                menu.locator(f"a[download$='.{kind}']").click()
            saved = download.value
            assert saved.suggested_filename == f"chart-summary-lift.{kind}"
            assert Path(saved.path()).read_bytes().startswith(start)


def test_undrawn_heatmaps_reserve_the_height_of_the_first_one_drawn(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        page.click("[data-action=collapse]")  # the background fill skips closed examples: their charts wait
        first = page.evaluate("() => document.querySelector('.chart.words').id")
        page.evaluate("(id) => window.reportgen.draw(document.getElementById(id))", first)
        wait_until(page, "(id) => document.getElementById(id).getAttribute('data-drawn') === 'true'", first)
        heights = page.evaluate("() => Array.from(document.querySelectorAll('.chart.words[data-drawn=true]'))"
                                ".map(c => c.offsetHeight + 'px')")
        reserved = page.evaluate("() => Array.from(document.querySelectorAll('.chart.words:not([data-drawn])'))"
                                 ".map(c => c.style.minHeight)")
        assert reserved and len(set(reserved)) == 1 and reserved[0] in heights and int(reserved[0][:-2]) > 60


def test_every_chart_of_its_own_reserves_its_drawn_height_before_it_draws(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        own = page.evaluate("() => Array.from(document.querySelectorAll('.chart[data-height]')).map(c => c.id)")
        # every chart with its own spec, the one-off charts of the summary, performance, quality and atlas
        assert len(own) == page.evaluate("() => document.querySelectorAll('.chart[data-spec$=\"-spec\"]').length") > 5
        waiting = page.evaluate("() => Array.from(document.querySelectorAll('.chart[data-height]:not([data-drawn])'))"
                                ".map(c => [c.style.minHeight, c.getAttribute('data-reserved')])")
        assert all(height == reserved + "px" for height, reserved in waiting)
        draw_everything(page)
        drawn = page.evaluate("() => Array.from(document.querySelectorAll('.chart[data-height]'))"
                              ".map(c => [c.id, c.offsetHeight, parseFloat(c.getAttribute('data-reserved'))])")
        assert len(drawn) == len(own)
        for chart, height, reserved in drawn:
            assert abs(height - reserved) <= 2, (chart, height, reserved)


def test_a_chart_is_measured_with_its_text_made_plain():
    spec = {"data": {"values": [{"w": "a\x00b", "v": 1}, {"w": "a\u202eb", "v": 2}, {"w": "plain", "v": 3}]},
            "title": "cl\ud800ass", "transform": [{"filter": "datum.v > 0"}], "mark": "bar",
            "encoding": {"y": {"field": "w", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"}}}
    plain = neutral(spec)
    assert [r["w"] for r in plain["data"]["values"]] == ["axb", "axb~1", "plain"]  # still three categories
    assert plain["title"] == "clxass" and plain["transform"] == spec["transform"]  # code untouched
    assert drawn_height(spec) == drawn_height(plain) > 3 * 15  # measured, not aborted: three bars of 20 px
