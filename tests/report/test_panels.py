"""A metric that carries its presentation reaches its report section from its own module alone."""

from __future__ import annotations

import json
import re
from typing import Any

from reportgen.measure import Column, Metric, Panel, Table, compute_metrics, metrics
from reportgen.report.render import render_html

from support.runs import demo_like_run


class WordCount(Metric):
    name = "word_count_for_test"
    description = "Words per explained example (a throwaway metric)."
    section = "performance"
    title = "Words per example"

    def compute(self, run, runner) -> dict[str, Any]:
        rows = [{"example": f"#{ex.index}", "words": len(ex.words), "share": len(ex.words) / 100}
                for ex in run.examples if ex.ok]
        return {"definition": "words = the example's words; share = words / 100.", "rows": rows}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        columns = [Column("example", "example", "name"), Column("words", "words", "count"),
                   Column("share", "share", "percent", 1)]
        chart = {"data": {"values": result["rows"]}, "mark": "bar",
                 "encoding": {"x": {"field": "words", "type": "quantitative"},
                              "y": {"field": "example", "type": "nominal"}}}
        return Panel(Table(columns, result["rows"], css="words-per-example"), chart, "bar chart of words per example",
                     {"words": result["definition"]})


def section(html: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}">(.*?)</section>', html, flags=re.S).group(1)


def test_a_registered_metric_shows_its_panel_in_its_section(classifier):
    run, without = demo_like_run(classifier), demo_like_run(classifier)  # built before the metric exists
    with metrics.restored():
        metrics.register(WordCount)
        compute_metrics(run, None, [WordCount.name])
        html = render_html(run)
        missing = render_html(without)
    assert WordCount.name not in without.metrics
    performance = section(html, "performance")
    assert "<h3>Words per example</h3>" in performance and "Words per example" not in section(html, "quality")
    first = next(ex for ex in run.examples if ex.ok)
    assert (f'<tr><td><code>#{first.index}</code></td><td class="num">{len(first.words)}</td>'
            f'<td class="num">{len(first.words):.1f}%</td></tr>') in performance
    assert '<table class="words-per-example">' in performance and "words = the example&#39;s words" in performance
    spec = json.loads(re.search(r'<script type="application/json" id="chart-word_count_for_test-spec">(.*?)</script>',
                                html).group(1))
    assert spec["mark"] == "bar" and len(spec["data"]["values"]) == sum(ex.ok for ex in run.examples)
    assert "Words per example" in missing
    assert "The word_count_for_test statistic was not computed in this run." in missing
    assert WordCount.description in section(html, "methodology")


def test_the_cost_metric_presents_itself(classifier):
    html = render_html(demo_like_run(classifier))
    quality = section(html, "quality")
    assert quality.index("<h3>Cost</h3>") > quality.index("Agreement between methods")
    assert '<table class="cost">' in quality and 'id="chart-cost"' in quality


def test_the_sanity_checks_show_beside_faithfulness_with_a_verdict_per_method(classifier):
    run = demo_like_run(classifier)
    html = render_html(run)
    quality = section(html, "quality")
    assert quality.index("<h3>Sanity checks: the model randomised</h3>") > quality.index("Agreement between methods")
    result = run.metrics["sanity"]["result"]
    assert result["methods"] and result["examples"] >= 2
    table = re.search(r'<table class="sanity">(.*?)</table>', quality, flags=re.S).group(1)
    for row in result["methods"]:
        name = f"{row['method']} (control)" if row["is_control"] else row["method"]
        cells = re.search(rf"<tr><td><code>{re.escape(name)}</code></td>(.*?)</tr>", table).group(1)
        assert f"<code>{row['verdict']}</code>" in cells and f"{row['randomised_spearman']:.3f}" in cells
    spec = json.loads(re.search(r'<script type="application/json" id="chart-sanity-spec">(.*?)</script>',
                                html).group(1))
    steps = len(result["cascade"]) + len(result["independent"])
    assert len(spec["data"]["values"]) == sum(
        1 for row in result["methods"] for kind in ("cascade", "independent") for step in row[kind]
        if step["spearman"] is not None) and steps == (2 + 2) + 2  # the tiny BERT: 2 layers


def test_a_run_without_sanity_checks_says_why(classifier):
    from support.runs import small_run

    run = small_run(classifier)
    compute_metrics(run, None, ["sanity"])
    assert run.metrics["sanity"]["result"]["methods"] == []
    quality = section(render_html(run), "quality")
    assert "<h3>Sanity checks: the model randomised</h3>\n<p class=\"note\">No sanity checks ran in this run" in quality
