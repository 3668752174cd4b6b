"""How well the model classifies: accuracy, F1, confusion matrix, overall and per group."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable

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
    "class), only the pairs that occur; share_of_true = count / support of the true class. "
    "Per-group figures use the same definitions on the examples of each group."
)
MAX_CLASSES = 20  # classes listed one by one in the per-class tables and the confusion matrix
OTHER = "(other classes)"  # the one row and column the classes beyond MAX_CLASSES are folded into


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
        listed = listed_classes(examples, len(labels))
        result: dict[str, Any] = {
            "definition": DEFINITION + folding_definition(len(labels), len(listed)),
            "class_limit": MAX_CLASSES,
            "classes": len(labels),
            "listed_classes": [labels[c] for c in listed],
            "folded_classes": len(labels) - len(listed),
            "counts": example_counts(run),
            "overall": summary(examples),
            "per_class": per_class(examples, labels, listed),
            "confusion": confusion(examples, labels, listed),
            "groups": [],
            "group_per_class": [],
            "group_confusion": [],
        }
        names = groups_of(run.examples)
        for group in names or []:
            members = [ex for ex in examples if group_name(ex.group) == group]
            everyone = [ex for ex in run.examples if group_name(ex.group) == group]
            row = {"group": group, **summary(members)}
            row["failed"] = sum(ex.error is not None for ex in everyone)
            result["groups"].append(row)
            result["group_per_class"] += [{"group": group, **r} for r in per_class(members, labels, listed)]
            result["group_confusion"] += [{"group": group, **r} for r in confusion(members, labels, listed)]
        return result


def folding_definition(n_classes: int, n_listed: int) -> str:
    if n_classes == n_listed:
        return ""
    return (f" This model has {n_classes:,} classes: the per-class tables and the confusion matrix list "
            f"the {n_listed} with the most support (ties: more predictions, then the lower class id; only "
            f"classes that occur) and fold the other {n_classes - n_listed:,} into one row and column "
            f"\"{OTHER}\": its support, predictions and true positives are summed over those classes (a "
            "label and a prediction that are two different unlisted classes count as an error), and its "
            "precision, recall and F1 come from those sums. Accuracy and macro-F1 are computed over every "
            "class. Every example's label and prediction are in the results' examples.jsonl.")


def class_tallies(examples: Iterable[Example]) -> dict[int, list[int]]:
    """Per class id that occurs among the labels or the predictions: [true positives, support, predicted]."""
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ex in examples:
        tallies[ex.label][1] += 1
        tallies[ex.prediction][2] += 1
        if ex.label == ex.prediction:
            tallies[ex.label][0] += 1
    return tallies


def listed_classes(examples: list[Example], n_classes: int, limit: int = MAX_CLASSES) -> list[int]:
    """The class ids tables list one by one: all of them in id order when there are at most ``limit``,
    else the ``limit`` occurring classes with the most support (then predictions, then the lower id)."""
    if n_classes <= limit:
        return list(range(n_classes))
    tallies = class_tallies(examples)
    return sorted(tallies, key=lambda c: (-tallies[c][1], -tallies[c][2], c))[:limit]


def class_scores(tally: Iterable[int]) -> dict[str, Any]:
    """Support, predictions, precision, recall and F1 from [true positives, support, predicted]."""
    tp, support, predicted = tally
    row = {"support": support, "predicted": predicted, "precision": None, "recall": None, "f1": None}
    if support or predicted:
        precision, recall = ratio(tp, predicted), ratio(tp, support)
        row.update(precision=precision, recall=recall, f1=ratio(2 * precision * recall, precision + recall))
    return row


def summary(examples: list[Example]) -> dict[str, Any]:
    correct = sum(ex.prediction == ex.label for ex in examples)
    return {
        "examples": len(examples),
        "correct": correct,
        "accuracy": ratio(correct, len(examples)) if examples else None,
        "macro_f1": mean(class_scores(tally)["f1"] for tally in class_tallies(examples).values()),
    }


def per_class(examples: list[Example], labels: list[str], listed: list[int]) -> list[dict[str, Any]]:
    """One row per listed class and, when classes are folded, one "other" row summing the rest."""
    tallies = class_tallies(examples)
    rows = [{"class": labels[c], "class_id": c, **class_scores(tallies.get(c, (0, 0, 0)))} for c in listed]
    if len(listed) < len(labels):
        kept = set(listed)
        rest = [sum(tally[i] for c, tally in tallies.items() if c not in kept) for i in range(3)]
        rows.append({"class": OTHER, "class_id": None, **class_scores(rest),
                     "folded_classes": len(labels) - len(listed)})
    return rows


def confusion(examples: list[Example], labels: list[str], listed: list[int]) -> list[dict[str, Any]]:
    """The cells that occur, (true, predicted), over the listed classes and "other" for the folded ones."""
    position = {c: i for i, c in enumerate(listed)}
    names, ids = [labels[c] for c in listed] + [OTHER], [*listed, None]
    other = len(listed)
    counts = Counter((position.get(ex.label, other), position.get(ex.prediction, other)) for ex in examples)
    support = Counter(ex.label if ex.label in position else None for ex in examples)
    rows = []
    for (t, p), count in sorted(counts.items()):
        rows.append({"true": names[t], "predicted": names[p], "true_id": ids[t], "predicted_id": ids[p],
                     "count": count, "share_of_true": ratio(count, support[ids[t]])})
    return rows
