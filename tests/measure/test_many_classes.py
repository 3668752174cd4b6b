"""Models with more classes than the tables list: per-class rows and confusion cells stay bounded, totals exact."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from reportgen.measure import metrics
from reportgen.measure.performance import MAX_CLASSES, OTHER
from reportgen.results.records import Attribution, Example, MethodInfo, RunResult

N_CLASSES = 60


def many_class_run() -> RunResult:
    """90 scored examples over 45 of 60 classes: classes 0-9 have 4 labels each, 10-24 two and 25-44 one; a
    third of the predictions are wrong, some of them between two classes that are not listed."""
    rng = np.random.default_rng(3)
    labels = [c for c in range(10) for _ in range(4)] + list(range(10, 45)) + list(range(10, 25))
    examples = []
    for i, label in enumerate(labels):
        prediction = label if i % 3 else int(rng.integers(0, N_CLASSES))
        probabilities = rng.dirichlet(np.ones(N_CLASSES))
        probabilities[[prediction, int(np.argmax(probabilities))]] = probabilities[
            [int(np.argmax(probabilities)), prediction]]
        examples.append(Example(index=i, text="", label=label, prediction=prediction, target=prediction,
                                group="odd" if i % 2 else "even", words=["w", "x", "w"],
                                probabilities=probabilities.tolist()))
    run = RunResult(model={"labels": [f"c{k}" for k in range(N_CLASSES)]}, examples=examples)
    run.methods["m"] = MethodInfo("m")
    for ex in examples:
        run.add(Attribution("m", ex.index, [], [1.0, 0.5, 1.0]))
    return run


def compute(name: str, run: RunResult, **params):
    return metrics.get(name)(**params).compute(run, None)


def test_per_class_rows_and_confusion_cells_are_bounded():
    result = compute("performance", many_class_run())
    assert len(result["per_class"]) == MAX_CLASSES + 1
    assert result["per_class"][-1]["class"] == OTHER and result["per_class"][-1]["class_id"] is None
    assert result["per_class"][-1]["folded_classes"] == N_CLASSES - MAX_CLASSES
    assert len(result["confusion"]) <= (MAX_CLASSES + 1) ** 2 and all(c["count"] > 0 for c in result["confusion"])
    assert result["classes"] == N_CLASSES and result["class_limit"] == MAX_CLASSES
    assert result["folded_classes"] == N_CLASSES - MAX_CLASSES and len(result["listed_classes"]) == MAX_CLASSES
    assert result["listed_classes"] == [row["class"] for row in result["per_class"][:-1]]
    # the ten classes with 4 labels each come first
    assert {row["class_id"] for row in result["per_class"][:10]} == set(range(10))
    for group in ("odd", "even"):
        assert len([r for r in result["group_per_class"] if r["group"] == group]) == MAX_CLASSES + 1


def test_totals_are_exact_when_classes_are_folded():
    run = many_class_run()
    result = compute("performance", run)
    y = [ex.label for ex in run.examples]
    p = [ex.prediction for ex in run.examples]
    assert result["overall"]["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert result["overall"]["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    assert sum(row["support"] for row in result["per_class"]) == len(y)
    assert sum(row["predicted"] for row in result["per_class"]) == len(y)
    assert sum(cell["count"] for cell in result["confusion"]) == len(y)
    listed = {row["class_id"] for row in result["per_class"][:-1]}
    other = result["per_class"][-1]
    folded_true = [(t, q) for t, q in zip(y, p) if t not in listed]
    folded_predicted = [(t, q) for t, q in zip(y, p) if q not in listed]
    hits = sum(t == q for t, q in folded_true)  # a label and a prediction that are two unlisted classes: a miss
    assert other["support"] == len(folded_true) and other["predicted"] == len(folded_predicted)
    assert other["recall"] == pytest.approx(hits / len(folded_true))
    assert other["precision"] == pytest.approx(hits / len(folded_predicted))
    corner = [c for c in result["confusion"] if c["true_id"] is None and c["predicted_id"] is None]
    assert corner[0]["count"] == sum(q not in listed for _, q in folded_true)
    for group in ("odd", "even"):
        members = [ex for ex in run.examples if ex.group == group]
        row = next(g for g in result["groups"] if g["group"] == group)
        gy, gp = [ex.label for ex in members], [ex.prediction for ex in members]
        assert row["accuracy"] == pytest.approx(accuracy_score(gy, gp))
        assert row["macro_f1"] == pytest.approx(f1_score(gy, gp, average="macro", zero_division=0))


def test_brier_score_over_many_classes_matches_its_definition():
    run = many_class_run()
    result = compute("calibration", run)
    expected = np.mean([sum((p - (k == ex.label)) ** 2 for k, p in enumerate(ex.probabilities))
                        for ex in run.examples])
    assert result["brier"] == pytest.approx(expected)


def test_top_words_list_at_most_the_bound_of_classes():
    result = compute("top_words", many_class_run(), min_count=1)
    listed = {row["class_id"] for row in result["words"]}
    assert len(listed) == MAX_CLASSES and listed >= set(range(10))
    assert result["classes"] == N_CLASSES and len(result["listed_classes"]) == MAX_CLASSES
    assert f"This model has {N_CLASSES} classes" in result["definition"]


def test_few_classes_are_all_listed_without_an_other_row():
    run = many_class_run()
    run.model["labels"] = run.model["labels"][:2]
    for ex in run.examples:
        ex.label, ex.prediction, ex.target = ex.label % 2, ex.prediction % 2, ex.prediction % 2
    result = compute("performance", run)
    assert [row["class"] for row in result["per_class"]] == ["c0", "c1"]
    assert result["folded_classes"] == 0 and OTHER not in result["definition"]
    assert {(c["true_id"], c["predicted_id"]) for c in result["confusion"]} <= {(0, 0), (0, 1), (1, 0), (1, 1)}
