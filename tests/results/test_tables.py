"""The tidy tables of a results folder: read back with pyarrow, each holds the run's values (every score of every
attribution, its contrast's too, classes by name, each metric's numbers with their standard errors), with the
same columns for every run, and hostile texts survive byte for byte."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from reportgen.results import schema, store, tables
from reportgen.results.records import Attribution, Example, RunResult

from support.runs import demo_like_run


def read_tables(folder: Path) -> dict[str, list[dict]]:
    return {name: pq.read_table(folder / "tables" / f"{name}.parquet").to_pylist() for name in tables.NAMES}


def same(a, b) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.fixture(scope="module")
def saved(classifier, tmp_path_factory):
    run = demo_like_run(classifier)
    folder = store.save(run, tmp_path_factory.mktemp("tables") / "results")
    return run, folder, read_tables(folder)


def test_each_table_has_its_fixed_columns_and_types(saved):
    _, folder, _ = saved
    for name in tables.NAMES:
        assert pq.read_schema(folder / "tables" / f"{name}.parquet").remove_metadata() == tables.SCHEMAS[name]


def test_the_examples_table_holds_each_example_with_classes_by_name(saved):
    run, _, read = saved
    labels = run.labels
    assert [row["example"] for row in read["examples"]] == [ex.index for ex in run.examples]
    for ex, row in zip(run.examples, read["examples"]):
        assert row["row"] == ex.index and row["text"] == ex.text and row["group"] == ex.group
        assert row["label"] == labels[ex.label]
        assert row["prediction"] == (None if ex.prediction is None else labels[ex.prediction])
        assert row["probabilities"] == ex.probabilities
        assert row["probability"] == (None if ex.prediction is None else ex.probabilities[ex.prediction])
        assert row["correct"] is (None if ex.prediction is None else ex.label == ex.prediction)
        assert row["failure"] == ex.error and row["truncated"] is ex.truncated
        assert row["text_pair"] is row["labels"] is row["predicted"] is None
    assert [row["failure"] for row in read["examples"]].count("text is empty") == 1


def expected_scores(run: RunResult, per: str) -> dict[tuple, tuple]:
    """(example, method, contrast, position) -> (target name, score), from the run's attributions."""
    expected = {}
    for method, by_example in run.attributions.items():
        for index, attribution in by_example.items():
            sets = [(run.example(index).target, False, getattr(attribution, per))]
            contrast = attribution.extra.get("contrast")
            if contrast and "error" not in contrast:
                sets.append((contrast["target"], True, contrast[per]))
            for target, is_contrast, scores in sets:
                for position, score in enumerate(scores):
                    expected[index, method, is_contrast, position] = (run.labels[target], score)
    return expected


def test_every_score_of_every_attribution_is_a_row_of_the_attributions_table(saved):
    run, _, read = saved
    expected = expected_scores(run, "tokens")
    rows = {(r["example"], r["method"], r["contrast"], r["position"]): r for r in read["attributions"]}
    assert len(rows) == len(read["attributions"]) == len(expected)
    for key, (target, score) in expected.items():
        row = rows[key]
        ex = run.example(key[0])
        assert row["target"] == target and same(row["score"], score)
        assert row["token"] == ex.tokens[key[3]] and row["word"] == ex.word_ids[key[3]]
    contrasts = [row for row in read["attributions"] if row["contrast"]]
    assert contrasts and all(row["target"] != run.labels[run.example(row["example"]).target] for row in contrasts)
    assert {row["example"] for row in contrasts} == {ex.index for ex in run.examples if ex.correct is False}


def test_every_word_score_is_a_row_of_the_word_scores_table(saved):
    run, _, read = saved
    expected = expected_scores(run, "words")
    rows = {(r["example"], r["method"], r["contrast"], r["word"]): r for r in read["word_scores"]}
    assert len(rows) == len(read["word_scores"]) == len(expected)
    for key, (target, score) in expected.items():
        assert rows[key]["target"] == target and same(rows[key]["score"], score)
        assert rows[key]["text"] == run.example(key[0]).words[key[3]]
    assert any(row["contrast"] for row in read["word_scores"])


def metric_rows(read, metric: str, statistic: str) -> list[dict]:
    return [row for row in read["metrics"] if row["metric"] == metric and row["statistic"] == statistic]


def test_the_metrics_table_holds_each_methods_faithfulness_with_its_standard_error(saved):
    run, _, read = saved
    summary = run.metrics["faithfulness"]["result"]["summary"]
    rows = {row["method"]: row for row in metric_rows(read, "faithfulness", "summary.comprehensiveness")}
    assert sorted(rows) == sorted(entry["method"] for entry in summary)
    for entry in summary:
        assert rows[entry["method"]]["value"] == entry["comprehensiveness"]
        assert rows[entry["method"]]["standard_error"] == entry["comprehensiveness_se"]
    assert not metric_rows(read, "faithfulness", "summary.comprehensiveness_se")
    assert not metric_rows(read, "faithfulness", "summary.is_control")  # true/false is not a value


def test_the_metrics_table_holds_accuracy_and_per_class_rows_by_class_name(saved):
    run, _, read = saved
    result = run.metrics["performance"]["result"]
    (accuracy,) = metric_rows(read, "performance", "overall.accuracy")
    assert accuracy["value"] == result["overall"]["accuracy"]
    assert accuracy["method"] is accuracy["class"] is accuracy["item"] is None
    recall = {row["class"]: row["value"] for row in metric_rows(read, "performance", "per_class.recall")}
    assert recall == {entry["class"]: entry["recall"] for entry in result["per_class"]}
    assert not metric_rows(read, "performance", "per_class.class_id")  # an identifier, not a value
    groups = {row["group"]: row["value"] for row in metric_rows(read, "performance", "groups.accuracy")}
    assert groups == {entry["group"]: entry["accuracy"] for entry in result["groups"]}


def test_per_example_metric_rows_name_their_example_and_join_the_examples_table(saved):
    run, _, read = saved
    per_example = run.metrics["faithfulness"]["result"]["per_example"]
    rows = metric_rows(read, "faithfulness", "per_example.comprehensiveness")
    assert [(r["example"], r["method"], r["class"], r["value"]) for r in rows] == [
        (e["example"], e["method"], run.labels[e["target"]], e["comprehensiveness"]) for e in per_example]
    assert {row["example"] for row in rows} <= {row["example"] for row in read["examples"]}


def test_the_flattening_rules_on_a_result_of_every_shape():
    result = {"definition": "text is no value", "flag": True, "none": None, "n": 3, "mask_token_id": 103,
              "share": 0.5, "share_se": 0.1, "lonely_se": 0.2, "fractions": [0.1, 0.2],
              "rows": [{"method": "lime", "example": 4, "score": 1.5, "nested": {"label": "pos", "x": 2}},
                       {"group": "g", "target": 1, "score": float("nan"), "points": [[7]]}]}
    run = RunResult(model={"labels": ["neg", "pos"]}, metrics={"m": {"result": result}})
    rows = [{k: v for k, v in row.items() if v is not None} for row in tables.tables(run)["metrics"].to_pylist()]
    expected = [
        {"statistic": "n", "value": 3.0},
        {"statistic": "share", "value": 0.5, "standard_error": 0.1},
        {"statistic": "lonely_se", "value": 0.2},
        {"statistic": "fractions", "item": "fractions[0]", "value": 0.1},
        {"statistic": "fractions", "item": "fractions[1]", "value": 0.2},
        {"statistic": "rows.score", "item": "rows[0]", "method": "lime", "example": 4, "value": 1.5},
        {"statistic": "rows.nested.x", "item": "rows[0]", "method": "lime", "example": 4, "class": "pos", "value": 2.0},
        {"statistic": "rows.score", "item": "rows[1]", "group": "g", "class": "pos", "value": math.nan},
        {"statistic": "rows.points", "item": "rows[1].points[0][0]", "group": "g", "class": "pos", "value": 7.0},
    ]
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        assert row.keys() == {"metric", *want} and row["metric"] == "m"
        assert all(same(row[key], value) for key, value in want.items()), row


def test_an_empty_run_has_every_table_with_its_columns(tmp_path):
    folder = store.save(RunResult(), tmp_path / "results")
    for name in tables.NAMES:
        table = pq.read_table(folder / "tables" / f"{name}.parquet")
        assert table.num_rows == 0 and table.schema.remove_metadata() == tables.SCHEMAS[name]


HOSTILE = ["</script><script>alert(1)</script>", '"; DROP TABLE examples; --', "nul\x00byte", "two\nlines\r\n",
           "\u202eevil\u200f", "=HYPERLINK(\"x\")", "emoji \U0001f600", "'quoted'", "\\u0000"]


def hostile_run() -> RunResult:
    """A run whose every text (class names, texts, tokens, words, groups, errors, methods' names aside) is
    hostile."""
    n = len(HOSTILE)
    examples = [Example(index=i, text=HOSTILE[i], label=i % n, prediction=(i + 1) % n, target=(i + 1) % n,
                        group=HOSTILE[-1 - i], tokens=HOSTILE[i:] + HOSTILE[:i], word_ids=[None, *range(n - 1)],
                        words=HOSTILE[: n - 1], probabilities=[1 / n] * n) for i in range(n)]
    examples.append(Example(index=n, text="failed", error=HOSTILE[0]))
    contrast = {"tokens": [-1.0] * n, "words": [-2.0] * (n - 1)}
    attributions = {i: Attribution("saliency", i, [float(k) for k in range(n)], [0.5] * (n - 1),
                                   extra={"contrast": {"target": i % n, **contrast}}) for i in range(n)}
    metrics = {"performance": {"result": {"per_class": [{"class": name, "recall": 0.5} for name in HOSTILE]}}}
    return RunResult(model={"labels": HOSTILE}, examples=examples, attributions={"saliency": attributions},
                     metrics=metrics)


def test_hostile_names_and_words_survive_byte_for_byte(tmp_path):
    run = hostile_run()
    read = read_tables(store.save(run, tmp_path / "results"))
    for ex, row in zip(run.examples, read["examples"]):
        assert (row["text"], row["group"], row["failure"]) == (ex.text, ex.group, ex.error)
        if ex.ok:
            assert (row["label"], row["prediction"]) == (HOSTILE[ex.label], HOSTILE[ex.prediction])
    for row in read["attributions"]:
        ex = run.example(row["example"])
        assert row["token"] == ex.tokens[row["position"]]
        assert row["target"] == HOSTILE[ex.target if not row["contrast"] else ex.label]
    assert {row["text"] for row in read["word_scores"]} == set(HOSTILE[:-1])
    assert [row["class"] for row in read["metrics"]] == HOSTILE


def test_a_lone_surrogate_is_written_as_the_json_files_write_it(tmp_path):
    run = RunResult(model={"labels": ["a\ud800b", "b"]}, examples=[Example(index=0, text="x\udfffy", label=0)])
    folder = store.save(run, tmp_path / "results")
    (row,) = read_tables(folder)["examples"]
    assert (row["text"], row["label"]) == ("x?y", "a?b")
    assert json.loads((folder / "examples.jsonl").read_text(encoding="utf-8"))["text"] == "x?y"


def test_a_language_models_classes_are_named_by_the_explained_token():
    step = {"k": 0, "position": 2, "token": "Ġcat", "log_prob": -0.5}
    unit = Example(index=0, text="the", target=9000, source=0, tokens=["the", "Ġbig"], word_ids=[0, 1],
                   words=["the", "big"], step=step)
    run = RunResult(model={"vocabulary": 50257}, examples=[unit],
                    attributions={"saliency": {0: Attribution("saliency", 0, [0.1, 0.2], [0.1, 0.2])}})
    built = tables.tables(run)
    assert built["examples"].to_pylist()[0]["label"] is None
    assert {row["target"] for row in built["attributions"].to_pylist()} == {"Ġcat"}


def test_multi_label_units_carry_their_labels_by_name():
    units = [Example(index=i, text="a film", source=0, target=i, labels=[0, 2], predicted=[2],
                     probabilities=[0.2, 0.4, 0.9]) for i in range(3)]
    rows = tables.tables(RunResult(model={"labels": ["acting", "plot", "music"]}, examples=units))["examples"]
    assert [(r["example"], r["row"], r["labels"], r["predicted"], r["label"]) for r in rows.to_pylist()] == [
        (i, 0, ["acting", "music"], ["music"], None) for i in range(3)]


def test_the_row_schemas_name_the_columns_of_the_tables():
    folder = schema.SCHEMAS / f"v{store.FORMAT_VERSION}" / "tables"
    for name in tables.NAMES:
        path = folder / f"{name}.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        assert list(document["properties"]) == document["required"] == tables.SCHEMAS[name].names
