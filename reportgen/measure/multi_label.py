"""Multi-label quality: each label a yes/no decision at the run's threshold, counted over the input rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ReportgenError
from ..ops.numbers import sig
from ..ops.params import Whole
from ..results.queries import input_rows
from ..results.records import Example, RunResult
from .base import Column, Metric, Panel, Table, defined, metrics

DEFINITIONS = {
    "rows": (
        "Counted per input row, never per explanation: a row explained for three labels counts once. A row is "
        "scored when it has a list of true labels (possibly empty) and the model answered; failed and unlabeled "
        "rows are left out. A label is predicted when its sigmoid probability reaches the run's threshold."
    ),
    "per_label": (
        "Per label, over the scored rows: support = rows with the label, predicted = rows the model gives it, "
        "precision = true positives / predicted, recall = true positives / support, F1 = 2PR / (P + R); a "
        "ratio whose denominator is 0 is given as 0 (scikit-learn's zero_division=0); with no scored row at all "
        "none of them is measured."
    ),
    "overall": (
        "micro precision, recall and F1 pool the true positives, predictions and supports of every label; "
        "macro-F1 is the unweighted mean of the per-label F1. Subset accuracy = share of rows whose predicted "
        "set equals the true set exactly (standard error sqrt(a(1-a)/n)); Hamming loss = share of (row, label) "
        "decisions that are wrong. Label cardinality = mean true labels per row; predicted cardinality = mean "
        "predicted labels per row."
    ),
    "calibration": (
        "Per label, its probability against its 0/1 truth over the scored rows: expected calibration error = "
        "sum over equal-width probability bins of (rows in bin / rows) x |mean probability - share true| "
        "(bins: the metric's 'bins', the last one closed), and the Brier score = mean (probability - truth)^2."
    ),
}


DEFAULT_THRESHOLD = 0.5  # --threshold's default, for results that do not record it


@metrics.register
class MultiLabelQuality(Metric):
    name = "multi_label"
    order = 10
    description = ("Per-label precision, recall, F1, support and calibration; micro- and macro-F1, subset accuracy "
                   "and Hamming loss of a multi-label model, over the input rows.")
    parameters = {"bins": Whole(10, low=1, high=1000)}
    section = "performance"
    title = "Multi-label quality: every label a decision of its own"
    tasks = ("multi_label",)

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        rows = input_rows(run)
        scored = [ex for ex in rows if ex.ok and ex.labels is not None and ex.predicted is not None]
        names = [str(name) for name in run.labels]
        truth, predicted, probabilities = _matrices(scored, len(names))
        per_label = [self._label(names[j], j, truth[:, j], predicted[:, j], probabilities[:, j])
                     for j in range(len(names))]
        counts = {"rows": len(rows), "scored": len(scored), "failed": sum(not ex.ok for ex in rows),
                  "unlabeled": sum(ex.ok and ex.labels is None for ex in rows)}
        return {**defined(DEFINITIONS), "threshold": run.config.get("threshold", DEFAULT_THRESHOLD), "counts": counts,
                "per_label": per_label, "overall": _overall(truth, predicted, per_label)}

    def _label(self, name: str, label_id: int, truth: np.ndarray, predicted: np.ndarray,
               probabilities: np.ndarray) -> dict[str, Any]:
        hits, rows = int((truth & predicted).sum()), len(truth)
        precision, recall = _ratio(hits, int(predicted.sum()), rows), _ratio(hits, int(truth.sum()), rows)
        return {"label": name, "label_id": label_id, "support": int(truth.sum()), "predicted": int(predicted.sum()),
                "true_positives": hits, "precision": precision, "recall": recall, "f1": _f1(precision, recall),
                "ece": expected_calibration_error(probabilities, truth, int(self.params["bins"])),
                "brier": float(np.mean((probabilities - truth) ** 2)) if len(truth) else None,
                "mean_probability": float(probabilities.mean()) if len(truth) else None,
                "positive_rate": float(truth.mean()) if len(truth) else None}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        definitions = {name: result["definitions"][name] for name in DEFINITIONS}
        if not result["counts"]["scored"]:  # nothing measured: the section says why, no table of zeros
            return Panel(definitions=definitions)
        return Panel(Table(COLUMNS, result["per_label"], css="multi-label"), label_chart(result["per_label"]),
                     "bar chart of each label's precision, recall and F1", definitions)


COLUMNS = [
    Column("label", "label", "name"),
    Column("support", "support", "count"),
    Column("predicted", "predicted", "count"),
    Column("precision", "precision"),
    Column("recall", "recall"),
    Column("F1", "f1"),
    Column("ECE", "ece"),
    Column("Brier", "brier"),
]


def _matrices(rows: list[Example], n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows x labels: the true labels and the predicted ones (booleans), and the probabilities."""
    truth = np.zeros((len(rows), n_labels), dtype=bool)
    predicted = np.zeros((len(rows), n_labels), dtype=bool)
    probabilities = np.zeros((len(rows), n_labels), dtype=np.float64)
    for i, ex in enumerate(rows):
        _check(ex, n_labels)
        truth[i, ex.labels] = True
        predicted[i, ex.predicted] = True
        probabilities[i] = ex.probabilities
    return truth, predicted, probabilities


def _check(ex: Example, n_labels: int) -> None:
    """Refuse a row whose label ids or probabilities do not fit the model's labels (results read back are
    untrusted; a label silently dropped would change every figure)."""
    ids = [*ex.labels, *ex.predicted]
    if any(not 0 <= j < n_labels for j in ids) or len(ex.probabilities or []) != n_labels:
        raise ReportgenError(f"row {ex.row} does not fit the model's {n_labels} labels (label ids "
                             f"{sorted(set(ids))}, {len(ex.probabilities or [])} probabilities)")


def _overall(truth: np.ndarray, predicted: np.ndarray, per_label: list[dict[str, Any]]) -> dict[str, Any]:
    rows = len(truth)
    hits, guesses, support = int((truth & predicted).sum()), int(predicted.sum()), int(truth.sum())
    precision, recall = _ratio(hits, guesses, rows), _ratio(hits, support, rows)
    exact = float(np.all(truth == predicted, axis=1).mean()) if rows else None
    return {
        "rows": rows,
        "micro_precision": precision, "micro_recall": recall, "micro_f1": _f1(precision, recall),
        "macro_f1": float(np.mean([row["f1"] for row in per_label])) if rows and per_label else None,
        "subset_accuracy": exact,
        "subset_accuracy_se": math.sqrt(exact * (1 - exact) / rows) if rows > 1 else None,
        "hamming_loss": float((truth != predicted).mean()) if truth.size else None,
        "label_cardinality": float(truth.sum(axis=1).mean()) if rows else None,
        "predicted_cardinality": float(predicted.sum(axis=1).mean()) if rows else None,
    }


def _ratio(part: int, whole: int, rows: int) -> float | None:
    """part / whole, 0 when whole is 0 (zero_division=0); None when no row is scored."""
    if not rows:
        return None
    return part / whole if whole else 0.0


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int) -> float | None:
    """ECE of one label's probabilities against its 0/1 truth over equal-width bins (the last one closed)."""
    if not len(truth):
        return None
    where = np.minimum((probabilities * bins).astype(int), bins - 1)
    gap = 0.0
    for b in np.unique(where):
        inside = where == b
        gap += inside.mean() * abs(probabilities[inside].mean() - truth[inside].mean())
    return float(gap)


def label_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per label, three bars: precision, recall and F1 (label names only ever as data)."""
    measures = ("precision", "recall", "F1")
    values = [{"label": row["label"], "o": i, "measure": measure, "mo": m,
               "value": sig(row["f1" if measure == "F1" else measure], 3), "support": row["support"]}
              for i, row in enumerate(rows) for m, measure in enumerate(measures)]
    return {
        "data": {"values": values},
        "width": 300,
        "height": {"step": 10},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "label", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
                  "axis": {"labelLimit": 200}},
            "yOffset": {"field": "measure", "type": "nominal", "sort": list(measures)},
            "x": {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": None},
            "color": {"field": "measure", "type": "nominal", "sort": list(measures),
                      "scale": {"domain": list(measures), "range": ["#4c78a8", "#f58518", "#54a24b"]},
                      "legend": {"title": None, "orient": "bottom"}},
            "tooltip": [
                {"field": "label", "type": "nominal"},
                {"field": "measure", "type": "nominal"},
                {"field": "value", "type": "quantitative", "format": ".3f"},
                {"field": "support", "type": "quantitative", "title": "rows with the label"},
            ],
        },
        "config": {"view": {"stroke": None}},
    }
