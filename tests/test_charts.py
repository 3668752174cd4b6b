"""Chart specs: valid Vega-Lite, dataset text only as data, compact per-example data."""

import json
import math
import re
from pathlib import Path

import altair
import pytest
from jsonschema import Draft7Validator

from browser import HOSTILE_STRINGS, demo_like_run, hostile_run
from reportgen import charts
from reportgen.render import render_html

SCHEMA = Path(altair.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
EXPRESSION_KEYS = {"filter", "calculate", "test", "labelExpr", "expr", "signal"}


@pytest.fixture(scope="module")
def validator():
    return Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def page_specs(html: str) -> dict[str, dict]:
    """Every chart of a page as the browser draws it: its spec, or its template joined with its data."""
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S))
    specs = {}
    for chart_id, spec_id, data_id in re.findall(
            r'<div class="chart[^"]*" id="([^"]+)" data-spec="([^"]+)"(?: data-datasets="([^"]+)")?', html):
        spec = json.loads(blocks[spec_id])
        specs[chart_id] = charts.compose(spec, json.loads(blocks[data_id])) if data_id else spec
    return specs


@pytest.fixture(scope="module")
def demo_specs(classifier):
    return page_specs(render_html(demo_like_run(classifier)))


@pytest.fixture(scope="module")
def hostile_specs(classifier):
    return page_specs(render_html(hostile_run(classifier)))


def expressions(node, key=None):
    """Every string in an expression position of a spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "data" or k == "datasets" or k == "values":
                continue
            yield from expressions(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from expressions(v, key)
    elif isinstance(node, str) and key in EXPRESSION_KEYS:
        yield node


def test_every_chart_validates_against_the_vega_lite_schema(demo_specs, hostile_specs, validator):
    assert len(demo_specs) >= 20
    kinds = {re.sub(r"^ex\d+-", "", chart_id) for chart_id in demo_specs}
    assert {"tokens", "words", "layers", "attention", "chart-confusion", "chart-reliability", "chart-aopc",
            "chart-agreement", "chart-cost", "chart-top-words", "chart-atlas", "chart-rollout"} <= kinds
    for chart_id, spec in {**demo_specs, **{f"hostile-{k}": v for k, v in hostile_specs.items()}}.items():
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(spec)]
        assert errors == [], chart_id
        assert "$schema" not in spec  # no remote URL in the page


def test_the_validator_rejects_a_broken_spec(validator):
    assert list(validator.iter_errors({"mark": "nonsense", "encoding": {"x": {"field": 3}}}))


def test_dataset_text_never_reaches_an_expression_or_a_sort_list(hostile_specs):
    fragments = {piece for s in HOSTILE_STRINGS for piece in (s, s[:12]) if len(piece.strip()) > 3}
    for chart_id, spec in hostile_specs.items():
        for text in expressions(spec):
            assert not any(piece in text for piece in fragments), (chart_id, text)
        for sort in re.findall(r'"sort":(\[[^\]]*\])', json.dumps(spec)):
            raise AssertionError(f"{chart_id} sorts by a literal list {sort}")


def test_explorer_data_is_compact_and_tokens_appear_once(classifier):
    run = demo_like_run(classifier)
    html = render_html(run)
    ex = next(e for e in run.examples if e.ok)
    block = json.loads(re.search(rf'id="ex{ex.index}-data">(.*?)</script>', html, re.S).group(1))
    row = block["tok"][0]
    assert row["t"] == ex.tokens and row["W"] == ex.words and row["w"] == ex.word_ids
    methods = [m for m in run.methods if run.attributions.get(m)]
    for i, method in enumerate(methods):
        expected = [charts.sig(v) for v in run.attributions[method][ex.index].tokens]
        assert row[f"m{i}"] == expected
    assert set(block) <= {"tok", "att", "pos"}  # the word view is folded from the token row, not stored
    assert all(re.fullmatch(r"[twW]|[muL]\d+", key) for key in row)  # tokens once, then one array per row


def test_attention_is_stored_as_one_row_per_layer_and_head():
    maps = [[[[0.5, 0.5], [0.25, 0.75]], [[1.0, 0.0], [0.0004, 0.9996]]]]
    rows = charts.attention_rows(maps)
    assert rows == [{"l": 0, "h": 0, "n": 2, "a": [500, 500, 250, 750]},
                    {"l": 0, "h": 1, "n": 2, "a": [1000, 0, 0, 1000]}]


def test_display_rounding_and_normalisation():
    assert charts.sig(0.123456) == 0.1235 and charts.sig(1.23456e-7) == 1.235e-07
    assert charts.sig(2.0) == 2 and isinstance(charts.sig(2.0), int)
    assert charts.sig(float("nan")) is None and charts.sig(None) is None
    assert charts.normalise([1.0, -2.0, 0.0]) == [0.5, -1.0, 0.0]
    assert charts.normalise([0.0, 0.0]) == [0.0, 0.0]
    assert charts.normalise([math.inf, 1.0]) == [None, 1.0]


def test_method_colours_mark_the_control():
    scale = charts.method_colours(["a", "random", "b"], "random")
    assert scale["domain"] == ["a", "random", "b"]
    assert scale["range"][1] == charts.CONTROL_COLOUR and len(set(scale["range"])) == 3


def test_word_scores_that_are_not_token_sums_are_kept(classifier, validator):
    run = demo_like_run(classifier)
    first = next(ex for ex in run.examples if ex.ok)
    methods = [m for m in run.methods if run.attributions.get(m)]
    i = methods.index("lime")
    run.attributions["lime"][first.index].words = [2 * w for w in run.attributions["lime"][first.index].words]
    specs = page_specs(render_html(run))
    spec = specs[f"ex{first.index}-words"]
    assert not list(validator.iter_errors(spec))
    row = spec["datasets"]["tok"][0]
    spread = row[f"u{i}"]
    for word, score in enumerate(run.attributions["lime"][first.index].words):
        total = sum(s for s, w in zip(spread, first.word_ids) if w == word)
        assert total == pytest.approx(score, rel=1e-3, abs=1e-6)
    other = next(ex for ex in run.examples if ex.ok and ex.index != first.index)
    assert specs[f"ex{other.index}-words"]["datasets"]["tok"][0][f"u{i}"] == []


def test_top_words_for_many_classes_wraps_into_rows(validator):
    rows = [{"method": m, "class_id": c, "rank": r, "word": f"w{c}{r}", "mean": 1 / r, "count": 3, "examples": 2}
            for m in ("a", "b") for c in range(5) for r in range(1, 4)]
    spec = charts.top_words_chart("x", rows, ["a", "b"], [f"class {c}" for c in range(5)]).spec
    assert not list(validator.iter_errors(spec))
    assert [len(row["hconcat"]) for row in spec["vconcat"]] == [3, 2]
    assert spec["params"][0]["bind"]["labels"] == ["a", "b"]
