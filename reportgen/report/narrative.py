"""The report's sentences: what the numbers say, generated from them, in plain English."""

from __future__ import annotations

from typing import Any

from ..measure.faithfulness import difference, leaders, ranked
from ..ops.stats import compared, wilson
from ..results.records import RunResult
from .figures import explained_accuracy, held_out_accuracy, interval_text, metric, sample
from .format import fmt


def sample_note(run: RunResult) -> str:
    """Which accuracy is measured on which set, and whether they agree, in a sentence or two."""
    info, accuracy, held_out = sample(run), explained_accuracy(run), held_out_accuracy(run)
    multi = metric(run, "multi_label")
    if multi and multi["counts"]["scored"]:
        return multi_label_note(info["text"], multi)
    entities = metric(run, "entities")
    if entities and entities["counts"]["scored"]:
        micro = entities["micro"] or {}
        return (f"{info['text']}. Each entity the model finds is explained on its own; quality is counted per row, "
                f"on the {fmt(entities['counts']['scored'])} explained rows with tags: entity micro-F1 "
                f"{fmt(micro.get('f1'))} ({fmt(micro.get('correct', 0))} of {fmt(micro.get('support', 0))} entities "
                f"found exactly, {fmt(micro.get('predicted', 0))} predicted), word tag accuracy "
                f"{fmt(entities['words']['accuracy'])}.")
    generated = metric(run, "generation")
    if generated and generated["tokens"]:
        outputs = "its reference" if generated["references"] == generated["rows"] else "the model's greedy output"
        return (f"{info['text']}. Each row's output ({outputs}) is explained token by token: "
                f"{fmt(generated['tokens'])} output tokens, a perplexity of {fmt(generated['perplexity'], 1)} over them "
                f"and a mean log-probability of {fmt(generated['mean_log_probability'])} per token.")
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
        text += (f" The held-out accuracy of {reference:.3f} was measured on {where} right after fine-tuning, a "
                 "larger set; "
                 + (f"it lies inside this interval, so the gap is within what a sample of {fmt(scored)} varies by."
                    if agree else "it lies outside this interval, so the explained sample is not typical of it."))
    return text


def multi_label_note(sampled: str, result: dict[str, Any]) -> str:
    """What a multi-label model's quality is measured on, and its subset accuracy and F1."""
    overall, scored = result["overall"], result["counts"]["scored"]
    exact = round(overall["subset_accuracy"] * scored)
    return (f"{sampled}. Each row is explained once per label it is given; quality is counted per row, on the "
            f"{fmt(scored)} explained rows with labels: subset accuracy {overall['subset_accuracy']:.3f} ({exact} "
            f"rows with every label right, {interval_text(wilson(exact, scored))}), micro-F1 "
            f"{overall['micro_f1']:.3f}, macro-F1 {overall['macro_f1']:.3f} at threshold {result['threshold']}.")


def calibration_note(calibration: dict[str, Any]) -> str:
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


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _v(value: float) -> str:
    """A faithfulness value in a sentence: 3 decimals, or 2 significant digits when smaller."""
    return f"{value:.3f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"


MEANINGFUL = 0.01  # below this comprehensiveness, deleting tokens barely moves the probability


def explained_noun(run: RunResult) -> str:
    """What a run's explained items are called: examples, or explanations where a row is explained once per
    label or entity."""
    return "explanations" if any(ex.source is not None for ex in run.examples) else "examples"


def faithfulness_statement(result: dict[str, Any], noun: str = "examples") -> list[str]:
    """A few plain sentences on which methods are most faithful, generated from the numbers (``noun``: what
    was explained, see :func:`explained_noun`)."""
    ranked_c = ranked(result, "comprehensiveness")
    if not ranked_c:
        return ["No attribution method other than the control was measured for faithfulness."]
    by = {r["method"]: r for r in result["summary"]}
    n = max(r["examples"] for r in ranked_c)
    lead_c = leaders(result, "comprehensiveness")
    lead_s = leaders(result, "sufficiency")
    best = by[lead_c[0]]["comprehensiveness"]
    sentences = []
    if best < MEANINGFUL:
        sentences.append(
            f"On these {n} {noun}, deleting the tokens any method ranks highest hardly changes this model's "
            f"prediction (the best comprehensiveness, {lead_c[0]}'s, is {_v(best)} in probability), so this "
            "faithfulness test cannot tell the methods apart here.")
    elif len(lead_c) == 1:
        runner_up = ranked_c[1]["method"] if len(ranked_c) > 1 else None
        tail = (f"; the next, {runner_up}, has {_v(by[runner_up]['comprehensiveness'])}, lower by more than two "
                "standard errors") if runner_up else ""
        sentences.append(
            f"On these {n} {noun}, deleting the tokens that {lead_c[0]} ranks highest changes this model's "
            f"prediction the most (comprehensiveness {_v(best)}{tail}).")
    else:
        values = ", ".join(f"{m} {_v(by[m]['comprehensiveness'])}" for m in lead_c)
        sentences.append(
            f"On these {n} {noun}, deleting the tokens ranked highest by {_names(lead_c)} changes this model's "
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
        worse, unclear = [], []
        for row in ranked_c:
            verdict = versus_control(row, result)
            if row["method"] == control or row.get("comprehensiveness_lift") is None or verdict == "better":
                continue
            (worse if verdict == "worse" else unclear).append(row["method"])
        ref = by[control]
        for m in worse:
            sentences.append(
                f"{m} scores below the random control (comprehensiveness {_v(by[m]['comprehensiveness'])} vs "
                f"{_v(ref['comprehensiveness'])}, the gap larger than two standard errors): its ranking is worse "
                "than chance for this model, so do not read its heatmaps as evidence of what the model uses.")
        if unclear:
            sentences.append(
                f"{_names(unclear)} {'is' if len(unclear) == 1 else 'are'} not clearly better than the random "
                "control on comprehensiveness (lift within two standard errors of zero).")
    sentences.append(
        "These are deletion tests on this model and data: they measure how much the model's output depends on "
        "the highlighted tokens, not whether an explanation is plausible to a person, and perturbation methods "
        "(occlusion, LIME, SHAP) optimise something close to what is measured. Two methods, or a method and the "
        "control, differ only when their paired difference is beyond two standard errors.")
    return sentences


def versus_control(row: dict[str, Any], result: dict[str, Any]) -> str | None:
    """A method's faithfulness against the random control by the report's one rule, as the measure stage
    recorded it (or, for results written before it did, the same rule on the same paired differences)."""
    if "versus_control" in row:
        return row["versus_control"]
    control = result.get("control")
    if not control or row["method"] == control:
        return None
    return compared(*difference(result, row["method"], control, "comprehensiveness"))
