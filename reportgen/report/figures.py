"""The figures a reader sees first, computed from a saved run: what was measured, on which rows, how well.

The report's summary and the model card both state them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..measure import applies_to, metrics
from ..measure.faithfulness import leaders
from ..ops.stats import wilson
from ..results.queries import explained, input_rows
from ..results.records import RunResult
from ..tasks import task_of
from .format import fmt, shown


def metric(run: RunResult, name: str) -> dict[str, Any] | None:
    """A metric's result, or None when it was not computed or failed."""
    entry = run.metrics.get(name)
    if not entry or entry.get("result") is None:
        return None
    return entry["result"]


def metric_error(run: RunResult, name: str) -> str | None:
    """Why the report cannot show metric ``name``, or None (also for a metric the run's task has no use for)."""
    entry = run.metrics.get(name)
    if entry is None:
        if name in metrics.names() and not applies_to(metrics.get(name), task_of(run)):
            return None
        return f"The {name} statistic was not computed in this run."
    if entry.get("result") is None:
        return f"The {name} statistic failed: {entry.get('error', 'no result')}"
    return None


def model_name(run: RunResult) -> str:
    """The model's display name, else its hub id, else the last two parts of its folder."""
    model = run.model
    if model.get("display_name"):
        return shown(model["display_name"])
    name = str(model.get("name") or "model")
    path = Path(name)
    if path.is_absolute() or name.startswith(("~", ".")) or len(path.parts) > 2:
        return shown("/".join(path.parts[-2:]))
    return shown(name)


def dataset_name(run: RunResult) -> str:
    return shown(run.dataset.get("name") or Path(str(run.dataset.get("path", "data"))).name)


def interval_text(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"Wilson 95% CI {interval[0]:.3f}–{interval[1]:.3f}"


def sample(run: RunResult) -> dict[str, Any]:
    """How the explained examples relate to the rows read: counts, the set's name and a sentence."""
    counts = row_accounting(run)["counts"]
    split = str(run.dataset.get("split") or "").strip()
    rows = f"{shown(split)} rows" if split else "rows"
    sampled = counts["not_sampled"] > 0
    how = "seeded, class-stratified sample" if sampled else "every row read"
    text = f"{fmt(counts['explained'])} of {fmt(counts['read'])} {rows} explained ({how})"
    return {"read": counts["read"], "explained": counts["explained"], "rows": rows, "sampled": sampled,
            "how": how, "text": text}


def explained_accuracy(run: RunResult) -> tuple[float, int, int] | None:
    """Accuracy on the explained labeled examples: (accuracy, correct, scored)."""
    performance = metric(run, "performance")
    if performance and performance["overall"].get("accuracy") is not None:
        overall = performance["overall"]
        return overall["accuracy"], overall["correct"], overall["examples"]
    scored = [ex for ex in explained(run) if ex.label is not None]
    if not scored:
        return None
    correct = sum(bool(ex.correct) for ex in scored)
    return correct / len(scored), correct, len(scored)


def held_out_accuracy(run: RunResult) -> tuple[float, int | None] | None:
    """The accuracy measured on every held-out row when the model was fine-tuned, and their number."""
    training = run.model.get("training") or {}
    if training.get("held_out_accuracy") is None:
        return None
    rows = training.get("held_out_examples")
    return training["held_out_accuracy"], rows if isinstance(rows, int) and rows > 0 else None


def headline(run: RunResult) -> list[dict[str, str]]:
    """The figures at the top of the report and of the model card; ``detail`` qualifies a value."""
    info = sample(run)
    calibration = metric(run, "calibration")
    performance = metric(run, "performance")
    figures = [{"label": f"{info['rows']} explained", "value": f"{fmt(info['explained'])} of {fmt(info['read'])}",
                "detail": info["how"]}]
    accuracy = explained_accuracy(run)
    if accuracy is not None:
        value, correct, scored = accuracy
        figures.append({"label": f"accuracy on the {fmt(scored)} explained examples", "value": fmt(value),
                        "detail": interval_text(wilson(correct, scored))})
        held_out = held_out_accuracy(run)
        if held_out is not None:
            reference, rows = held_out
            where = f"all {fmt(rows)} held-out rows" if rows else "the held-out rows"
            figure = {"label": f"accuracy on {where}, measured after fine-tuning", "value": fmt(reference)}
            if rows:
                figure["detail"] = interval_text(wilson(round(reference * rows), rows))
            figures.append(figure)
        if performance and performance["overall"].get("macro_f1") is not None:
            figures.append({"label": f"macro-F1 on the {fmt(scored)} explained examples",
                            "value": fmt(performance["overall"]["macro_f1"])})
    figures += multi_label_headline(metric(run, "multi_label")) + entity_headline(metric(run, "entities"))
    figures += generation_headline(metric(run, "generation"))
    if calibration and calibration.get("ece") is not None:
        figures.append({"label": f"expected calibration error on the {fmt(calibration['examples'])} explained "
                                 "examples", "value": fmt(calibration["ece"])})
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        leading = leaders(faithfulness, "comprehensiveness")
        if leading:
            tied = f" (tied with {len(leading) - 1} more)" if len(leading) > 1 else ""
            figures.append({"label": "highest comprehensiveness" + tied, "value": leading[0], "kind": "name"})
    figures.append({"label": "attribution methods", "value": str(len(run.methods))})
    if run.failures:  # none is said in a line, not a tile of 0 (zero_counts)
        figures.append({"label": "failures", "value": str(len(run.failures))})
    return figures


def multi_label_headline(result: dict[str, Any] | None) -> list[dict[str, str]]:
    """A multi-label model's headline figures: subset accuracy with its interval, micro- and macro-F1."""
    if not result or not result["counts"]["scored"]:
        return []
    overall, scored = result["overall"], result["counts"]["scored"]
    exact = round(overall["subset_accuracy"] * scored)
    return [{"label": f"subset accuracy on the {fmt(scored)} explained rows", "value": fmt(overall["subset_accuracy"]),
             "detail": interval_text(wilson(exact, scored))},
            {"label": f"micro-F1 over every label of those rows (threshold {result['threshold']})",
             "value": fmt(overall["micro_f1"])},
            {"label": "macro-F1 (mean over labels)", "value": fmt(overall["macro_f1"])}]


def entity_headline(result: dict[str, Any] | None) -> list[dict[str, str]]:
    """A token classifier's headline figures: entity micro- and macro-F1, word tag accuracy."""
    if not result or not result["counts"]["scored"]:
        return []
    scored, micro, macro = result["counts"]["scored"], result["micro"] or {}, result["macro"] or {}
    return [{"label": f"entity micro-F1 on the {fmt(scored)} explained rows (seqeval)", "value": fmt(micro.get("f1"))},
            {"label": "entity macro-F1 (mean over types)", "value": fmt(macro.get("f1"))},
            {"label": "word tag accuracy", "value": fmt(result["words"]["accuracy"])}]


def generation_headline(result: dict[str, Any] | None) -> list[dict[str, str]]:
    """A language model's headline figures: the perplexity of its outputs and their mean log-probability."""
    if not result or not result["tokens"]:
        return []
    outputs = "references" if result["references"] == result["rows"] else "outputs"
    return [{"label": f"perplexity over the {fmt(result['tokens'])} tokens of the {outputs}",
             "value": fmt(result["perplexity"], 1)},
            {"label": "log-probability per output token (mean over rows)", "value": fmt(result["mean_log_probability"]),
             "detail": f"standard error {fmt(result['mean_log_probability_se'])}"}]


def row_accounting(run: RunResult) -> dict[str, Any]:
    """Where every input row went: read, not sampled, explained (labeled or not), failed (why).

    Computed from the saved examples, so it holds for any results folder. The counts always add up:
    rows read = not sampled + explained + failed (+ answered without a prediction, normally 0).
    """
    examples = input_rows(run)
    done = [ex for ex in examples if ex.ok and ex.answered]
    failed = [ex for ex in examples if not ex.ok]
    other = len(examples) - len(done) - len(failed)
    dataset = run.dataset
    read = dataset.get("split_rows", dataset.get("rows"))
    read = read if isinstance(read, int) and read >= len(examples) else len(examples)
    method_failures = [f for f in run.failures if f.method]
    row_of = {ex.index: ex.row for ex in run.examples}
    reasons: dict[str, int] = {}
    for ex in failed:
        reasons[str(ex.error)] = reasons.get(str(ex.error), 0) + 1
    texts = [ex.text for ex in examples]
    truncated = sum(bool(ex.truncated) for ex in examples)
    windowed = dataset.get("long_text") if isinstance(dataset.get("long_text"), dict) else None
    limit = run.model.get("max_length")
    counts = {
        "read": read,
        "not_sampled": read - len(examples),
        "examples": len(examples),
        "explained": len(done),
        "labeled": sum(ex.has_label for ex in done),
        "unlabeled": sum(not ex.has_label for ex in done),
        "failed": len(failed),
        "other": other,
        "partly_failed": len({row_of.get(f.example, f.example) for f in method_failures}),
        "method_failures": len(method_failures),
        "truncated": truncated,
        "duplicates": len(texts) - len(set(texts)),
    }
    rows = [
        ("rows read", fmt(read), "rows in the data file" + (" (this split)" if "split_rows" in dataset else "")),
        ("not sampled", fmt(counts["not_sampled"]),
         "left out by --limit (a seeded, class-stratified sample was explained)" if counts["not_sampled"]
         else "every row read is an example of this run"),
        ("explained", fmt(len(done)), "predicted and attributed; the statistics are computed on these"),
        ("explained, with a label", fmt(counts["labeled"]), "counted in accuracy, F1 and calibration"),
        ("explained, unlabeled", fmt(counts["unlabeled"]),
         "no label in the data: explained for the predicted class, not counted in accuracy or calibration"),
        ("failed", fmt(len(failed)), "not explained by any method; reasons below"),
    ]
    if other:
        rows.append(("without a prediction", fmt(other), "neither explained nor recorded as failed"))
    rows += [
        ("failed in some methods", fmt(counts["partly_failed"]),
         f"{counts['method_failures']} method failures on examples the other methods explained"),
        *_reading_rows(truncated, limit, windowed),
        ("duplicate texts", fmt(counts["duplicates"]), "rows whose text repeats an earlier row's; each is explained"),
    ]
    parts = [f"{fmt(counts['not_sampled'])} not sampled", f"{fmt(len(done))} explained", f"{fmt(len(failed))} failed"]
    if other:
        parts.append(f"{fmt(other)} without a prediction")
    return {
        "counts": counts,
        "rows": rows,
        "balance": f"{fmt(read)} rows read = " + " + ".join(parts) + ".",
        "reasons": sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
    }


def _reading_rows(truncated: int, limit: Any, windowed: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """How texts longer than the model reads were read: truncated, or in windows (--long-text window)."""
    if not windowed:
        return [("truncated", fmt(truncated), "longer than the model's maximum length"
                 + (f" ({limit} tokens)" if limit else "") + ": only the first tokens were read and explained")]
    return [
        ("read in windows", fmt(windowed["long"]),
         f"longer than the model reads ({fmt(windowed['window'])} tokens): read as {fmt(windowed['windows'])} "
         f"overlapping windows of whole words, a new one at most every {fmt(windowed['stride'])} tokens "
         "(--long-text window). Their prediction is the mean of the windows' logits, a different predictor "
         "than truncation; each token's score is the mean over the windows that hold it"),
        ("truncated", fmt(truncated), f"longer than {fmt(windowed['max_windows'])} windows cover: the rest was "
         "cut before it was read"),
    ]
