"""How well the model classifies: accuracy, F1, confusion matrix, overall and per group."""

from __future__ import annotations

from typing import Any

from ..ops.stats import mean, ratio
from ..results.queries import class_names, example_counts, group_name, groups_of, scored
from ..results.records import Example, RunResult
from .base import Metric, metrics

DEFINITION = (
    "Computed over the examples that have both a label and a prediction (failed examples have no "
    "prediction and are counted separately). Accuracy = correct / examples. For class c: "
    "precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), support = number of examples "
    "labeled c; a ratio whose denominator is 0 is 0 (scikit-learn's zero_division=0), and a class "
    "that occurs neither among the labels nor among the predictions has null scores. Macro-F1 = "
    "unweighted mean of F1 over the classes that occur among the labels or the predictions "
    "(scikit-learn's default). Confusion matrix: count of examples per (true label, predicted "
    "class); share_of_true = count / support of the true class. Per-group figures use the same "
    "definitions on the examples of each group."
)


@metrics.register
class Performance(Metric):
    name = "performance"
    order = 10
    description = ("Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix, "
                   "overall and per group.")
    defaults: dict[str, Any] = {}

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        labels = class_names(run)
        examples = scored(run)
        result: dict[str, Any] = {
            "definition": DEFINITION,
            "labels": labels,
            "counts": example_counts(run),
            "overall": summary(examples, labels),
            "per_class": per_class(examples, labels),
            "confusion": confusion(examples, labels),
            "groups": [],
            "group_per_class": [],
            "group_confusion": [],
        }
        names = groups_of(run.examples)
        for group in names or []:
            members = [ex for ex in examples if group_name(ex.group) == group]
            everyone = [ex for ex in run.examples if group_name(ex.group) == group]
            row = {"group": group, **summary(members, labels)}
            row["failed"] = sum(ex.error is not None for ex in everyone)
            result["groups"].append(row)
            result["group_per_class"] += [{"group": group, **r} for r in per_class(members, labels)]
            result["group_confusion"] += [{"group": group, **r} for r in confusion(members, labels)]
        return result


def summary(examples: list[Example], labels: list[str]) -> dict[str, Any]:
    correct = sum(ex.prediction == ex.label for ex in examples)
    scores = [row["f1"] for row in per_class(examples, labels) if row["f1"] is not None]
    return {
        "examples": len(examples),
        "correct": correct,
        "accuracy": ratio(correct, len(examples)) if examples else None,
        "macro_f1": mean(scores),
    }


def per_class(examples: list[Example], labels: list[str]) -> list[dict[str, Any]]:
    rows = []
    for c, name in enumerate(labels):
        tp = sum(ex.label == c and ex.prediction == c for ex in examples)
        support = sum(ex.label == c for ex in examples)
        predicted = sum(ex.prediction == c for ex in examples)
        row = {"class": name, "class_id": c, "support": support, "predicted": predicted,
               "precision": None, "recall": None, "f1": None}
        if support or predicted:
            precision, recall = ratio(tp, predicted), ratio(tp, support)
            row.update(precision=precision, recall=recall, f1=ratio(2 * precision * recall, precision + recall))
        rows.append(row)
    return rows


def confusion(examples: list[Example], labels: list[str]) -> list[dict[str, Any]]:
    rows = []
    for t, true_name in enumerate(labels):
        support = sum(ex.label == t for ex in examples)
        for p, pred_name in enumerate(labels):
            count = sum(ex.label == t and ex.prediction == p for ex in examples)
            rows.append({"true": true_name, "predicted": pred_name, "true_id": t, "predicted_id": p,
                         "count": count, "share_of_true": ratio(count, support) if support else None})
    return rows
