"""One function per report section: each builds its template context from a saved RunResult only.

Contexts hold plain values (strings already formatted for display, rows, :class:`Chart` objects);
the templates decide the markup. Nothing here builds HTML.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import charts
from .charts import Chart, Template
from .records import Example, RunResult

# ----------------------------------------------------------------------------- shared helpers


def metric(run: RunResult, name: str) -> dict[str, Any] | None:
    """A metric's result, or None when it was not computed or failed."""
    entry = run.metrics.get(name)
    if not entry or entry.get("result") is None:
        return None
    return entry["result"]


def metric_error(run: RunResult, name: str) -> str | None:
    entry = run.metrics.get(name)
    if entry is None:
        return f"The {name} statistic was not computed in this run."
    if entry.get("result") is None:
        return f"The {name} statistic failed: {entry.get('error', 'no result')}"
    return None


def fmt(value: Any, digits: int = 3) -> str:
    """A number for display with ``digits`` decimals; '-' for missing values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_se(value: float | None, se: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f} ± {se:.{digits}f}" if se is not None else f"{value:.{digits}f}"


def pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


# Bidirectional formatting characters: embeddings, overrides and isolates, the marks LRM, RLM and ALM.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: Any) -> str:
    """Dataset text as displayed: each bidi control character as a visible marker such as ⟨U+202E⟩,
    so a right-to-left override in one token cannot reorder the text after it. The saved results keep
    the text as it was."""
    return BIDI_CONTROLS.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", str(text))


def label_name(run: RunResult, label_id: int | None) -> str:
    labels = run.labels
    if label_id is None:
        return "-"
    return shown(labels[label_id]) if 0 <= label_id < len(labels) else str(label_id)


def class_names(run: RunResult) -> list[str]:
    """The model's class names as displayed, extended with ids for ids used beyond them."""
    names = [shown(name) for name in run.labels]
    ids = [v for ex in run.examples for v in (ex.label, ex.prediction) if v is not None]
    for i in range(len(names), (max(ids) + 1) if ids else 0):
        names.append(str(i))
    return names


def methods_with_scores(run: RunResult) -> list[str]:
    """Methods that have attributions, in the run's order (then any others, sorted)."""
    known = [name for name in run.methods if run.attributions.get(name)]
    return known + sorted(name for name in run.attributions if name not in run.methods and run.attributions[name])


def value_text(value: Any, separator: str = "; ") -> str:
    """A configuration value as readable text: lists comma-separated, dicts as ``key=value`` pairs."""
    if isinstance(value, dict):
        if not value:
            return "none"
        return separator.join(f"{key}: {value_text(item, ', ')}" if isinstance(item, dict)
                              else f"{key}={value_text(item)}"
                              for key, item in sorted(value.items(), key=lambda pair: str(pair[0])))
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(item) for item in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return shown(value)


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


def explained(run: RunResult) -> list[Example]:
    return [ex for ex in run.examples if ex.ok and ex.prediction is not None]


# ----------------------------------------------------------------------------- 1. summary


def wilson(correct: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (95% with the default z); None without observations."""
    if total <= 0:
        return None
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, centre - half), min(1.0, centre + half)


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


def _accuracy(run: RunResult) -> tuple[float, int, int] | None:
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


def _held_out(run: RunResult) -> tuple[float, int | None] | None:
    """The accuracy measured on every held-out row when the model was fine-tuned, and their number."""
    training = run.model.get("training") or {}
    if training.get("held_out_accuracy") is None:
        return None
    rows = training.get("held_out_examples")
    return training["held_out_accuracy"], rows if isinstance(rows, int) and rows > 0 else None


def sample_note(run: RunResult) -> str:
    """Which accuracy is measured on which set, and whether they agree, in a sentence or two."""
    info, accuracy, held_out = sample(run), _accuracy(run), _held_out(run)
    if accuracy is None:
        return f"{info['text']}; none has a label, so no accuracy is measured."
    value, correct, scored = accuracy
    interval = wilson(correct, scored)
    text = (f"{info['text']}. Accuracy, macro-F1 and calibration are measured on the {fmt(scored)} explained "
            f"examples with a label: accuracy {value:.3f} ({correct} correct, {interval_text(interval)}).")
    if held_out is not None:
        reference, rows = held_out
        where = f"all {fmt(rows)} held-out rows" if rows else "the held-out rows"
        agree = interval is not None and interval[0] <= reference <= interval[1]
        text += (f" The {reference:.3f} beside it was measured on {where} right after fine-tuning, a larger set; "
                 + (f"it lies inside this interval, so the gap is within what a sample of {fmt(scored)} varies by."
                    if agree else "it lies outside this interval, so the explained sample is not typical of it."))
    return text


def headline(run: RunResult) -> list[dict[str, str]]:
    """The figures at the top of the report and of the model card; ``detail`` qualifies a value."""
    info = sample(run)
    calibration = metric(run, "calibration")
    performance = metric(run, "performance")
    figures = [{"label": f"{info['rows']} explained", "value": f"{fmt(info['explained'])} of {fmt(info['read'])}",
                "detail": info["how"]}]
    accuracy = _accuracy(run)
    if accuracy is not None:
        value, correct, scored = accuracy
        figures.append({"label": f"accuracy on the {fmt(scored)} explained examples", "value": fmt(value),
                        "detail": interval_text(wilson(correct, scored))})
        if performance and performance["overall"].get("macro_f1") is not None:
            figures.append({"label": f"macro-F1 on the {fmt(scored)} explained examples",
                            "value": fmt(performance["overall"]["macro_f1"])})
    if calibration and calibration.get("ece") is not None:
        figures.append({"label": f"expected calibration error on the {fmt(calibration['examples'])} explained "
                                 "examples", "value": fmt(calibration["ece"])})
    held_out = _held_out(run)
    if held_out is not None:
        reference, rows = held_out
        where = f"all {fmt(rows)} held-out rows" if rows else "the held-out rows"
        figure = {"label": f"accuracy on {where}, measured after fine-tuning", "value": fmt(reference)}
        if rows:
            figure["detail"] = interval_text(wilson(round(reference * rows), rows))
        figures.append(figure)
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        leaders = faithfulness_leaders(faithfulness, "comprehensiveness")
        if leaders:
            tied = f" (tied with {len(leaders) - 1} more)" if len(leaders) > 1 else ""
            figures.append({"label": "highest comprehensiveness" + tied, "value": leaders[0], "kind": "name"})
    figures.append({"label": "attribution methods", "value": str(len(run.methods))})
    figures.append({"label": "failures", "value": str(len(run.failures))})
    return figures


def row_accounting(run: RunResult) -> dict[str, Any]:
    """Where every input row went: read, not sampled, explained (labeled or not), failed (why).

    Computed from the saved examples, so it holds for any results folder. The counts always add up:
    rows read = not sampled + explained + failed (+ answered without a prediction, normally 0).
    """
    examples = run.examples
    done = explained(run)
    failed = [ex for ex in examples if not ex.ok]
    other = len(examples) - len(done) - len(failed)
    dataset = run.dataset
    read = dataset.get("split_rows", dataset.get("rows"))
    read = read if isinstance(read, int) and read >= len(examples) else len(examples)
    method_failures = [f for f in run.failures if f.method]
    reasons: dict[str, int] = {}
    for ex in failed:
        reasons[str(ex.error)] = reasons.get(str(ex.error), 0) + 1
    texts = [ex.text for ex in examples]
    truncated = sum(bool(ex.truncated) for ex in examples)
    limit = run.model.get("max_length")
    counts = {
        "read": read,
        "not_sampled": read - len(examples),
        "examples": len(examples),
        "explained": len(done),
        "labeled": sum(ex.label is not None for ex in done),
        "unlabeled": sum(ex.label is None for ex in done),
        "failed": len(failed),
        "other": other,
        "partly_failed": len({f.example for f in method_failures}),
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
        ("truncated", fmt(truncated), "longer than the model's maximum length"
         + (f" ({limit} tokens)" if limit else "") + ": only the first tokens were read and explained"),
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


DATASET_LABELS = {"path": "file", "rows": "rows in the file", "split_rows": "rows in this split",
                  "explained": "examples explained", "truncated": "examples truncated"}
TRAINING_LABELS = {"base_model": "base model", "train_examples": "training rows", "held_out_examples": "held-out rows",
                   "held_out_accuracy": "held-out accuracy", "seconds": "training time", "torch": "torch version",
                   "settings": "settings"}


def training_rows(training: dict[str, Any]) -> list[tuple[str, str]]:
    """The fine-tuning record of the model, labelled and rounded."""
    rows = []
    for key in sorted(training, key=lambda k: (list(TRAINING_LABELS).index(k) if k in TRAINING_LABELS else 99, k)):
        value = training[key]
        if key == "held_out_accuracy" and isinstance(value, (int, float)):
            held_out = training.get("held_out_examples")
            text = fmt(float(value)) + (f" on all {fmt(held_out)} held-out rows" if isinstance(held_out, int) else "")
        elif key == "seconds" and isinstance(value, (int, float)):
            text = seconds(float(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            text = fmt(value)
        else:
            text = value_text(value, ", ")
        rows.append((f"fine-tuning: {TRAINING_LABELS.get(key, key.replace('_', ' '))}", text))
    return rows


def summary(run: RunResult) -> dict[str, Any]:
    model, dataset, config = run.model, run.dataset, run.config
    shape = ""
    if model.get("layers"):
        shape = f", {model.get('layers')} layers x {model.get('heads')} heads"
    model_rows = [
        ("model", model.get("display_name") or model.get("name")),
        ("location", model.get("name")),
        ("architecture", f"{model.get('architecture')} ({fmt(model.get('parameters', 0))} parameters{shape})"),
        ("classes", ", ".join(class_names(run))),
        ("maximum length", model.get("max_length")),
        ("device", model.get("device")),
    ]
    model_rows += training_rows(model.get("training") or {})
    data_rows = [(DATASET_LABELS.get(key, key.replace("_", " ")), value_text(value)) for key, value in dataset.items()]
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
        overview = faithfulness_statement(faithfulness)[:1]
    lift = None
    if faithfulness and any(r.get("comprehensiveness_lift") is not None for r in faithfulness["summary"]):
        lift = charts.lift_bars("chart-summary-lift", faithfulness["summary"])
    accounting = row_accounting(run)
    figures = headline(run)
    figures.insert(1, {"label": "truncated to the maximum length", "value": fmt(accounting["counts"]["truncated"])})
    figures.insert(2, {"label": "unlabeled (explained, not scored)", "value": fmt(accounting["counts"]["unlabeled"])})
    return {
        "model_name": model_name(run),
        "dataset_name": dataset_name(run),
        "created": run.created,
        "sample": sample(run)["text"],
        "sample_note": sample_note(run),
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
    }


# ----------------------------------------------------------------------------- 2. model performance


def performance(run: RunResult) -> dict[str, Any]:
    result, calibration = metric(run, "performance"), metric(run, "calibration")
    context: dict[str, Any] = {"missing": metric_error(run, "performance"), "calibration_missing":
                               metric_error(run, "calibration")}
    if result:
        overall = result["overall"]
        context.update(
            definition=result["definition"],
            figures=[
                {"label": "examples scored", "value": fmt(overall["examples"])},
                {"label": "accuracy", "value": fmt(overall["accuracy"])},
                {"label": "macro-F1", "value": fmt(overall["macro_f1"])},
            ],
            per_class=[{"class": shown(r["class"]), "support": fmt(r["support"]), "predicted": fmt(r["predicted"]),
                        "precision": fmt(r["precision"]), "recall": fmt(r["recall"]), "f1": fmt(r["f1"])}
                       for r in result["per_class"]],
            confusion=charts.confusion_heatmap("chart-confusion", [{**r, "true": shown(r["true"]),
                                                                    "predicted": shown(r["predicted"])}
                                                                   for r in result["confusion"]],
                                               len(result["labels"])),
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
            calibration_figures=[
                {"label": "expected calibration error", "value": fmt(calibration["ece"])},
                {"label": "largest bin gap (MCE)", "value": fmt(calibration["mce"])},
                {"label": "Brier score", "value": fmt(calibration["brier"])},
                {"label": "mean confidence", "value": fmt(calibration["mean_confidence"])},
            ],
            reliability=charts.reliability_curve("chart-reliability", calibration["bins"]),
            calibration_note=_calibration_note(calibration),
        )
    return context


def _calibration_note(calibration: dict[str, Any]) -> str:
    accuracy, confidence, ece = calibration.get("accuracy"), calibration.get("mean_confidence"), calibration.get("ece")
    if accuracy is None or confidence is None or ece is None:
        return ""
    bins = [b for b in calibration["bins"] if b["count"] and b["gap"] is not None]
    over = sum(b["count"] for b in bins if b["gap"] > 0.05)
    under = sum(b["count"] for b in bins if b["gap"] < -0.05)
    overall = "over-confident" if confidence - accuracy > 0.02 else (
        "under-confident" if accuracy - confidence > 0.02 else "about as confident as it is accurate")
    return (f"Overall the model is {overall} (mean confidence {confidence:.3f}, accuracy {accuracy:.3f}), but "
            f"the expected calibration error is {ece:.3f}: weighted by examples, a bin's confidence is that far "
            f"from its accuracy. {over} examples are in bins where it is over-confident by more than 0.05 "
            f"(points below the dashed diagonal) and {under} in bins where it is under-confident by more than "
            f"0.05. With {calibration['examples']} examples in {calibration['n_bins']} bins, bins holding few "
            "examples are noisy.")


# ----------------------------------------------------------------------------- 3. explainer quality


def _paired(result: dict[str, Any]) -> dict[str, dict[int, dict[str, float]]]:
    rows: dict[str, dict[int, dict[str, float]]] = {}
    for row in result.get("per_example", []):
        rows.setdefault(row["method"], {})[row["example"]] = row
    return rows


def _difference(result: dict[str, Any], paired: dict, a: str, b: str, measure: str) -> tuple[float, float | None]:
    """Mean of a - b over shared examples and its standard error (paired when per-example rows exist)."""
    by = {r["method"]: r for r in result["summary"]}
    mine, theirs = paired.get(a, {}), paired.get(b, {})
    shared = [e for e in mine if e in theirs and mine[e].get(measure) is not None
              and theirs[e].get(measure) is not None]
    if len(shared) >= 2:
        diffs = [mine[e][measure] - theirs[e][measure] for e in shared]
        mean = sum(diffs) / len(diffs)
        var = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
        return mean, math.sqrt(var / len(diffs))
    se_a, se_b = by[a].get(f"{measure}_se"), by[b].get(f"{measure}_se")
    se = math.sqrt(se_a ** 2 + se_b ** 2) if se_a is not None and se_b is not None else None
    return by[a][measure] - by[b][measure], se


def _ranked(result: dict[str, Any], measure: str) -> list[dict[str, Any]]:
    rows = [r for r in result["summary"] if not r.get("is_control") and r.get(measure) is not None]
    higher_better = measure == "comprehensiveness"
    return sorted(rows, key=lambda r: (-r[measure] if higher_better else r[measure], r["method"]))


def faithfulness_leaders(result: dict[str, Any], measure: str) -> list[str]:
    """The best method by ``measure`` and those within two standard errors of it (paired)."""
    ranked = _ranked(result, measure)
    if not ranked:
        return []
    paired = _paired(result)
    best = ranked[0]["method"]
    leaders = [best]
    for row in ranked[1:]:
        diff, se = _difference(result, paired, best, row["method"], measure)
        if se is not None and abs(diff) <= 2 * se:
            leaders.append(row["method"])
    return leaders


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _v(value: float) -> str:
    """A faithfulness value in a sentence: 3 decimals, or 2 significant digits when smaller."""
    return f"{value:.3f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"


MEANINGFUL = 0.01  # below this comprehensiveness, deleting tokens barely moves the probability


def faithfulness_statement(result: dict[str, Any]) -> list[str]:
    """A few plain sentences on which methods are most faithful, generated from the numbers."""
    ranked_c = _ranked(result, "comprehensiveness")
    if not ranked_c:
        return ["No attribution method other than the control was measured for faithfulness."]
    by = {r["method"]: r for r in result["summary"]}
    n = max(r["examples"] for r in ranked_c)
    lead_c = faithfulness_leaders(result, "comprehensiveness")
    lead_s = faithfulness_leaders(result, "sufficiency")
    best = by[lead_c[0]]["comprehensiveness"]
    sentences = []
    if best < MEANINGFUL:
        sentences.append(
            f"On these {n} examples, deleting the tokens any method ranks highest hardly changes this model's "
            f"prediction (the best comprehensiveness, {lead_c[0]}'s, is {_v(best)} in probability), so this "
            "faithfulness test cannot tell the methods apart here.")
    elif len(lead_c) == 1:
        runner_up = ranked_c[1]["method"] if len(ranked_c) > 1 else None
        tail = (f"; the next, {runner_up}, has {_v(by[runner_up]['comprehensiveness'])}, lower by more than two "
                "standard errors") if runner_up else ""
        sentences.append(
            f"On these {n} examples, deleting the tokens that {lead_c[0]} ranks highest changes this model's "
            f"prediction the most (comprehensiveness {_v(best)}{tail}).")
    else:
        values = ", ".join(f"{m} {_v(by[m]['comprehensiveness'])}" for m in lead_c)
        sentences.append(
            f"On these {n} examples, deleting the tokens ranked highest by {_names(lead_c)} changes this model's "
            f"prediction the most (comprehensiveness {values}); their differences are within two standard "
            "errors, so treat them as tied.")
    if best >= MEANINGFUL:
        if lead_s and set(lead_s) == set(lead_c):
            sentences.append("The same methods lead on sufficiency (their top tokens alone keep the prediction best).")
        elif lead_s:
            values_s = (_v(by[lead_s[0]]["sufficiency"]) if len(lead_s) == 1
                        else ", ".join(f"{m} {_v(by[m]['sufficiency'])}" for m in lead_s))
            sentences.append(f"By sufficiency (lower is better: their top tokens alone keep the prediction), the "
                             f"best {'is' if len(lead_s) == 1 else 'are'} {_names(lead_s)} ({values_s}).")
    control = result.get("control")
    if control and control in by and best >= MEANINGFUL:
        paired = _paired(result)
        below, unclear = [], []
        for row in ranked_c:
            m = row["method"]
            if row.get("comprehensiveness_lift") is None:
                continue
            diff_c, se_c = _difference(result, paired, m, control, "comprehensiveness")
            diff_s, se_s = _difference(result, paired, control, m, "sufficiency")
            if diff_c < 0 and diff_s < 0:
                clear = (se_c is not None and diff_c < -2 * se_c) or (se_s is not None and diff_s < -2 * se_s)
                below.append((m, clear))
            elif se_c is None or diff_c <= 2 * se_c:
                unclear.append(m)
        ref = by[control]
        for m, clear in below:
            strength = ("the gap is larger than two standard errors" if clear
                        else "the gap is within two standard errors")
            sentences.append(
                f"{m} scores below the random control on both measures (comprehensiveness "
                f"{_v(by[m]['comprehensiveness'])} vs {_v(ref['comprehensiveness'])}, sufficiency "
                f"{_v(by[m]['sufficiency'])} vs {_v(ref['sufficiency'])}; {strength}): its ranking is "
                f"{'worse than' if clear else 'no better than'} chance for this model, so do not read its heatmaps "
                "as evidence of what the model uses.")
        if unclear:
            sentences.append(
                f"{_names(unclear)} {'is' if len(unclear) == 1 else 'are'} not clearly better than the random "
                "control on comprehensiveness (lift within two standard errors of zero).")
    ses = [r.get("comprehensiveness_se") for r in ranked_c if r.get("comprehensiveness_se") is not None]
    resolution = f"; with {n} examples, differences below about {_v(2 * max(ses))} are not reliable" if ses else ""
    sentences.append(
        "These are deletion tests on this model and data: they measure how much the model's output depends on "
        "the highlighted tokens, not whether an explanation is plausible to a person, and perturbation methods "
        f"(occlusion, LIME, SHAP) optimise something close to what is measured{resolution}.")
    return sentences


def quality(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "faithfulness"),
                               "agreement_missing": metric_error(run, "agreement"),
                               "cost_missing": metric_error(run, "cost")}
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        lead_c = set(faithfulness_leaders(faithfulness, "comprehensiveness"))
        lead_s = set(faithfulness_leaders(faithfulness, "sufficiency"))
        rows = []
        for r in faithfulness["summary"]:
            below = (not r.get("is_control") and r.get("comprehensiveness_lift") is not None
                     and r["comprehensiveness_lift"] < 0 and (r.get("sufficiency_lift") or 0) < 0)
            rows.append({
                "method": r["method"], "examples": fmt(r["examples"]),
                "comprehensiveness": fmt_se(r["comprehensiveness"], r.get("comprehensiveness_se")),
                "sufficiency": fmt_se(r["sufficiency"], r.get("sufficiency_se")),
                "comp_lift": _signed(r.get("comprehensiveness_lift")), "suff_lift": _signed(r.get("sufficiency_lift")),
                "comp_win": pct(r.get("comprehensiveness_win_rate")), "suff_win": pct(r.get("sufficiency_win_rate")),
                "control": bool(r.get("is_control")), "below": below,
                "lead_c": r["method"] in lead_c, "lead_s": r["method"] in lead_s,
            })
        context.update(
            definitions=faithfulness.get("definitions") or {"definition": faithfulness["definition"]},
            fractions=", ".join(pct(f) for f in faithfulness["fractions"]),
            control=faithfulness.get("control"),
            table=rows,
            statement=faithfulness_statement(faithfulness),
            curves=charts.aopc_curves("chart-aopc", faithfulness["curve"], faithfulness.get("control"))
            if faithfulness["curve"] else None,
            skipped=faithfulness.get("skipped", []),
        )
    agreement = metric(run, "agreement")
    if agreement and agreement["methods"]:
        context["agreement"] = charts.agreement_heatmap("chart-agreement", agreement["matrix"], agreement["methods"],
                                                        agreement["k"])
        context["agreement_definition"] = agreement["definition"]
        context["agreement_k"] = agreement["k"]
        pairs = [p for p in agreement["pairs"] if p["spearman"] is not None]
        pairs.sort(key=lambda p: -p["spearman"])
        context["agreement_extremes"] = {
            "most": [(p["method_a"], p["method_b"], fmt(p["spearman"])) for p in pairs[:3]],
            "least": [(p["method_a"], p["method_b"], fmt(p["spearman"])) for p in pairs[-3:][::-1]],
        } if len(pairs) >= 2 else None
    cost = metric(run, "cost")
    if cost:
        context["cost_rows"] = [{"method": r["method"], "examples": fmt(r["examples"]),
                                 "seconds": seconds(r["seconds"]),
                                 "per_example": seconds(r["seconds_per_example"]),
                                 "evaluations": fmt(r["evaluations_per_example"], 1),
                                 "share": pct(r["share_of_seconds"], 1)} for r in cost["methods"]]
        context["cost_chart"] = charts.cost_bars("chart-cost", cost["methods"]) if cost["methods"] else None
        context["cost_definition"] = cost["definition"]
    return context


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


# ----------------------------------------------------------------------------- 4. global explanations


# Common English function words the page can hide from the top-word charts. Negations (no, not, nor, never),
# contrast words (but, though, although) and degree words (too, very, so, more, most, only, just) are left
# out on purpose: they carry sentiment.
FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every all both either neither such
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
and or if then than as because while
of at by for from in into on onto to with without about above below over under up down out off
through between among after before during against upon within
is are was were be been being am has have had having do does did doing will would shall should can
could may might must
which who whom whose what when where why how there here s t d ll re ve m
""".split())


def is_function_word(word: str) -> bool:
    return word.strip().lower() in FUNCTION_WORDS


def faithfulness_order(run: RunResult, methods: list[str]) -> list[str]:
    """``methods`` ordered by comprehensiveness lift over the random control, best first; the control and
    methods without a faithfulness figure keep their order after the others."""
    faithfulness = metric(run, "faithfulness")
    lifts = {r["method"]: r["comprehensiveness_lift"] for r in (faithfulness or {}).get("summary", [])
             if not r.get("is_control") and r.get("comprehensiveness_lift") is not None}
    ranked = sorted((m for m in methods if m in lifts), key=lambda m: -lifts[m])
    return ranked + [m for m in methods if m not in lifts]


def global_explanations(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "top_words"),
                               "errors_missing": metric_error(run, "error_words")}
    top = metric(run, "top_words")
    if top:
        methods = [m for m in methods_with_scores(run) if any(r["method"] == m for r in top["words"])]
        methods += sorted({r["method"] for r in top["words"]} - set(methods))
        methods = faithfulness_order(run, methods)
        faithfulness = metric(run, "faithfulness")
        lifts = {r["method"]: r.get("comprehensiveness_lift") for r in (faithfulness or {}).get("summary", [])}
        names = class_names(run)
        words = [{**r, "word": shown(r["word"]), "function_word": is_function_word(r["word"])} for r in top["words"]]
        tables = []
        for ci in sorted({r["class_id"] for r in words}):
            ranks = max((r["rank"] for r in words if r["class_id"] == ci), default=0)
            grid = {(r["method"], r["rank"]): r for r in words if r["class_id"] == ci}
            rows = [{"rank": rank, "cells": [grid.get((m, rank), {"word": "", "function_word": False})
                                             for m in methods]}
                    for rank in range(1, ranks + 1)]
            tables.append({"class": names[ci] if ci < len(names) else str(ci), "rows": rows})
        default = methods[0] if methods and lifts.get(methods[0]) is not None else None
        context.update(definition=top["definition"], methods=methods, tables=tables, default_method=default,
                       default_lift=_signed(lifts.get(default)) if default else None,
                       function_words=", ".join(sorted(FUNCTION_WORDS)),
                       chart=charts.top_words_chart("chart-top-words", words, methods, names)
                       if words else None)
    errors = metric(run, "error_words")
    if errors:
        context.update(
            error_definition=errors["definition"],
            error_rate=pct(errors.get("error_rate"), 1),
            error_counts=(errors["misclassified_examples"], errors["correct_examples"]),
            error_rows=[{"rank": r["rank"], "word": shown(r["word"]), "misclassified": r["misclassified"],
                         "correct": r["correct"], "error_rate": pct(r["error_rate"]),
                         "lor": fmt(r["log_odds_ratio"], 2), "z": fmt(r["z"], 2)} for r in errors["words"]],
        )
    return context


# ----------------------------------------------------------------------------- 5. attention atlas


def attention_atlas(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "attention_atlas")}
    atlas = metric(run, "attention_atlas")
    if atlas and atlas["per_head"]:
        heads = atlas["per_head"]
        focused = min(heads, key=lambda r: r["normalized_entropy"])
        spread = max(heads, key=lambda r: r["relative_distance"])
        sink = max(heads, key=lambda r: r["special_share"])
        layers = atlas["per_layer"]
        notes = [
            f"Most focused head: layer {focused['layer']}, head {focused['head']} (entropy "
            f"{focused['entropy']:.2f} nats, {pct(focused['normalized_entropy'])} of the uniform maximum).",
            f"Most global head: layer {spread['layer']}, head {spread['head']} (mean distance "
            f"{spread['distance']:.1f} tokens, {pct(spread['relative_distance'])} of the longest possible).",
            f"Strongest special-token sink: layer {sink['layer']}, head {sink['head']} "
            f"({pct(sink['special_share'])} of its attention on [CLS]/[SEP]-like tokens).",
        ]
        if layers:
            first, last = layers[0], layers[-1]
            notes.append(f"Mean share on special tokens goes from {pct(first['special_share'])} in layer "
                         f"{first['layer']} to {pct(last['special_share'])} in layer {last['layer']}.")
        context.update(
            definitions=atlas.get("definitions") or {"definition": atlas["definition"]},
            examples=atlas["examples"], n_layers=atlas["n_layers"], n_heads=atlas["n_heads"],
            heatmaps=charts.atlas_heatmaps("chart-atlas", heads), notes=notes,
            rollout=charts.rollout_chart("chart-rollout", atlas["rollout"]) if atlas["rollout"] else None,
            residual_weight=atlas.get("residual_weight"),
            per_layer=[{"layer": r["layer"], "entropy": fmt(r["entropy"], 2), "distance": fmt(r["distance"], 1),
                        "special": pct(r["special_share"])} for r in layers],
        )
    return context


# ----------------------------------------------------------------------------- 6. example explorer


TOKEN_NOTE = (
    "Each row is one method's scores for the target class (the predicted class unless the run used the "
    "labels), divided by the largest absolute score that method gives a real token of this example (special "
    "tokens such as [CLS] and [SEP] left out), so colours compare positions within a method, not methods with "
    "each other: red supports the target class, blue speaks against it, white is 0. A special token scored "
    "beyond that largest value is clamped to full colour (attention and rollout often park most of their "
    "weight on them, which would otherwise leave every word near white); its tooltip says so. Methods that "
    "only give non-negative scores (attention, rollout, saliency) can only be red. Hover a cell for the raw "
    "score (rounded to 4 significant digits)."
)
WORD_NOTE = (
    "The same scores summed over each word's sub-word tokens, each row again divided by its largest absolute "
    "value. Word-level methods (LIME) score words directly; their token scores share each word's score "
    "equally, so the sum gives the word score back."
)
LAYER_NOTE = (
    "Attribution mass of every layer's output per token (integrated gradients with each layer's output "
    "as the input, summed over the hidden dimension), divided by the largest absolute value over the real "
    "tokens of the whole matrix; special tokens beyond it are clamped to full colour, as above."
)
ATTENTION_NOTE = (
    "Query x key attention weights (each row sums to 1) of the selected layer and head, or their mean over "
    "heads; the colour scale runs from 0 to the largest weight shown, on a square root so small weights stay "
    "visible. Weights are stored rounded to 0.001, as whole thousandths in one row per layer and head."
)


OPEN_EXAMPLES = 25  # examples shown opened at first; the others open on a click (all of them for printing)


@dataclass(frozen=True)
class _Layout:
    """Which charts the explorer can draw and their shared templates."""

    methods: list[str]
    overrides: frozenset[str]
    templates: list[Template]
    layer_method: str | None
    layer_names: list[str] | None
    attention_method: str | None
    attention_shape: tuple[int, int] | None


def _layer_label(name: str) -> str:
    last = str(name).split(".")[-1]
    return f"layer {last}" if last.isdigit() else last


def _folds_to_words(run: RunResult, ex: Example, tokens: list[float], words: list[float]) -> bool:
    """Whether the word scores are the sums of the token scores (then the word view is derived)."""
    if len(tokens) != len(ex.tokens) or len(words) != len(ex.words) or len(ex.word_ids) != len(ex.tokens):
        return True
    sums = [0.0] * len(words)
    for score, word in zip(tokens, ex.word_ids):
        if word is not None and word < len(sums) and score is not None and math.isfinite(score):
            sums[word] += score
    return all(not math.isfinite(w) or math.isclose(a, w, rel_tol=1e-6, abs_tol=1e-9) for a, w in zip(sums, words))


def _layout(run: RunResult) -> _Layout:
    methods = methods_with_scores(run)
    keys = charts.key_table(methods, "m")
    by_index = {ex.index: ex for ex in run.examples}
    overrides = frozenset(
        f"m{i}" for i, method in enumerate(methods)
        if any(index in by_index and not _folds_to_words(run, by_index[index], a.tokens, a.words)
               for index, a in run.attributions[method].items())
    )
    templates = [
        charts.position_matrix_template("tpl-tokens", "tok", keys, row_title="method", unit="token",
                                        legend="score / max |score| on the row's real tokens", per_row=True),
        charts.word_matrix_template("tpl-words", keys, sorted(overrides)),
    ]
    layer_method = layer_names = None
    for method in methods:
        for attribution in run.attributions[method].values():
            if attribution.extra.get("layers") and attribution.extra.get("layer_names"):
                layer_method, layer_names = method, [str(n) for n in attribution.extra["layer_names"]]
                break
        if layer_method:
            break
    if layer_names:
        layer_keys = charts.key_table(layer_names, "L", [_layer_label(n) for n in layer_names])
        templates.append(charts.position_matrix_template(
            "tpl-layers", "tok", layer_keys, row_title="layer output", unit="token",
            legend="score / max |score| on the matrix's real tokens", per_row=False, height_step=14))
    attention_method = shape = None
    for method in methods:
        for attribution in run.attributions[method].values():
            maps = stored_maps(attribution.extra)
            if maps:
                attention_method = method
                shape = (1 + max(r["layer"] for r in maps), 1 + max(r["head"] for r in maps))
                break
        if attention_method:
            break
    if shape:
        templates.append(charts.attention_template("tpl-attention", *shape))
    return _Layout(methods, overrides, templates, layer_method, layer_names, attention_method, shape)


def explorer(run: RunResult) -> dict[str, Any]:
    layout = _layout(run)
    items = [_example(run, ex, layout) for ex in run.examples]
    for position, item in enumerate(items):
        item["open"] = position < OPEN_EXAMPLES
    names = class_names(run)
    kept = sum(item["attention"] for item in items)
    return {
        "examples": items,
        "templates": layout.templates,
        "classes": list(enumerate(names)),
        "methods": layout.methods,
        "layer_method": layout.layer_method,
        "attention_method": layout.attention_method,
        "attention_kept": kept,
        "attention_limit": run.config.get("attention_maps"),
        "notes": {"tokens": TOKEN_NOTE, "words": WORD_NOTE, "layers": LAYER_NOTE, "attention": ATTENTION_NOTE},
    }


def _example(run: RunResult, ex: Example, layout: _Layout) -> dict[str, Any]:
    confidence = max(ex.probabilities) if ex.probabilities else None
    names = class_names(run)
    item: dict[str, Any] = {
        "index": ex.index,
        "anchor": f"example-{ex.index}",
        "text": shown(ex.text),
        "label": label_name(run, ex.label),
        "prediction": label_name(run, ex.prediction),
        "label_id": "" if ex.label is None else ex.label,
        "prediction_id": "" if ex.prediction is None else ex.prediction,
        "correct": ex.correct,
        "confidence": "" if confidence is None else f"{confidence:.4f}",
        "confidence_text": "-" if confidence is None else f"{confidence:.2f}",
        "probabilities": [(names[i] if i < len(names) else str(i), f"{p:.3f}") for i, p in enumerate(ex.probabilities)],
        "target": label_name(run, ex.target),
        "truncated": ex.truncated,
        "group": None if ex.group is None else shown(ex.group),
        "error": ex.error,
        "method_errors": [f for f in run.failures if f.example == ex.index and f.method],
        "charts": [],
        "data_id": None,
        "data": None,
        "attention": False,
    }
    if not ex.ok:
        return item
    row: dict[str, Any] = {"t": [shown(t) for t in ex.tokens], "w": list(ex.word_ids),
                           "W": [shown(w) for w in ex.words]}
    scored = 0
    for i, method in enumerate(layout.methods):
        attribution = run.attributions[method].get(ex.index)
        tokens = attribution.tokens if attribution is not None and len(attribution.tokens) == len(ex.tokens) else []
        scored += bool(tokens)
        row[f"m{i}"] = charts.sigs(tokens)
        if f"m{i}" in layout.overrides:
            words = attribution.words if attribution is not None else []
            spread = [] if _folds_to_words(run, ex, tokens, words) else _spread(words, ex.word_ids)
            row[f"u{i}"] = charts.sigs(spread)
    data_id = f"ex{ex.index}-data"
    data: dict[str, Any] = {}
    chart_list: list[Chart] = []
    size = f"{len(ex.tokens)} tokens"
    if scored and len(ex.word_ids) == len(ex.tokens):
        layers = _layer_rows(run, ex, layout)
        for key, values in (layers or {}).items():
            row[key] = charts.sigs(values)
        data["tok"] = [row]
        chart_list.append(Chart(f"ex{ex.index}-tokens", f"token by method attribution heatmap, {size}",
                                template="tpl-tokens", data=data_id, css="tokens"))
        chart_list.append(Chart(f"ex{ex.index}-words", f"word by method attribution heatmap, {len(ex.words)} words",
                                template="tpl-words", data=data_id, css="words"))
        if layers:
            chart_list.append(Chart(f"ex{ex.index}-layers", f"layer by token attribution matrix, {size}",
                                    template="tpl-layers", data=data_id, css="layers"))
    attention = _attention_rows(run, ex, layout)
    if attention is not None:
        data["att"] = attention
        data["pos"] = [{"i": i, "t": shown(token)} for i, token in enumerate(ex.tokens)]
        chart_list.append(Chart(f"ex{ex.index}-attention", f"query by key attention heatmap, {size}",
                                template="tpl-attention", data=data_id, css="attention"))
        item["attention"] = True
    if data:
        item.update(data=data, data_id=data_id, charts=chart_list)
    return item


def _spread(words: list[float], word_ids: list[int | None]) -> list[float]:
    """Each word's score shared equally among its tokens (special tokens 0), so sums give it back."""
    counts: dict[int, int] = {}
    for w in word_ids:
        if w is not None:
            counts[w] = counts.get(w, 0) + 1
    return [0.0 if w is None or w >= len(words) else words[w] / counts[w] for w in word_ids]


def _layer_rows(run: RunResult, ex: Example, layout: _Layout) -> dict[str, list[float]] | None:
    if not layout.layer_method:
        return None
    attribution = run.attributions[layout.layer_method].get(ex.index)
    if attribution is None:
        return None
    names, matrix = attribution.extra.get("layer_names"), attribution.extra.get("layers")
    if not matrix or [str(n) for n in names or []] != layout.layer_names:
        return None
    if any(len(row) != len(ex.tokens) for row in matrix):
        return None
    return {f"L{i}": row for i, row in enumerate(matrix)}


def stored_maps(extra: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An attribution's kept attention maps as stored rows (one per layer and head), old nested ones too."""
    maps = extra.get("maps")
    if not maps:
        return None
    return maps if isinstance(maps[0], dict) else charts.nested_maps_as_rows(maps)


def _attention_rows(run: RunResult, ex: Example, layout: _Layout) -> list[dict[str, Any]] | None:
    """The page's attention rows of one example, or None where it has no readable maps of the layout's shape."""
    if not layout.attention_method or not layout.attention_shape:
        return None
    attribution = run.attributions[layout.attention_method].get(ex.index)
    maps = stored_maps(attribution.extra) if attribution else None
    if not maps or len(maps) != layout.attention_shape[0] * layout.attention_shape[1]:
        return None
    try:
        rows = charts.attention_rows(maps)
    except ValueError:  # a damaged results folder: this example has no attention heatmap
        return None
    n = len(ex.tokens)
    return None if any(r["n"] != n or len(r["a"]) != n * n for r in rows) else rows


# ----------------------------------------------------------------------------- 7. methodology


DISPLAY_NOTES = (
    "Scores shown in charts are rounded to 4 significant digits and attention weights to 0.001; tables "
    "round to 3 decimals. The saved results keep full precision.",
    "Token scores are for the target class (the predicted class by default). Word scores are the sum "
    "of the word's sub-word token scores; word-level methods (LIME) share a word's score equally among "
    "its tokens for the token view.",
    "Bidirectional control characters in dataset text (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) "
    "are shown as visible markers such as ⟨U+202E⟩ in the page, so none can reorder the text around it; the "
    "saved results keep the text unchanged.",
)


PRECISION_NOTE = (
    "The model ran under PyTorch's bfloat16 autocast (precision bfloat16): its matrix products compute in "
    "bfloat16 and autocast's rules decide the other operations; the weights stay float32, and the model's "
    "outputs are turned to float32 before reportgen computes any probability, gradient product, score or "
    "statistic from them. Scores differ slightly from a float32 run of the same configuration; reportgen's "
    "benchmark (benchmarks/RESULTS.md) measures by how much on the demo model."
)


def methodology(run: RunResult) -> dict[str, Any]:
    from .render import javascript_notice

    methods = [{
        "name": info.name, "description": info.description,
        "params": [(k, value_text(v)) for k, v in sorted(info.params.items())],
        "changed": [(k, value_text(v), value_text(info.defaults[k])) for k, v in sorted(info.params.items())
                    if k in info.defaults and info.defaults[k] != v],
        "seconds": seconds(info.seconds), "examples": info.examples, "evaluations": fmt(info.model_evaluations),
    } for info in run.methods.values()]
    metrics = []
    for name, entry in run.metrics.items():
        result = entry.get("result") or {}
        definitions = result.get("definitions")
        if isinstance(definitions, dict):
            parts = [(key, str(text)) for key, text in definitions.items()]
        else:
            parts = [("definition", str(result.get("definition", "")))] if result.get("definition") else []
        metrics.append({"name": name, "description": entry.get("description", ""),
                        "params": [(k, value_text(v)) for k, v in sorted((entry.get("params") or {}).items())],
                        "definitions": parts, "seconds": seconds(entry.get("seconds")), "error": entry.get("error")})
    keep = run.config.get("attention_maps")
    attention = (f"Full attention maps (every layer and head) are kept for at most {keep} examples "
                 "(RunConfig.attention_maps), the first explained ones; other examples have no attention "
                 "heatmap in the explorer." if keep is not None else "")
    precision = PRECISION_NOTE if run.config.get("precision") == "bfloat16" else ""
    return {
        "methods": methods,
        "metrics": metrics,
        "normalisation": [("Tokens x methods", TOKEN_NOTE), ("Words x methods", WORD_NOTE),
                          ("Layers x tokens", LAYER_NOTE), ("Attention, query x key", ATTENTION_NOTE)],
        "display": list(DISPLAY_NOTES) + [note for note in (attention, precision) if note] + [
            "Accuracy on the explained examples comes with a 95% Wilson score interval: (p + z²/2n ± "
            "z·sqrt(p(1 - p)/n + z²/4n²)) / (1 + z²/n) with p = correct / n, n the labeled explained examples and "
            "z = 1.96. When the "
            "examples are a sample (--limit), it is a seeded, class-stratified one: each class keeps its share of "
            "the rows read.",
            "Global explanations: the method picked at first is the one with the largest comprehensiveness lift "
            "over the random control, and the methods are listed in that order. Its \"hide function words\" box "
            f"hides these {len(FUNCTION_WORDS)} English function words (a fixed list built into reportgen): "
            f"{', '.join(sorted(FUNCTION_WORDS))}. Negations (no, not, nor, never), contrast words (but, though, "
            "although) and degree words (too, very, so, more, most, only, just) are not in it: they carry "
            "sentiment."],
        "config": [(key, value_text(value)) for key, value in run.config.items()],
        "versions": sorted(run.versions.items()),
        "javascript": javascript_notice(),
    }


# ----------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    template: str
    build: Callable[[RunResult], dict[str, Any]]


SECTIONS = (
    Section("summary", "Summary", "summary.html.j2", summary),
    Section("performance", "Model performance", "performance.html.j2", performance),
    Section("quality", "Explainer quality", "quality.html.j2", quality),
    Section("global", "Global explanations", "global.html.j2", global_explanations),
    Section("atlas", "Attention atlas", "atlas.html.j2", attention_atlas),
    Section("examples", "Example explorer", "examples.html.j2", explorer),
    Section("methodology", "Methodology", "methodology.html.j2", methodology),
)
