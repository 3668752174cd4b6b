"""The model card's YAML front matter, as the Hugging Face Hub reads it: model-index (task, dataset, and the
accuracy, macro-F1 and calibration error with the sample they were measured on), base_model where the run
knows a hub id, datasets, library_name and tags. Made with huggingface_hub's own ModelCardData, so its YAML
is what the Hub's parser expects; every value comes from the results and is quoted by the YAML writer."""

from __future__ import annotations

from pathlib import Path

from ..results.records import RunResult
from ..tasks import task_of
from .figures import metric

# The Hub's pipeline tag per reportgen task (the tasks not listed have none).
PIPELINE_TAGS = {"sequence_classification": "text-classification", "decoder_classification": "text-classification",
                 "black_box": "text-classification", "sentence_pair": "text-classification",
                 "multi_label": "text-classification", "zero_shot": "zero-shot-classification",
                 "token_classification": "token-classification", "translation": "translation",
                 "summarization": "summarization", "generation": "text-generation"}
TAGS = ["explainability", "interpretability", "reportgen"]
SOURCE = "reportgen"  # the source name of every evaluation result reportgen writes


def model_title(run: RunResult) -> str:
    """The model as the card names it: its display name, hub id, or folder name, never a whole local path."""
    model = run.model
    name = model.get("display_name") or model.get("hub_id") or model.get("folder")
    return str(name or Path(str(model.get("name") or "model")).name)


def card_metrics(run: RunResult) -> list[tuple[str, str, float]]:
    """(metric type, name with its sample, value) of the figures model-index lists."""
    found = []
    performance = (metric(run, "performance") or {}).get("overall") or {}
    scored = performance.get("examples")
    sample = f" on {scored} explained examples" if isinstance(scored, int) else ""
    for key, name in (("accuracy", "Accuracy"), ("macro_f1", "Macro-F1")):
        if isinstance(performance.get(key), (int, float)):
            found.append((key if key == "accuracy" else "f1", name + sample, float(performance[key])))
    calibration = metric(run, "calibration") or {}
    if isinstance(calibration.get("ece"), (int, float)):
        found.append(("ece", f"Expected calibration error on {calibration.get('examples')} explained examples",
                      float(calibration["ece"])))
    return found


def front_matter(run: RunResult, report: str = "report.html") -> str:
    """The card's front matter block, ``---`` lines included; ``report``: where the report is, from the card."""
    return as_front_matter(card_data(run, report))


def as_front_matter(data) -> str:
    return "---\n" + data.to_yaml() + "\n---\n"


def card_data(run: RunResult, report: str = "report.html"):
    """The card's metadata as huggingface_hub's ModelCardData. Its evaluation results name reportgen as their
    source, with the report as the source's address (how a merge into another card finds the ones a rerun
    replaces)."""
    from huggingface_hub import EvalResult, ModelCardData

    task = task_of(run).name
    pipeline = PIPELINE_TAGS.get(task)
    model_name = model_title(run)
    dataset_id = str(run.dataset.get("hub_id") or run.dataset.get("name") or run.dataset.get("path") or "data")
    split = run.dataset.get("split")
    results = [EvalResult(task_type=pipeline or task, dataset_type=dataset_id, dataset_name=dataset_id,
                          dataset_split=str(split) if split else None, metric_type=kind, metric_name=name,
                          metric_value=value, source_name=SOURCE,
                          source_url=report) for kind, name, value in card_metrics(run)]
    base = run.model.get("hub_id")
    return ModelCardData(model_name=model_name if results else None, eval_results=results or None,
                         library_name="transformers", pipeline_tag=pipeline, tags=TAGS + [task],
                         base_model=str(base) if base else None,
                         datasets=[str(run.dataset["hub_id"])] if run.dataset.get("hub_id") else None)
