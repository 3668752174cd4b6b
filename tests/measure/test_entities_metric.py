"""The entities metric of token classification: entity precision, recall and F1 against seqeval's own (default,
conlleval) figures, word accuracy by hand, its result against its schema, and its panel keeping type names data."""

from __future__ import annotations

import json
import random

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities as seqeval_entities

from reportgen.measure import metrics
from reportgen.measure.entities import get_entities
from reportgen.ops.numbers import jsonable
from reportgen.results import schema, store
from reportgen.results.records import Example, RunResult

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def tagged(index, true, predicted, error=None, names=TAGS):
    """An example of ``len(true)`` words with its true and predicted tag names (None: no tag)."""
    ids = [None if t is None else names.index(t) for t in (predicted or [])]
    return Example(index=index, text=" ".join(f"w{i}" for i in range(len(true or predicted or []))),
                   words=[f"w{i}" for i in range(len(true or predicted or []))], error=error,
                   tags=None if true is None else [names.index(t) for t in true],
                   predicted_tags=None if predicted is None or error else ids)


ROWS = [
    # exact match of PER; LOC predicted one word too long; a MISC that is I- after O in both
    (["B-PER", "I-PER", "O", "B-LOC", "O", "I-MISC"], ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-MISC"]),
    # a type change inside I- tags; B- after B-; the last word truncated away (no prediction: O)
    (["I-PER", "I-LOC", "B-LOC", "B-LOC", "O"], ["I-PER", "I-LOC", "B-LOC", "I-LOC", None]),
    # no entity in the data, two predicted
    (["O", "O", "O"], ["B-MISC", "O", "I-PER"]),
    # a PER missed, a LOC found
    (["B-PER", "O", "B-LOC", "I-LOC"], ["O", "O", "B-LOC", "I-LOC"]),
]


def entity_run() -> RunResult:
    examples = [tagged(i, true, predicted) for i, (true, predicted) in enumerate(ROWS)]
    examples.append(tagged(4, None, ["B-PER", "O"]))  # unlabeled: not scored
    examples.append(tagged(5, ["B-PER"], None, error="text is empty"))  # failed
    examples.append(tagged(6, ["O", "O"], None))  # no prediction recorded
    return RunResult(model={"labels": TAGS}, examples=examples)


def compute(run):
    return metrics.get("entities")().compute(run, None)


def seqeval_figures(rows):
    true = [list(t) for t, _ in rows]
    predicted = [["O" if p is None else p for p in guess] for _, guess in rows]
    report = classification_report(true, predicted, output_dict=True, zero_division=0)
    return true, predicted, report


def assert_agrees_with_seqeval(result, rows):
    true, predicted, report = seqeval_figures(rows)
    types = {row["type"]: row for row in result["types"]}
    assert set(types) == set(report) - {"micro avg", "macro avg", "weighted avg"}
    for kind, row in types.items():
        assert row["precision"] == approx(report[kind]["precision"]), kind
        assert row["recall"] == approx(report[kind]["recall"]), kind
        assert row["f1"] == approx(report[kind]["f1-score"]), kind
        assert row["support"] == report[kind]["support"], kind
    for average in ("micro", "macro", "weighted"):
        for key, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert result[average][key] == approx(report[f"{average} avg"][theirs]), (average, key)
    assert result["micro"]["f1"] == approx(f1_score(true, predicted, zero_division=0))
    assert result["macro"]["f1"] == approx(f1_score(true, predicted, average="macro", zero_division=0))
    assert result["micro"]["precision"] == approx(precision_score(true, predicted, zero_division=0))
    assert result["micro"]["recall"] == approx(recall_score(true, predicted, zero_division=0))


def test_entities_agree_with_seqeval_on_crafted_rows():
    result = compute(entity_run())
    assert_agrees_with_seqeval(result, ROWS)


def test_entities_by_hand():
    result = compute(entity_run())
    types = {row["type"]: row for row in result["types"]}
    # PER: true (0,0-2) (1,0-1) (3,0-1); predicted (0,0-2) (1,0-1) (2,2-3)
    assert (types["PER"]["support"], types["PER"]["predicted"], types["PER"]["correct"]) == (3, 3, 2)
    # LOC: true (0,3-4) (1,1-2) (1,2-3) (1,3-4) (3,2-4); predicted (0,3-5) (1,1-2) (1,2-4) (3,2-4)
    assert (types["LOC"]["support"], types["LOC"]["predicted"], types["LOC"]["correct"]) == (5, 4, 2)
    assert types["LOC"]["f1"] == approx(2 * 2 / 9)
    # MISC: true (0,5-6); predicted (0,5-6) (2,0-1)
    assert (types["MISC"]["support"], types["MISC"]["predicted"], types["MISC"]["correct"]) == (1, 2, 1)
    assert result["micro"] == {"support": 9, "predicted": 9, "correct": 5, "precision": approx(5 / 9),
                               "recall": approx(5 / 9), "f1": approx(5 / 9)}
    assert [row["type"] for row in result["types"]] == ["LOC", "MISC", "PER"]


def test_word_accuracy_and_counts_by_hand():
    result = compute(entity_run())
    # row 0: 5 of 6 (w4 O vs I-LOC); row 1: 4 of 5 (w3 B-LOC vs I-LOC; w4 O vs none = O); row 2: 1 of 3; row 3: 3 of 4
    assert result["words"] == {"words": 18, "correct": 13, "accuracy": approx(13 / 18)}
    assert result["counts"] == {"rows": 7, "scored": 4, "failed": 1, "unlabeled": 1, "unanswered": 1}
    assert "seqeval" in result["definition"] and set(result["definitions"]) == {
        "entities", "scores", "averages", "accuracy", "rows"}


def test_a_run_without_any_entity_has_no_averages():
    run = RunResult(model={"labels": TAGS}, examples=[tagged(0, ["O", "O"], ["O", None])])
    result = compute(run)
    assert result["types"] == [] and result["micro"]["f1"] is None and result["macro"]["f1"] is None
    assert result["weighted"]["f1"] is None and result["words"]["accuracy"] == 1.0
    assert compute(RunResult(model={"labels": TAGS}))["words"] == {"words": 0, "correct": 0, "accuracy": None}


def test_predicted_entities_of_a_type_the_data_lacks_weigh_nothing_in_the_weighted_average():
    result = compute(RunResult(model={"labels": TAGS}, examples=[tagged(0, ["O", "O"], ["B-PER", "O"])]))
    assert result["types"][0]["precision"] == 0 and result["micro"]["f1"] == 0.0
    assert result["weighted"]["f1"] is None and result["macro"]["f1"] == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_entities_agree_with_seqeval_on_random_iob2_rows(seed):
    rng = random.Random(seed)
    rows = []
    for _ in range(40):
        n = rng.randint(0, 12)
        true = [rng.choice(TAGS) for _ in range(n)]
        guess = [t if rng.random() < 0.6 else rng.choice(TAGS + [None]) for t in true]
        rows.append((true, guess))
    run = RunResult(model={"labels": TAGS}, examples=[tagged(i, t, p) for i, (t, p) in enumerate(rows)])
    assert_agrees_with_seqeval(compute(run), rows)


IOBES = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]


@pytest.mark.parametrize("seed", range(5))
def test_entities_of_iobes_tags_are_seqevals(seed):
    rng = random.Random(seed)
    for _ in range(200):
        tags = [rng.choice(IOBES) for _ in range(rng.randint(0, 10))]
        assert get_entities(tags) == [(kind, start, end + 1) for kind, start, end in seqeval_entities(tags)], tags


def test_unprefixed_tags_are_types_of_their_own():
    assert get_entities(["NN", "NN", "VB", "O", "NN"]) == [("NN", 0, 2), ("VB", 2, 3), ("NN", 4, 5)]
    assert get_entities(["B-PER", "PER"]) == [("PER", 0, 2)]  # the bare type continues as I-PER would (and the pipeline)


def test_a_tag_id_beyond_the_models_names_is_a_type_named_by_its_id():
    run = RunResult(model={"labels": TAGS}, examples=[Example(0, "a b", tags=[1, 9], predicted_tags=[1, 9])])
    assert [row["type"] for row in compute(run)["types"]] == ["9", "PER"]


# ----------------------------------------------------------------------------- schema and presentation


def validator():
    """A validator of the entities metric's entry, its references resolved among the format's schemas."""
    folder = schema.SCHEMAS / f"v{store.FORMAT_VERSION}"
    base = schema.BASE_URI.format(version=store.FORMAT_VERSION)
    registry = Registry().with_resources(
        (base + path.relative_to(folder).as_posix(), Resource.from_contents(json.loads(path.read_text())))
        for path in folder.rglob("*.json"))
    return Draft202012Validator({"$ref": base + "metrics/entities.json"}, registry=registry)


def entry(result):
    return {"description": "d", "params": {}, "result": jsonable(result), "seconds": 0.0}


@pytest.mark.parametrize("make", [entity_run, lambda: RunResult(model={"labels": TAGS})])
def test_the_result_passes_its_schema(make):
    document = json.loads(json.dumps(entry(compute(make())), allow_nan=False))
    errors = list(validator().iter_errors(document))
    assert not errors, errors[0].message


@pytest.mark.parametrize("tamper", [
    lambda r: r.pop("types"),
    lambda r: r["types"][0].update(f1=1.5),
    lambda r: r["micro"].update(support=-1),
    lambda r: r["counts"].pop("unanswered"),
    lambda r: r["words"].update(accuracy="all"),
    lambda r: r["types"][0].update(type=3),
])
def test_the_schema_refuses_a_tampered_result(tamper):
    document = entry(compute(entity_run()))
    tamper(document["result"])
    assert list(validator().iter_errors(document))


HOSTILE = ["</script><script>alert(1)</script>", "' + alert(1) + '", "datum.x || alert(1)", "{{7*7}}",
           "\u202eevil", "__proto__"]


def hostile_run():
    names = ["O"] + [f"{prefix}-{kind}" for kind in HOSTILE for prefix in "BI"]
    rows = [([f"B-{kind}", f"I-{kind}", "O", f"B-{kind}"], [f"B-{kind}", f"I-{kind}", "O", "O"]) for kind in HOSTILE]
    return RunResult(model={"labels": names}, examples=[tagged(i, t, p, names=names) for i, (t, p) in enumerate(rows)])


def strings_outside_data(spec):
    """Every string of a Vega-Lite spec except its data values."""
    stack, found = [{k: v for k, v in spec.items() if k != "data"}], []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            found.append(item)
    return found


def test_the_panel_keeps_hostile_type_names_as_data():
    result = compute(hostile_run())
    panel = metrics.get("entities").present(result)
    assert sorted(value["type"] for value in panel.chart["data"]["values"]) == sorted(HOSTILE)
    outside = " ".join(strings_outside_data(panel.chart))
    assert not any(kind in outside for kind in HOSTILE)
    assert "expr" not in json.dumps(panel.chart) and "calculate" not in json.dumps(panel.chart)
    assert [row["type"] for row in panel.table.rows[:-2]] == sorted(HOSTILE)
    assert [row["f1"] for row in panel.table.rows[:-2]] == [approx(2 / 3)] * len(HOSTILE)
    assert panel.table.rows[-2]["type"] == "all types (micro)" and panel.definitions == result["definitions"]


def test_a_run_without_entities_shows_a_table_and_no_chart():
    panel = metrics.get("entities").present(compute(RunResult(model={"labels": TAGS})))
    assert panel.chart is None and panel.table.rows == []


def test_the_metric_is_for_token_classification_in_the_performance_section():
    cls = metrics.get("entities")
    assert cls.tasks == ("token_classification",) and cls.section == "performance" and cls.title
    assert not cls.needs_model
