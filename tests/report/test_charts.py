"""Chart specs: valid Vega-Lite, dataset text only as data, compact per-example data."""

import copy
import html
import json
import re
from pathlib import Path

import altair
import pytest
import vl_convert
from jsonschema import Draft7Validator

from reportgen.ops.numbers import sig
from reportgen.report.charts import CONTROL_COLOUR, compose, method_colours
from reportgen.report.charts.examples import attention_rows, key_table, position_matrix_template
from reportgen.report.charts.global_words import top_words_chart
from reportgen.report.charts.performance import reliability_curve
from reportgen.report.charts.quality import aopc_curves
from reportgen.ops.function_words import FUNCTION_WORDS
from reportgen.report.render import render_html
from reportgen.report.sections.global_words import global_explanations
from reportgen.results.maps import maps_array, nested_maps_as_rows, row_weights

from support.runs import ATTENTION_MAPS, HOSTILE_STRINGS, demo_like_run, hostile_run

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
        specs[chart_id] = compose(spec, json.loads(blocks[data_id])) if data_id else spec
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
        expected = [sig(v) for v in run.attributions[method][ex.index].tokens]
        assert row[f"m{i}"] == expected
    assert set(block) <= {"tok", "att", "pos"}  # the word view is folded from the token row, not stored
    assert all(re.fullmatch(r"[twW]|[muL]\d+", key) for key in row)  # tokens once, then one array per row


def test_attention_is_stored_as_one_row_per_layer_and_head(classifier):
    stored = [{"layer": 0, "head": 0, "n": 2, "scale": 1000, "weights": [500, 500, 250, 750]},
              {"layer": 0, "head": 1, "n": 2, "scale": 100, "weights": [100, 0, 0, 100]}]
    assert attention_rows(stored) == [{"l": 0, "h": 0, "n": 2, "a": [500, 500, 250, 750]},
                                             {"l": 0, "h": 1, "n": 2, "a": [1000, 0, 0, 1000]}]
    # Results saved before the compact format ([layer][head][query][key]) still draw.
    nested = [[[[0.5, 0.5], [0.25, 0.75]], [[1.0, 0.0], [0.0004, 0.9996]]]]
    assert nested_maps_as_rows(nested) == [{**stored[0]}, {"layer": 0, "head": 1, "n": 2, "scale": 1000,
                                                                   "weights": [1000, 0, 0, 1000]}]
    # What the attention explainer keeps: one flattened row per layer and head, whole thousandths as
    # base64 of 16-bit integers.
    run = demo_like_run(classifier)
    kept = [a for a in run.attributions["attention"].values() if a.extra.get("maps")]
    assert len(kept) == ATTENTION_MAPS
    config = classifier.model.config
    for attribution in kept:
        rows, n = attribution.extra["maps"], len(attribution.tokens)
        assert [(r["layer"], r["head"]) for r in rows] == [(layer, head) for layer in range(config.num_hidden_layers)
                                                           for head in range(config.num_attention_heads)]
        assert all(r["n"] == n and r["scale"] == 1000 and isinstance(r["weights"], str) for r in rows)
        assert all(len(row_weights(r)) == n * n and 0 <= row_weights(r).min() <= row_weights(r).max() <= 1000
                   for r in rows)
        array = maps_array(rows)
        assert array.shape == (config.num_hidden_layers, config.num_attention_heads, n, n)
        assert array[-1, :, 0, :].mean(axis=0) == pytest.approx(attribution.tokens, abs=1e-3)
    old = copy.deepcopy(run)
    for attribution in old.attributions["attention"].values():
        if attribution.extra.get("maps"):
            attribution.extra["maps"] = maps_array(attribution.extra["maps"]).tolist()
    assert render_html(old) == render_html(run)


def test_stored_attention_maps_round_trip_and_a_damaged_one_is_left_out(classifier):
    import numpy as np

    from reportgen.results.maps import encode_rows

    weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(2, 3, 5))  # [layer, head, query, key]
    rows = encode_rows(weights, 1000)
    assert len(rows) == 6 and maps_array(rows) == pytest.approx(weights, abs=0.0005)
    with pytest.raises(ValueError, match="scale at most 65535"):
        encode_rows(weights, 100000)
    run = demo_like_run(classifier)
    damaged = next(a for a in run.attributions["attention"].values() if a.extra.get("maps"))
    damaged.extra["maps"][3]["weights"] = "not base64!"
    with pytest.raises(ValueError, match="unreadable attention map weights"):
        row_weights(damaged.extra["maps"][3])
    page = render_html(run)
    assert f"ex{damaged.example}-attention" not in page
    kept = [a.example for a in run.attributions["attention"].values() if a.extra.get("maps")]
    assert all(f"ex{index}-attention" in page for index in kept if index != damaged.example)


def test_map_decimals_must_fit_the_stored_integers():
    from reportgen.errors import ReportgenError
    from reportgen.explainers import explainers

    assert explainers.get("attention")(map_decimals=4).params["map_decimals"] == 4
    for bad in (5, -1, 2.5):
        with pytest.raises(ReportgenError, match="map_decimals must be a whole number from 0 to 4"):
            explainers.get("attention")(map_decimals=bad)


def test_token_heatmaps_are_scaled_by_the_real_tokens_and_clamp_special_ones():
    keys = key_table(["a", "b"], "m")
    template = position_matrix_template("tpl", "tok", keys, row_title="method", unit="token", legend="n",
                                               per_row=True)
    row = {"t": ["[CLS]", "good", "film", "[SEP]"], "w": [None, 0, 1, None], "W": ["good", "film"],
           "m0": [10.0, 0.5, -0.25, 4.0], "m1": [0, 0, 0, 3]}
    cells = drawn_cells(compose(template.spec, {"tok": [row]}))
    # Method a: the words' largest |score| (0.5) sets the scale; [CLS] and [SEP] are clamped to 1.
    assert cells[("a", "good")]["n"] == "1" and cells[("a", "film")]["n"] == "−0.5"
    assert cells[("a", "[CLS]")]["n"] == "1" and cells[("a", "[CLS]")]["clamped"].startswith("yes")
    assert cells[("a", "[SEP]")]["n"] == "1" and cells[("a", "[SEP]")]["score"] == "4.000"
    # Method b gives the words nothing: its row falls back to the largest score over every token.
    assert cells[("b", "[SEP]")]["n"] == "1" and cells[("b", "good")]["n"] == "0"


def drawn_cells(spec: dict) -> dict[tuple[str, str], dict[str, str]]:
    """The heatmap's cells as vl-convert draws them, read from their ARIA labels: (row, token) -> fields."""
    cells = {}
    for label in re.findall(r'aria-label="([^"]*)"', vl_convert.vegalite_to_svg(spec)):
        fields = dict(part.split(": ", 1) for part in html.unescape(label).split("; ") if ": " in part)
        if "method" in fields and "token" in fields:
            cells[(fields["method"], fields["token"])] = fields
    return cells


def test_aopc_legend_shows_lines_and_the_axis_the_measured_fractions():
    curve = [{"method": m, "fraction": f, "comprehensiveness": c * f, "sufficiency": 0.3 - c * f / 2,
              "mean_tokens_removed": 20 * f} for m, c in (("a", 1.0), ("random", 0.5))
             for f in (0.01, 0.05, 0.1, 0.2, 0.5)]
    spec = aopc_curves("x", curve, "random").spec
    for panel in spec["hconcat"]:
        encoding = panel["encoding"]
        assert encoding["x"]["axis"]["values"] == [0.01, 0.05, 0.1, 0.2, 0.5]
        assert encoding["color"]["field"] == encoding["strokeDash"]["field"] == "method"  # one merged legend
        assert encoding["color"]["legend"]["symbolType"] == encoding["strokeDash"]["legend"]["symbolType"] == "stroke"
        assert encoding["strokeDash"]["scale"] == {"domain": ["a", "random"], "range": [[1, 0], [5, 4]]}
    svg = vl_convert.vegalite_to_svg(spec)
    for tick in ("1%", "5%", "10%", "20%", "50%"):
        assert f">{tick}</text>" in svg, tick


def test_reliability_legend_shows_only_bin_sizes_that_occur():
    bins = [{"bin": i, "lower": i / 10, "upper": (i + 1) / 10, "count": c, "accuracy": 0.5, "confidence": 0.5,
             "gap": 0.0} for i, c in enumerate([0, 0, 0, 0, 0, 3, 8, 5, 14, 20])]
    size = reliability_curve("x", bins).spec["layer"][2]["encoding"]["size"]
    assert size["legend"]["values"] == [3, 8, 20] and 0 not in size["legend"]["values"]


def test_global_explanations_start_on_the_most_faithful_method_and_flag_function_words(classifier):
    run = demo_like_run(classifier)
    context = global_explanations(run)
    summary = run.metrics["faithfulness"]["result"]["summary"]
    lifts = {r["method"]: r["comprehensiveness_lift"] for r in summary if not r["is_control"]}
    best = max(lifts, key=lifts.get)
    assert context["methods"][0] == context["default_method"] == best
    assert [m for m in context["methods"] if m in lifts] == sorted(lifts, key=lambda m: -lifts[m])
    spec = context["chart"].spec
    assert spec["params"][0]["value"] == 0 and spec["params"][0]["bind"]["labels"][0] == best
    assert spec["params"][1]["name"] == "hide" and spec["params"][1]["bind"]["input"] == "checkbox"
    flags = {v["word"]: v["fw"] for v in spec["data"]["values"]}
    assert flags.get("the") is True and not any(flags.get(w) for w in ("not", "good", "but", "very"))
    assert "the" in FUNCTION_WORDS["en"] and "never" not in FUNCTION_WORDS["en"]


def test_the_function_words_hidden_are_the_recorded_language_s(classifier):
    run = demo_like_run(classifier)
    top = run.metrics["top_words"]["result"]
    top.update(function_words_language="de", function_words=["and", "der"], common_words=[])
    flags = {v["word"]: v["fw"] for v in global_explanations(run)["chart"].spec["data"]["values"]}
    assert flags["and"] is True and flags.get("the") is False  # the German list, not the English one
    html = render_html(run)
    assert "common German function words" in html and "these 2 German function words" in html
    top.update(function_words_language="none", function_words=[])
    assert not any(v["fw"] for v in global_explanations(run)["chart"].spec["data"]["values"])
    assert "own common words (top_words.function_words=none)" in render_html(run)
    for key in ("function_words_language", "function_words"):  # results written before the choice: English
        top.pop(key)
    flags = {v["word"]: v["fw"] for v in global_explanations(run)["chart"].spec["data"]["values"]}
    assert flags["the"] is True and flags.get("was") is True


def test_display_rounding():
    assert sig(0.123456) == 0.1235 and sig(1.23456e-7) == 1.235e-07
    assert sig(2.0) == 2 and isinstance(sig(2.0), int)
    assert sig(float("nan")) is None and sig(None) is None


def test_method_colours_mark_the_control():
    scale = method_colours(["a", "random", "b"], "random")
    assert scale["domain"] == ["a", "random", "b"]
    assert scale["range"][1] == CONTROL_COLOUR and len(set(scale["range"])) == 3


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
    spec = top_words_chart("x", rows, ["a", "b"], [f"class {c}" for c in range(5)]).spec
    assert not list(validator.iter_errors(spec))
    assert [len(row["hconcat"]) for row in spec["vconcat"]] == [3, 2]
    assert spec["params"][0]["bind"]["labels"] == ["a", "b"]
