"""2. Model performance: accuracy and F1 per class and group, the confusion matrix, calibration."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...results.queries import input_rows
from ...results.records import RunResult
from ..charts.performance import confusion_heatmap, reliability_curve
from ..figures import metric, metric_error
from ..format import fmt, shown
from ..narrative import calibration_note


SHOWN_PREDICTED = 20
NO_LABELS = ("No explained example has a label (the data has none, or --label-column none), so the model's "
             "accuracy, F1 and calibration cannot be measured here. Everything else in this report needs no labels: "
             "the predictions below, and the explanations and their faithfulness.")


def performance(run: RunResult) -> dict[str, Any]:
    result, calibration = metric(run, "performance"), metric(run, "calibration")
    context: dict[str, Any] = {"missing": metric_error(run, "performance"), "calibration_missing":
                               metric_error(run, "calibration")}
    multi = metric(run, "multi_label")
    if multi:
        return dict(context, **multi_label_figures(run, multi))
    entities = metric(run, "entities")
    if entities:
        return dict(context, **entity_figures(entities))
    if result and not result["overall"]["examples"] and result["counts"].get("unlabeled"):
        return dict(context, calibration_missing=None, no_labels=NO_LABELS, predicted=predicted_classes(run))
    if result:
        overall = result["overall"]
        context.update(
            definition=result["definition"],
            figures=_figures(("examples scored", overall["examples"]), ("accuracy", overall["accuracy"]),
                             ("macro-F1", overall["macro_f1"])),
            per_class=[{"class": class_shown(r), "support": fmt(r["support"]), "predicted": fmt(r["predicted"]),
                        "precision": fmt(r["precision"]), "recall": fmt(r["recall"]), "f1": fmt(r["f1"])}
                       for r in result["per_class"]],
            confusion=confusion_heatmap("chart-confusion", result["confusion"],
                                        [(r["class_id"], class_shown(r)) for r in result["per_class"]]),
            class_note=folding_note(result),
            counts=result["counts"],
        )
        groups = []
        ece = {g["group"]: g for g in (calibration or {}).get("groups", [])}
        for g in result.get("groups", []):
            cal = ece.get(g["group"], {})
            groups.append({"group": shown(g["group"]), "examples": fmt(g["examples"]), "accuracy": fmt(g["accuracy"]),
                           "macro_f1": fmt(g["macro_f1"]), "ece": fmt(cal.get("ece")),
                           "confidence": fmt(cal.get("mean_confidence")), "failed": fmt(g.get("failed"))})
        context["groups"] = groups
    if calibration:
        context.update(
            calibration_definition=calibration["definition"],
            calibration_figures=_figures(("expected calibration error", calibration["ece"]),
                                         ("largest bin gap (MCE)", calibration["mce"]),
                                         ("Brier score", calibration["brier"]),
                                         ("mean confidence", calibration["mean_confidence"])),
            reliability=reliability_curve("chart-reliability", calibration["bins"]),
            calibration_note=calibration_note(calibration),
        )
    return context


def multi_label_figures(run: RunResult, result: dict[str, Any]) -> dict[str, Any]:
    """The headline of a multi-label model's quality (its per-label table is the metric's own panel), or the
    note that no row has labels."""
    counts, overall = result["counts"], result["overall"]
    if not counts["scored"]:
        return {"no_labels": NO_LABELS, "predicted": predicted_classes(run)}
    return {"task_figures": {
        "figures": _figures(("rows scored", counts["scored"]), ("subset accuracy", overall["subset_accuracy"]),
                            ("micro-F1", overall["micro_f1"]), ("macro-F1", overall["macro_f1"]),
                            ("Hamming loss", overall["hamming_loss"])),
        "note": (f"Each label is predicted when its probability reaches {result['threshold']}. The rows hold "
                 f"{fmt(overall['label_cardinality'])} true and {fmt(overall['predicted_cardinality'])} predicted "
                 f"labels on average; {fmt(counts['failed'])} failed and {fmt(counts['unlabeled'])} unlabeled "
                 "rows are not counted."),
    }}


def entity_figures(result: dict[str, Any]) -> dict[str, Any]:
    """The headline of a token classifier's quality (its per-type table is the metric's own panel), or the note
    that no row has tags."""
    counts = result["counts"]
    if not counts["scored"]:
        return {"no_labels": NO_LABELS, "predicted": []}
    micro, macro, words = result["micro"] or {}, result["macro"] or {}, result["words"]
    return {"task_figures": {
        "figures": _figures(("rows scored", counts["scored"]), ("entity micro-F1", micro.get("f1")),
                            ("entity macro-F1", macro.get("f1")), ("word tag accuracy", words["accuracy"])),
        "note": (f"Entities as seqeval counts them: {fmt(micro.get('support', 0))} in the data, "
                 f"{fmt(micro.get('predicted', 0))} predicted, {fmt(micro.get('correct', 0))} exactly right; "
                 f"{fmt(counts['failed'])} failed and {fmt(counts['unlabeled'])} untagged rows are not counted."),
    }}


def predicted_classes(run: RunResult) -> list[tuple[str, str]]:
    """(class, examples predicted as it) for the explained rows, most predicted first, the largest few (a
    multi-label row counts for each label it is given)."""
    counts = Counter(c for ex in input_rows(run) if ex.ok
                     for c in (ex.predicted if ex.predicted is not None else [ex.prediction]) if c is not None)
    names = run.labels
    return [(shown(names[c]) if 0 <= c < len(names) else str(c), fmt(n))
            for c, n in counts.most_common(SHOWN_PREDICTED)]


def _figures(*pairs: tuple[str, Any]) -> list[dict[str, str]]:
    """Headline figures of a part of the section: (label, value) pairs, values formatted."""
    return [{"label": label, "value": fmt(value)} for label, value in pairs]


def class_shown(row: dict[str, Any]) -> str:
    """A per-class row's class as displayed; the folded row says how many classes it holds."""
    if row.get("folded_classes"):
        return f"({fmt(row['folded_classes'])} other classes)"
    return shown(row["class"])


def folding_note(result: dict[str, Any]) -> str | None:
    """The sentence beside the tables when classes beyond the bound are folded into one row and column."""
    folded = result.get("folded_classes")
    if not folded:
        return None
    listed = result["classes"] - folded
    return (f"This model has {fmt(result['classes'])} classes and the tables list at most "
            f"{fmt(result['class_limit'])}: the {fmt(listed)} with the most support (labeled examples), then "
            f"the other {fmt(folded)} summed in the last row and column. Accuracy and macro-F1 count every class.")
