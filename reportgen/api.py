"""The Python entry points behind the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import records
from .data import Dataset, load_dataset, stratified_sample
from .engine import Engine, RunConfig
from .model_card import write_model_card
from .modeling import Classifier, load_classifier
from .records import RunResult
from .render import write_report
from .runner import DEFAULT_MAX_BATCH_SIZE

DEMO_LIMIT = 50
# The demo must finish in a few minutes on 2 cores, fine-tuning included, so the four costly methods run
# below their defaults there (the defaults match the reference libraries' quality, benchmarks/RESULTS.md).
DEMO_BUDGETS = {"layer_integrated_gradients": {"n_steps": 8}, "lime": {"num_samples": 200},
                "shap": {"max_evals": 128}}


def explain(
    model: str | Path | Classifier,
    data: str | Path | Dataset,
    *,
    text_column: str = "text",
    label_column: str = "label",
    group_column: str | None = None,
    methods: str | list[str] = "all",
    limit: int | None = None,
    seed: int = 0,
    target: str = "pred",
    max_batch_tokens: int | None = None,
    batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    precision: str = "float32",
    method_params: dict[str, dict[str, Any]] | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    device: str | None = None,
    encoding: str = "utf-8",
    max_length: int | None = None,
    progress: bool = True,
    results: str | Path | None = None,
) -> RunResult:
    """Run every selected method over a labeled dataset and compute all statistics.

    With ``results``, finished work is written there as it completes, and a run started
    again with the same arguments and folder computes only what is missing.
    """
    config = RunConfig(methods=methods, target=target, seed=seed, max_batch_tokens=max_batch_tokens,
                       max_batch_size=batch_size, precision=precision, method_params=method_params or {})
    classifier = model if isinstance(model, Classifier) else load_classifier(
        model, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code, device=device, max_length=max_length
    )
    dataset = data if isinstance(data, Dataset) else load_dataset(
        data, classifier.labels, text_column, label_column, group_column, encoding
    )
    if limit is not None and limit < len(dataset):
        dataset = dataset.subset(stratified_sample(dataset.labels, limit, seed))
    return Engine(classifier, config, progress=progress, results=results).run(dataset)


def demo(limit: int = DEMO_LIMIT, methods: str | list[str] = "all", seed: int = 0, progress: bool = True,
         results: str | Path | None = None, method_params: dict[str, dict[str, Any]] | None = None,
         default_budgets: bool = False, precision: str = "float32") -> RunResult:
    """Fine-tune (once, cached) and explain the embedded default model on held-out reviews.

    The demo's budgets (``DEMO_BUDGETS``) apply unless ``default_budgets``; ``method_params`` win over both.
    """
    from . import default

    method_params = demo_params(methods, method_params or {}, default_budgets)

    folder = default.default_model_dir(progress=progress)
    classifier = load_classifier(folder)
    classifier.info.update(display_name="all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes",
                           training=default.training_record(folder))
    held_out = default.load_corpus().held_out
    return explain(classifier, held_out, methods=methods, limit=limit, seed=seed, progress=progress, results=results,
                   method_params=method_params, precision=precision)


def demo_params(methods: str | list[str], given: dict[str, dict[str, Any]],
                default_budgets: bool = False) -> dict[str, dict[str, Any]]:
    """Each chosen method's parameters in the demo: the demo budgets, overridden by those given."""
    from .explainers import explainers

    budgets = {} if default_budgets else DEMO_BUDGETS
    return {name: {**budgets.get(name, {}), **given.get(name, {})}
            for name in explainers.resolve(methods) if name in budgets or name in given}


def write_outputs(run: RunResult, out: str | Path = "report.html", results: str | Path | None = None) -> dict[str, Path]:
    """Save the results, then build the report and model card from the saved copy."""
    out = Path(out)
    results_dir = results_folder(out, results)
    records.save(run, results_dir)
    saved = records.load(results_dir)
    return {
        "results": results_dir,
        "report": write_report(saved, out),
        "model_card": write_model_card(saved, out.parent / "model_card.md"),
    }


def results_folder(out: str | Path, results: str | Path | None) -> Path:
    """The results folder: the one given, else ``results/`` beside the report."""
    return Path(results) if results is not None else Path(out).parent / "results"
