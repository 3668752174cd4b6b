"""The Python entry points behind the command line: the pipeline, stage after stage.

    load (data, model, task) -> explain -> measure -> results -> report
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import options as table
from .explain.checkpoint import Checkpoint, remove_finished
from .explain.engine import Engine
from .explain.lines import progress_mode
from .explain.windows import WINDOW_SETTINGS, windows_for
from .explainers import explainers
from .load.data import Dataset, cut_long_texts, load_dataset, strata, stratified_sample
from .load.black_box import load_model
from .load.model import Classifier, load_classifier
from .measure import check_metric_params, compute_metrics
from .ops.params import ParameterError
from .options import RunConfig
from .errors import ReportgenError, interrupted
from .report.card_figures import FIGURES, check_figures_folder
from .report.card_merge import merge_card
from .report.model_card import CARD_MARK, CardLinks, write_model_card
from .report.render import REPORT_MARK, write_report
from .results import store
from .results.files import refuse_foreign
from .results.folder import check_claimable
from .results.records import RunResult
from .tasks import check_segments
from .tasks.base import character_limit
from .tasks.generation import only_for_generation

DEMO_LIMIT = 50
DEMO_SANITY_EXAMPLES = 2
# The demo must finish in a few minutes on 2 cores, fine-tuning included, so the four costly methods run
# below their defaults there (the defaults match the reference libraries' quality, benchmarks/RESULTS.md).
DEMO_BUDGETS = {"layer_integrated_gradients": {"n_steps": 8}, "lime": {"num_samples": 200},
                "shap": {"max_evals": 128}}


def shown_progress(chosen: dict[str, Any]) -> str | bool:
    """What progress the run shows: --quiet wins over --progress."""
    return "none" if chosen["quiet"] else chosen["progress"]


def explain(model: str | Path | Classifier, data: str | Path | Dataset, **options: Any) -> RunResult:
    """Run every selected method over a labeled dataset and compute all statistics.

    With ``results``, finished work is written there as it completes, and a run started
    again with the same arguments and folder computes only what is missing. Options
    (reportgen.options.OPTIONS):
    """
    chosen = table.chosen("run", options)
    config = RunConfig(**table.of_group(chosen, table.SETTING))
    paired = chosen["text_pair_column"] is not None if not isinstance(data, Dataset) else data.pairs is not None
    if not isinstance(model, Classifier):
        model = load_model(model, paired=paired, **table.of_group(chosen, table.MODEL))
    check_segments(model.task, paired)
    check_threshold(model.task, config.threshold)
    config = applicable_methods(model, config, everything=chosen["methods"] == "all")
    check_window_settings(config)
    windows = windows_for(model, config)
    if not isinstance(data, Dataset):
        data = load_dataset(data, model.labels, multi_label=model.task.per_label and not model.task.reads_tags,
                            tagged=model.task.reads_tags, **data_options(chosen, model.task))
    given = data.tag_lists or data.label_sets or data.labels
    if config.target == "label" and all(label is None for label in given):
        raise ReportgenError("--target label explains each example's label, and the data has no labels; "
                             "use --target pred")
    limit = chosen["limit"]
    if limit is not None and limit < len(data):
        data = data.subset(stratified_sample(strata(data), limit, config.seed))
    data = cut_long_texts(data, model.max_chars if windows is None else character_limit(windows.longest))
    progress = shown_progress(chosen)
    if chosen["results"] is None:
        return explain_and_measure(model, data, config, progress=progress)
    checkpoint = Checkpoint(chosen["results"], overwrite=chosen["overwrite"])
    try:
        return explain_and_measure(model, data, config, checkpoint=checkpoint, progress=progress)
    except KeyboardInterrupt as err:
        raise interrupted(err, checkpoint.saved_units()) from None
    finally:
        checkpoint.close()


def data_options(chosen: dict[str, Any], task: Any) -> dict[str, Any]:
    """load_dataset's options; for a task that reads references (generation), the source column as the text
    and the target column as each row's second text, and no labels."""
    options = table.of_group(chosen, table.DATA)
    source, target = options.pop("source_column"), options.pop("target_column")
    alignment = options.pop("alignment_column")
    if not task.reads_references:
        given = [flag for flag, value in (("--source-column", source), ("--target-column", target),
                                          ("--alignment-column", alignment)) if value is not None]
        if given:
            raise only_for_generation(given[0], task.name)
        return options
    if options["rationale_column"] is not None:
        raise ReportgenError(f"--rationale-column gives classifiers' examples human rationales; the {task.name} "
                             "task explains generated tokens, which it does not score against them")
    if alignment is not None and target is None:
        raise ReportgenError("--alignment-column needs --target-column: a gold alignment links the source's words "
                             "to the reference's")
    if options["text_pair_column"] is not None:
        raise ReportgenError("--text-pair-column gives a second text to classifiers; name a generation model's "
                             "reference outputs with --target-column")
    options.update(text_column=source or options["text_column"], text_pair_column=target, label_column=None,
                   pair_role="target", alignment_column=alignment)
    return options


def applicable_methods(model: Classifier, config: RunConfig, everything: bool) -> RunConfig:
    """The run's methods without those the task excludes and, with 'all', those that do not fit the model (each
    is left out and the reason kept in the model's description; named on its own, it is refused in one line)."""
    excluded = dict(model.task.excluded_methods)
    if everything:
        excluded.update(unfit_methods(model, config, excluded))
    named = [name for name in config.methods if name in excluded]
    if named and not everything:
        raise ReportgenError(f"{named[0]} does not apply to the {model.task.name} task: {excluded[named[0]]}")
    if not named:
        return config
    model.info["methods_not_applicable"] = {name: excluded[name] for name in named}
    params = {name: value for name, value in config.method_params.items() if name not in excluded}
    return replace(config, methods=[name for name in config.methods if name not in excluded], method_params=params)


def unfit_methods(model: Classifier, config: RunConfig, excluded: dict[str, str]) -> dict[str, str]:
    """The methods whose check of the model refuses it (value zeroing on a model without a value projection of its
    own, layer integrated gradients on one that reuses its layers), with why. A bad parameter still stops the run."""
    unfit = {}
    for name in config.methods:
        if name in excluded:
            continue
        explainer = explainers.get(name)(seed=config.seed, **config.method_params.get(name, {}))
        try:
            explainer.check_model(model)
        except ParameterError as err:
            unfit[name] = f"it does not fit this model: {err}"
    return unfit


def check_threshold(task: Any, threshold: float) -> None:
    """--threshold decides which labels a multi-label model predicts; for any other task it is refused."""
    if threshold != table.BY_NAME["threshold"].default and (not task.per_label or task.reads_references):
        raise ReportgenError(f"--threshold applies to multi-label tasks, and the {task.name} task predicts one "
                             "class (or token) at a time (the most probable)")


def check_window_settings(config: RunConfig) -> None:
    """The window settings are refused, in one line, unless documents are read in windows."""
    if config.long_text == "window":
        return
    for key in WINDOW_SETTINGS[1:]:
        if getattr(config, key) != table.BY_NAME[key].default:
            raise ReportgenError(f"{table.BY_NAME[key].cli_flag} applies to --long-text window")


def explain_and_measure(classifier: Classifier, dataset: Dataset, config: RunConfig, *,
                        checkpoint: Checkpoint | None = None, progress: str | bool = True) -> RunResult:
    """The explain stage, then the measure stage on the same model runner (each metric's result kept in
    the checkpoint as it finishes). Metric parameters are checked before anything is explained."""
    check_metric_params(config.metrics, config.metric_params)
    engine = Engine(classifier, config, checkpoint=checkpoint, progress=progress)
    run = engine.run(dataset)
    started = time.perf_counter()
    compute_metrics(run, engine.runner, config.metrics, config.metric_params, store=checkpoint)
    run.timings["metrics"] = time.perf_counter() - started
    run.timings["model_batch_sizes"] = engine.runner.batch_size_summary()
    return run


def demo(**options: Any) -> RunResult:
    """Fine-tune (once, cached) and explain the embedded default model on held-out reviews.

    The demo's budgets (``DEMO_BUDGETS``) apply unless ``default_budgets``; ``method_params`` win over both.
    Options (reportgen.options.OPTIONS):
    """
    from .load import demo as default

    chosen = table.chosen("demo", options)
    default_budgets = chosen.pop("default_budgets")
    chosen["method_params"] = demo_params(chosen["methods"], chosen["method_params"], default_budgets)
    chosen["limit"] = chosen["limit"] or DEMO_LIMIT
    if chosen["sanity_examples"] is None:  # the default sample of 50 examples would be none
        chosen["sanity_examples"] = DEMO_SANITY_EXAMPLES
    folder = default.default_model_dir(progress=progress_mode(shown_progress(chosen)) == "bar")
    classifier = load_classifier(folder)
    classifier.info.update(display_name="all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes",
                           training=default.training_record(folder))
    return explain(classifier, default.load_corpus().held_out, **chosen)


def demo_params(methods: str | list[str], given: dict[str, dict[str, Any]],
                default_budgets: bool = False) -> dict[str, dict[str, Any]]:
    """Each chosen method's parameters in the demo: the demo budgets, overridden by those given."""
    budgets = {} if default_budgets else DEMO_BUDGETS
    return {name: {**budgets.get(name, {}), **given.get(name, {})}
            for name in explainers.resolve(methods) if name in budgets or name in given}


def write_outputs(run: RunResult, out: str | Path = "report.html", results: str | Path | None = None,
                  overwrite: bool = False, keep_checkpoint: bool = False) -> dict[str, Path]:
    """Save the results, then build the report and model card from the saved copy; the run's checkpoint in the
    results folder is removed once the results are saved, unless ``keep_checkpoint``.

    Each output replaces only a file reportgen wrote; a file of someone else's is refused before anything
    is written."""
    out = Path(out)
    results_dir = results_folder(out, results)
    check_outputs(out, results_dir)
    store.save(run, results_dir, overwrite=overwrite)
    saved = store.load(results_dir)
    if not keep_checkpoint:
        remove_finished(results_dir)
    return {
        "results": results_dir,
        "report": write_report(saved, out),
        "model_card": write_model_card(saved, model_card_path(out)),
    }


def check_outputs(out: str | Path, results: str | Path) -> None:
    """Refuse at once outputs that would replace someone else's files (before any work)."""
    refuse_foreign(Path(out), REPORT_MARK, "--out")
    refuse_foreign(model_card_path(out), CARD_MARK, "the model card")
    check_figures_folder(model_card_path(out).parent / FIGURES)
    check_claimable(results)


def write_card(results: str | Path, out: str | Path | None = None, merge: str | Path | None = None,
               report_link: str = "report.html") -> Path:
    """The model card of a saved results folder: a card of its own at ``out`` (model_card.md by default), or the
    audit section merged into the existing card ``merge``. Its links find the report at ``report_link`` and the
    results folder by its path from the card."""
    run = store.load(results)
    card = Path(merge if merge is not None else out if out is not None else "model_card.md")
    links = CardLinks(report=report_link, results=_relative_link(Path(results), card.parent))
    if merge is not None:
        return merge_card(run, card, links)
    return write_model_card(run, card, links)


def _relative_link(target: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix().rstrip("/") + "/"
    except ValueError:  # another drive (Windows): no relative path
        return target.resolve().as_uri() + "/"


def model_card_path(out: str | Path) -> Path:
    return Path(out).parent / "model_card.md"


def results_folder(out: str | Path, results: str | Path | None) -> Path:
    """The results folder: the one given, else ``results/`` beside the report."""
    return Path(results) if results is not None else Path(out).parent / "results"


explain.__signature__ = table.signature("run", "model", "data")  # type: ignore[attr-defined]
explain.__doc__ += "\n" + table.described("run") + "\n"
demo.__signature__ = table.signature("demo")  # type: ignore[attr-defined]
demo.__doc__ += "\n" + table.described("demo") + "\n"
