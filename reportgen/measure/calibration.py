"""Whether the model's confidence matches its accuracy: ECE, reliability curve, Brier score."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.params import Whole
from ..results.queries import example_counts, group_name, groups_of, scored
from ..results.records import Example, RunResult
from .base import Metric, metrics

MAX_BINS = 1000  # every bin is a row of the results and a point of the reliability chart

DEFINITION = (
    "Over the examples that have a label and a prediction. Confidence = the predicted class's "
    "probability (the largest). The interval [0, 1] is cut into n_bins equal-width bins "
    "(lower, upper], the first also holding 0. Per bin: count, accuracy (share predicted "
    "correctly), confidence (mean confidence), gap = confidence - accuracy (positive: "
    "over-confident). ECE (expected calibration error, Guo et al. 2017) = sum over bins of "
    "count/n * |accuracy - confidence|; MCE = the largest |accuracy - confidence| over non-empty "
    "bins; Brier score = mean over examples of sum over classes of (probability - 1[class is the "
    "label])^2. The reliability curve plots accuracy against confidence for the non-empty bins "
    "(empty bins have null accuracy and confidence). Per-group figures use the same bins on the "
    "examples of each group."
)


@metrics.register
class Calibration(Metric):
    name = "calibration"
    order = 20
    description = "Expected calibration error with its bins (reliability curve), MCE and Brier score, overall and per group."
    parameters = {"n_bins": Whole(10, low=1, high=MAX_BINS)}

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        n_bins = int(self.params["n_bins"])
        examples = [ex for ex in scored(run) if ex.probabilities]
        overall, bins = calibrate(examples, n_bins)
        result: dict[str, Any] = {
            "definition": DEFINITION,
            "n_bins": n_bins,
            "counts": example_counts(run),
            **overall,
            "bins": bins,
            "groups": [],
            "group_bins": [],
        }
        for group in groups_of(run.examples) or []:
            members = [ex for ex in examples if group_name(ex.group) == group]
            summary, group_bins = calibrate(members, n_bins)
            result["groups"].append({"group": group, **summary})
            result["group_bins"] += [{"group": group, **row} for row in group_bins]
        return result


def calibrate(examples: list[Example], n_bins: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Summary (examples, accuracy, mean confidence, ECE, MCE, Brier) and per-bin records."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    confidence = np.array([ex.probabilities[ex.prediction] for ex in examples], dtype=np.float64)
    correct = np.array([ex.prediction == ex.label for ex in examples], dtype=np.float64)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    n = len(examples)
    bins, ece, mce = [], 0.0, None
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        row = {"bin": b, "lower": float(edges[b]), "upper": float(edges[b + 1]), "count": count,
               "accuracy": None, "confidence": None, "gap": None}
        if count:
            acc, conf = float(correct[inside].mean()), float(confidence[inside].mean())
            row.update(accuracy=acc, confidence=conf, gap=conf - acc)
            ece += count / n * abs(acc - conf)
            mce = abs(acc - conf) if mce is None else max(mce, abs(acc - conf))
        bins.append(row)
    brier = float(np.mean([brier_score(ex) for ex in examples])) if n else None
    summary = {
        "examples": n,
        "accuracy": float(correct.mean()) if n else None,
        "mean_confidence": float(confidence.mean()) if n else None,
        "ece": float(ece) if n else None,
        "mce": mce,
        "brier": brier,
    }
    return summary, bins


def brier_score(ex: Example) -> float:
    """sum over classes of (p_k - 1[k is the label])^2, in one pass over the example's probabilities
    (a model with 10,000 classes makes it 10,000 terms per example)."""
    probabilities = np.asarray(ex.probabilities, dtype=np.float64)
    labeled = probabilities[ex.label] if 0 <= ex.label < len(probabilities) else 0.0
    return float(np.dot(probabilities, probabilities) - 2 * labeled + 1)
