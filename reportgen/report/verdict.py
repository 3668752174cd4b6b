"""The verdict at the top of the report: in plain sentences, what model and data, how good, how sure, and how
far its explanations can be trusted, each figure read by the report's one rule."""

from __future__ import annotations

from typing import Any

from ..ops.stats import compared, standard_error, wilson
from ..results.queries import explained
from ..results.records import RunResult
from .figures import dataset_name, explained_accuracy, held_out_accuracy, interval_text, metric, model_name, sample
from .format import fmt, shown
from .narrative import versus_control


def verdict(run: RunResult) -> list[dict[str, str]]:
    """The verdict's lines, each a heading ("what", "how good", ...) and its sentence; a line is left out
    where the run has nothing to say it with."""
    lines = [("What", what(run)), ("How good", how_good(run)), ("How sure", how_sure(run)),
             ("Explanations", explanations(run))]
    return [{"heading": heading, "text": text} for heading, text in lines if text]


SHORT_HASH = 12  # hex digits of a sha256 or commit the verdict shows (the summary's tables show them whole)


def what(run: RunResult) -> str:
    model = run.model
    about = [shown(model["architecture"])] if model.get("architecture") else []
    if model.get("hub_id"):
        about.append(f"hub id {shown(model['hub_id'])} at revision {_short(model.get('revision')) or 'unknown'}")
    elif model.get("folder"):
        about.append(f"folder {shown(model['folder'])}" + (f", weights sha256 {_short(model['weights_sha256'])}"
                                                          if model.get("weights_sha256") else ""))
    data = f" (sha256 {_short(run.dataset['sha256'])})" if run.dataset.get("sha256") else ""
    built = f" ({'; '.join(about)})" if about else ""
    return f"{model_name(run)}{built} on {dataset_name(run)}{data}: {sample(run)['text']}."


def _short(digest: Any) -> str:
    return f"{digest[:SHORT_HASH]}…" if isinstance(digest, str) and len(digest) > SHORT_HASH else shown(digest or "")


def how_good(run: RunResult) -> str:
    accuracy = explained_accuracy(run)
    generation = metric(run, "generation")
    if accuracy is None:
        if generation and generation.get("tokens"):
            return (f"Perplexity {fmt(generation['perplexity'], 1)} over the {fmt(generation['tokens'])} output "
                    f"tokens, a mean log-probability of {fmt(generation['mean_log_probability'])} per token.")
        return ""
    value, correct, scored = accuracy
    text = (f"Accuracy {fmt(value)} on the {fmt(scored)} explained labeled examples "
            f"({interval_text(wilson(correct, scored))})")
    chance = chance_level(run)
    if chance is not None:
        text += f", against {fmt(chance)} for always predicting the most frequent label"
    held_out = held_out_accuracy(run)
    if held_out is not None and held_out[1]:
        text += (f"; {fmt(held_out[0])} on all {fmt(held_out[1])} held-out rows, measured after fine-tuning "
                 f"({interval_text(wilson(round(held_out[0] * held_out[1]), held_out[1]))})")
    return text + "."


def chance_level(run: RunResult) -> float | None:
    """The accuracy of always predicting the explained examples' most frequent label."""
    top = most_frequent_label(run)
    return top[1] if top else None


def most_frequent_label(run: RunResult) -> tuple[int, float, int] | None:
    """The explained rows' most frequent label, its share and the number of labeled rows."""
    labels = [ex.label for ex in explained(run) if ex.label is not None and ex.source is None]
    if not labels:
        return None
    top = max(sorted(set(labels)), key=labels.count)
    return top, labels.count(top) / len(labels), len(labels)


def confidence_gap(run: RunResult) -> dict[str, Any] | None:
    """Mean confidence (the predicted class's probability) and accuracy on the same labeled examples, the
    standard error of their per-example differences, and the rule's reading: "over", "under" or None."""
    if metric(run, "calibration") is None:
        return None
    scored = [ex for ex in explained(run) if ex.label is not None and ex.prediction is not None
              and ex.prediction < len(ex.probabilities)]
    if len(scored) < 2:
        return None
    gaps = [ex.probabilities[ex.prediction] - float(bool(ex.correct)) for ex in scored]
    confidence = sum(ex.probabilities[ex.prediction] for ex in scored) / len(scored)
    accuracy = sum(bool(ex.correct) for ex in scored) / len(scored)
    se = standard_error(gaps)
    reading = {"better": "over", "worse": "under"}.get(compared(confidence - accuracy, se) or "")
    return {"confidence": confidence, "accuracy": accuracy, "examples": len(scored), "se": se, "reading": reading}


def how_sure(run: RunResult) -> str:
    gap = confidence_gap(run)
    if gap is None:
        return ""
    if gap["reading"]:
        return (f"The model is {gap['reading']}-confident: its mean confidence is {fmt(gap['confidence'])} against "
                f"an accuracy of {fmt(gap['accuracy'])}.")
    return (f"The model's mean confidence {fmt(gap['confidence'])} matches its accuracy {fmt(gap['accuracy'])} "
            "within two standard errors.")


def explanations(run: RunResult) -> str:
    faithfulness = metric(run, "faithfulness")
    if not faithfulness or not faithfulness.get("control"):
        return ""
    rows = [row for row in faithfulness["summary"] if not row.get("is_control")
            and row.get("comprehensiveness_lift") is not None]
    if not rows:
        return ""
    verdicts = {row["method"]: versus_control(row, faithfulness) for row in rows}
    better = sorted((row for row in rows if verdicts[row["method"]] == "better"),
                    key=lambda row: -row["comprehensiveness_lift"])
    if not better:
        return (f"None of the {len(rows)} attribution methods ranks tokens clearly better than random on this "
                "model: read no heatmap as what the model uses.")
    rest = [row["method"] for row in rows if verdicts[row["method"]] != "better"]
    text = (f"{len(better)} of {len(rows)} attribution methods rank tokens clearly better than random; the most "
            f"faithful is {shown(better[0]['method'])} (comprehensiveness lift {better[0]['comprehensiveness_lift']:+.3f})")
    if rest:
        text += f"; {_listed(rest)} {'is' if len(rest) == 1 else 'are'} not"
    return text + "."


def _listed(names: list[Any]) -> str:
    names = [shown(name) for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
