"""The plausibility statistic: AUPRC as scikit-learn computes it, the edge cases of one example, and what its panel
says with and without rationales (the hand-checked numbers are in test_metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.measure import metrics
from reportgen.measure.plausibility import CAUTION, NO_COLUMN, NONE_USABLE, average_precision, example_plausibility
from reportgen.results.records import Attribution, Example, MethodInfo, RunResult


def test_average_precision_is_scikit_learns_with_ties_and_nan_last():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(1, 12))
        scores = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.normal(size=n)  # ties half the time
        mask = rng.random(n) < 0.4
        if not mask.any():
            mask[int(rng.integers(n))] = True
        marked = set(np.flatnonzero(mask).tolist())
        assert average_precision(scores, marked) == pytest.approx(sklearn.average_precision_score(mask, scores))
    # NaN ranks last, as the lowest score would
    scores = np.array([np.nan, 0.5, 0.1])
    assert average_precision(scores, {0}) == pytest.approx(
        sklearn.average_precision_score([1, 0, 0], [-1.0, 0.5, 0.1]))


def test_one_example_at_the_edges():
    every = example_plausibility(np.array([0.1, 0.2, 0.3]), [0, 1, 2])  # the rationale is every word
    assert every == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0, "auprc": 1.0}
    best = example_plausibility(np.array([0.0, 5.0, 4.0, -1.0]), [2, 1])  # the top 2 are the rationale
    assert best == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0, "auprc": 1.0}
    worst = example_plausibility(np.array([3.0, 2.0, 1.0]), [2])  # the rationale's word ranks last: AP 1/3
    assert worst == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "iou": 0.0, "auprc": pytest.approx(1 / 3)}
    constant = example_plausibility(np.zeros(4), [3])  # no ranking: the top 1 is the first word; AP the base rate
    assert constant["f1"] == 0.0 and constant["auprc"] == pytest.approx(0.25)


def run_with(examples: list[Example], dataset: dict | None = None) -> RunResult:
    run = RunResult(model={"labels": ["negative", "positive"]}, examples=examples, dataset=dataset or {})
    run.methods["m"] = MethodInfo("m")
    for ex in examples:
        run.add(Attribution("m", ex.index, [], [float(i) for i in range(len(ex.words))]))
    return run


def example(index: int, **fields) -> Example:
    return Example(index=index, text="a b", words=["a", "b"], label=1, prediction=1, target=1,
                   probabilities=[0.4, 0.6], **fields)


def panel(run: RunResult):
    cls = metrics.get("plausibility")
    return cls.present(cls().compute(run, None))


def test_a_run_without_rationales_says_so():
    result = metrics.get("plausibility")().compute(run_with([example(0), example(1)]), None)
    assert result["methods"] == [] and result["column"] is None and result["rationales"] == 0
    shown = panel(run_with([example(0)]))
    assert shown.table is None and shown.note == NO_COLUMN and "--rationale-column" in shown.note


def test_a_column_without_a_usable_rationale_counts_what_it_read():
    run = run_with([example(0, rationale=[]), example(1, rationale_error="the rationale's word index 9 is beyond"),
                    example(2)], {"rationale_column": "why"})
    shown = panel(run)
    assert shown.table is None
    assert shown.note == ("1 row has a human rationale (1 marking no word, left out); 1 more was not read, being "
                          "malformed, and is left out (row 1: the rationale's word index 9 is beyond). " + NONE_USABLE)


def test_the_panel_lists_each_method_beside_the_caution():
    run = run_with([example(0, rationale=[1]), example(1, rationale=[0]), example(2, rationale=[5])],
                   {"rationale_column": "why"})
    result = metrics.get("plausibility")().compute(run, None)
    (row,) = result["methods"]
    assert row["examples"] == 2  # example 2's rationale names a word it does not have (a tampered result)
    assert row["f1"] == 0.5 and row["auprc"] == pytest.approx(0.75)  # (1 + 1/2) / 2
    shown = metrics.get("plausibility").present(result)
    assert shown.table.rows == result["methods"] and shown.note.endswith(CAUTION)
    assert [c.key for c in shown.table.columns][2:4] == ["f1", "f1_se"]
