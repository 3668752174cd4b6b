"""1. Summary: headline figures, where every input row went, the model, the data and the run."""

from __future__ import annotations

from typing import Any

from ...measure.performance import MAX_CLASSES
from ...results.records import RunResult
from ...tasks import task_of
from ..charts.summary import lift_bars
from ..figures import dataset_name, headline, metric, model_name, row_accounting, sample
from ..format import fmt, seconds, short_path, shown, shown_class_names, value_text
from ..alerts import RULES, alerts
from ..narrative import explained_noun, faithfulness_statement, sample_note
from ..verdict import verdict


DATASET_LABELS = {"path": "file", "sha256": "file sha256", "rows": "rows in the file", "split_rows": "rows in this split",
                  "explained": "examples explained", "truncated": "examples truncated",
                  "texts_cut": "texts cut before tokenising", "cut_at_characters": "characters kept of a cut text"}
TRAINING_LABELS = {"base_model": "base model", "train_examples": "training rows", "held_out_examples": "held-out rows",
                   "held_out_accuracy": "held-out accuracy", "seconds": "training time", "torch": "torch version",
                   "settings": "settings"}
SUMMARY_CLASSES = MAX_CLASSES  # class names the model's "classes" row shows; it counts the others


def training_rows(training: dict[str, Any]) -> list[tuple[str, str]]:
    """The fine-tuning record of the model, labelled and rounded."""
    rows = []
    for key in sorted(training, key=lambda k: (list(TRAINING_LABELS).index(k) if k in TRAINING_LABELS else 99, k)):
        value = training[key]
        if key == "held_out_accuracy" and isinstance(value, (int, float)):
            held_out = training.get("held_out_examples")
            text = fmt(float(value)) + (f" on all {fmt(held_out)} held-out rows" if isinstance(held_out, int) else "")
        elif key == "base_model" and isinstance(value, str):
            text = short_path(value)
        elif key == "seconds" and isinstance(value, (int, float)):
            text = seconds(float(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            text = fmt(value)
        else:
            text = value_text(value, ", ")
        rows.append((f"fine-tuning: {TRAINING_LABELS.get(key, key.replace('_', ' '))}", text))
    return rows


def classes_text(names: list[str]) -> str:
    """The model's classes as the summary names them: all of them up to SUMMARY_CLASSES, else the first
    SUMMARY_CLASSES by id and how many more there are."""
    if len(names) <= SUMMARY_CLASSES:
        return ", ".join(names)
    return (f"{', '.join(names[:SUMMARY_CLASSES])} and {fmt(len(names) - SUMMARY_CLASSES)} more "
            f"({fmt(len(names))} classes; the first {SUMMARY_CLASSES} by id are named)")


def cut_note(dataset: dict[str, Any], max_length: Any) -> str:
    """How many texts were cut to a bounded excerpt before tokenising, and where; empty when none was."""
    cut, kept = dataset.get("texts_cut"), dataset.get("cut_at_characters")
    if not (isinstance(cut, int) and isinstance(kept, int) and cut > 0):
        return ""
    window = f" (the model reads at most {fmt(max_length)} tokens)" if isinstance(max_length, int) else ""
    texts = "1 text was" if cut == 1 else f"{fmt(cut)} texts were"
    return (f"{texts} longer than {fmt(kept)} characters and cut to their first {fmt(kept)} characters before "
            f"tokenising{window}; the results and this report keep only those characters.")


def identity_rows(model: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the model can be found again: its hub id and revision, or its folder and weights' sha256."""
    rows = []
    if model.get("hub_id"):
        rows.append(("hub id", f"{model['hub_id']} at revision {model.get('revision') or 'unknown'}"))
    if model.get("folder"):
        rows.append(("folder", model["folder"]))
    if model.get("weights_sha256"):
        rows.append(("weights sha256", model["weights_sha256"]))
    return rows


def zero_counts(truncated: int, unlabeled: int | None, failed: int) -> str:
    """The counts that are 0, said in one line instead of tiles of zeros ('' when none is)."""
    said = [text for count, text in ((truncated, "nothing was truncated"), (unlabeled, "every explained row was labeled"),
                                     (failed, "nothing failed")) if count == 0]
    if not said:
        return ""
    line = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return line[0].upper() + line[1:] + "."


def summary(run: RunResult) -> dict[str, Any]:
    model, dataset, config = run.model, run.dataset, run.config
    shape = ""
    if model.get("layers"):
        shape = f", {model.get('layers')} layers x {model.get('heads')} heads"
    model_rows = [
        ("model", model.get("display_name") or model.get("name")),
        ("location", short_path(model.get("name"))),
        *identity_rows(model),
        ("architecture", f"{model.get('architecture')} ({fmt(model.get('parameters', 0))} parameters{shape})"),
        ("classes", classes_text(shown_class_names(run)) if run.labels else
         f"the {fmt(model.get('vocabulary'))} tokens of the vocabulary (a language model)"),
        ("maximum length", model.get("max_length")),
        ("device", model.get("device")),
    ]
    model_rows += training_rows(model.get("training") or {})
    data_rows = [(DATASET_LABELS.get(key, key.replace("_", " ")), short_path(value) if key == "path" else value_text(value))
                 for key, value in dataset.items()]
    config_rows = [(key, value_text(value)) for key, value in config.items()]
    timings = [(key, seconds(value)) for key, value in run.timings.items() if isinstance(value, (int, float))]
    timings.append(("total", seconds(sum(v for v in run.timings.values() if isinstance(v, (int, float))))))
    metric_errors = [{"name": name, "error": entry["error"]} for name, entry in run.metrics.items()
                     if entry.get("error")]
    performance = metric(run, "performance")
    counts = performance["counts"] if performance else None
    overview = []
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        overview = faithfulness_statement(faithfulness, explained_noun(run))[:1]
    lift = None
    if faithfulness and any(r.get("comprehensiveness_lift") is not None for r in faithfulness["summary"]):
        lift = lift_bars("chart-summary-lift", faithfulness)
    accounting = row_accounting(run)
    figures = headline(run)
    rows = accounting["counts"]
    if rows["truncated"]:
        figures.append({"label": "truncated to the maximum length", "value": fmt(rows["truncated"])})
    labeled = not task_of(run).reads_references  # a language model's rows have outputs, not labels
    if labeled and rows["unlabeled"]:
        figures.append({"label": "unlabeled (explained, not scored)", "value": fmt(rows["unlabeled"])})
    return {
        "model_name": model_name(run),
        "dataset_name": dataset_name(run),
        "created": run.created,
        "sample": sample(run)["text"],
        "sample_note": sample_note(run),
        "cut_note": cut_note(dataset, model.get("max_length")),
        "methods": list(run.methods),
        "figures": figures,
        "accounting": accounting,
        "model_rows": [(k, "-" if v is None else shown(v)) for k, v in model_rows],
        "data_rows": data_rows,
        "config_rows": config_rows,
        "timings": timings,
        "versions": sorted(run.versions.items()),
        "failures": run.failures,
        "metric_errors": metric_errors,
        "counts": counts,
        "overview": overview,
        "lift_chart": lift,
        "verdict": verdict(run),
        "alerts": alerts(run),
        "alert_rules": RULES,
        "zeros": zero_counts(rows["truncated"], rows["unlabeled"] if labeled else None, len(run.failures)),
        "lost": ("the explained output token's probability" if task_of(run).reads_references
                 else "the target-class probability"),
    }
