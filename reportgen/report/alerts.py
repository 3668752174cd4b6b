"""The alerts of a run: what a reader must know before signing it off, each computed from the saved results
and pointing at the part of the report that holds its evidence.

Every alert that compares two numbers uses the report's one rule (``ops.stats.compared``: a difference
counts beyond two standard errors); the few fixed thresholds are the constants below, named in the
methodology by :data:`RULES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..ops.stats import compared, wilson
from ..results.records import RunResult
from .figures import metric, row_accounting
from .format import fmt, shown
from .narrative import versus_control
from .verdict import confidence_gap, most_frequent_label

HEAVY_TRUNCATION = 0.10  # share of explained examples cut at the model's maximum length
IMBALANCE = 0.75  # share of the labeled examples in the most frequent label
WIDE_INTERVAL = 0.20  # width of accuracy's 95% interval
DELTA_TOLERANCE = 0.05  # integrated gradients: |sum of scores - change of the explained logit|
BUDGETS = ("n_steps", "num_samples", "max_evals")  # the parameters that buy precision with model calls

RULES = (
    "Over- or under-confidence: the mean confidence (the predicted class's probability) differs from the "
    "accuracy on the same examples by more than two standard errors of the per-example differences.",
    "A class much less recalled: its recall is below the accuracy over all examples by more than two "
    "binomial standard errors of that recall.",
    "A method no better than random: its comprehensiveness lift over the random control is within two "
    "standard errors of zero (worse than random: more than two below).",
    f"Heavy truncation: more than {HEAVY_TRUNCATION:.0%} of the explained examples were cut at the model's "
    "maximum length.",
    f"Label imbalance: one label holds more than {IMBALANCE:.0%} of the labeled examples.",
    f"A wide interval: accuracy's 95% Wilson interval is wider than {WIDE_INTERVAL:.2f}.",
    "Failures: any example recorded as failed.",
    f"Integrated gradients: an example whose convergence delta exceeds {DELTA_TOLERANCE} in absolute value.",
    "A lowered budget: a method ran with fewer steps, samples or evaluations than its default.",
    "A failed sanity check: after every layer of the model is randomised, a method's word scores still "
    "correlate with the trained model's above the sanity statistic's threshold (0.5 unless set).",
)


@dataclass(frozen=True)
class Alert:
    kind: str  # a stable name, e.g. "overconfident"
    level: str  # "warning": it changes how the results read; "note": worth knowing
    text: str  # one plain sentence, its numbers in it
    evidence: str  # the id of the report element that holds the evidence
    evidence_label: str  # what that element is called, for the link


def alerts(run: RunResult) -> list[Alert]:
    """Every alert of ``run``, warnings first, in the order of CHECKS."""
    found = [alert for check in CHECKS for alert in check(run)]
    return sorted(found, key=lambda alert: alert.level != "warning")


def confidence_alerts(run: RunResult) -> list[Alert]:
    gap = confidence_gap(run)
    if gap is None or gap["reading"] is None:
        return []
    return [Alert(f"{gap['reading']}confident", "warning", f"{gap['reading'].capitalize()}-confident: mean "
                  f"confidence {fmt(gap['confidence'])} against accuracy {fmt(gap['accuracy'])} on "
                  f"{fmt(gap['examples'])} examples (gap {gap['confidence'] - gap['accuracy']:+.3f}, standard error "
                  f"{fmt(gap['se'])}).", "calibration", "calibration plot")]


def recall_alerts(run: RunResult) -> list[Alert]:
    performance = metric(run, "performance")
    if not performance or performance["overall"].get("accuracy") is None:
        return []
    accuracy = performance["overall"]["accuracy"]
    found = []
    for row in performance["per_class"]:
        recall, support = row.get("recall"), row.get("support") or 0
        if recall is None or support < 2:
            continue
        se = math.sqrt(max(recall * (1 - recall), 1 / support) / support)  # never 0, even at recall 0 or 1
        if compared(recall - accuracy, se) == "worse":
            found.append(Alert("low_recall", "warning", f"Class {shown(row['class'])} is recalled in "
                               f"{fmt(recall)} of its {fmt(support)} examples, against accuracy {fmt(accuracy)} "
                               "over all.", "per-class", "per-class table"))
    return found


def method_alerts(run: RunResult) -> list[Alert]:
    faithfulness = metric(run, "faithfulness")
    if not faithfulness or not faithfulness.get("control"):
        return []
    found = []
    for row in faithfulness["summary"]:
        verdict = versus_control(row, faithfulness)
        if row.get("is_control") or verdict not in ("tied", "worse"):
            continue
        lift, se = row.get("comprehensiveness_lift"), row.get("comprehensiveness_lift_se")
        how = "ranks tokens worse than" if verdict == "worse" else "is no better than"
        found.append(Alert(f"method_{verdict}", "warning", f"{shown(row['method'])} {how} a random ranking "
                           f"(comprehensiveness lift {lift:+.3f}, standard error {fmt(se)}): do not read its "
                           "heatmaps as what the model uses.", "chart-summary-lift", "faithfulness chart"))
    return found


def sanity_alerts(run: RunResult) -> list[Alert]:
    sanity = metric(run, "sanity")
    if not sanity:
        return []
    return [Alert("sanity_fails", "warning", f"{shown(row['method'])} fails the sanity check: with every layer of "
                  f"the model randomised, its word scores still correlate with the trained model's (mean Spearman "
                  f"{fmt(row['randomised_spearman'])} on {fmt(row['examples'])} examples, threshold "
                  f"{fmt(sanity['threshold'])}): its heatmaps may not show what the model learned.",
                  "chart-sanity", "sanity checks")
            for row in sanity["methods"] if row["verdict"] == "fails" and not row["is_control"]]


def truncation_alerts(run: RunResult) -> list[Alert]:
    counts = row_accounting(run)["counts"]
    if not counts["explained"] or counts["truncated"] / counts["explained"] <= HEAVY_TRUNCATION:
        return []
    return [Alert("truncation", "warning", f"{fmt(counts['truncated'])} of {fmt(counts['explained'])} explained "
                  f"examples ({counts['truncated'] / counts['explained']:.0%}) were cut at the model's maximum length "
                  f"({fmt(run.model.get('max_length'))} tokens): their explanations cover only what the model read.",
                  "accounting", "row accounting")]


def imbalance_alerts(run: RunResult) -> list[Alert]:
    top = most_frequent_label(run)
    if top is None or top[1] <= IMBALANCE:
        return []
    label, share, labeled = top
    name = run.labels[label] if label < len(run.labels) else str(label)
    return [Alert("imbalance", "note", f"Labels are imbalanced: {shown(name)} is {share:.0%} of the "
                  f"{fmt(labeled)} labeled examples, so always predicting it scores {fmt(share)}.",
                  "per-class", "per-class table")]


def interval_alerts(run: RunResult) -> list[Alert]:
    performance = metric(run, "performance")
    if not performance or performance["overall"].get("accuracy") is None:
        return []
    overall = performance["overall"]
    interval = wilson(overall["correct"], overall["examples"])
    if interval is None or interval[1] - interval[0] <= WIDE_INTERVAL:
        return []
    return [Alert("wide_interval", "note", f"With {fmt(overall['examples'])} labeled examples, accuracy's 95% "
                  f"interval runs from {fmt(interval[0])} to {fmt(interval[1])}: explain more examples to tell "
                  "apart models closer than that.", "performance", "performance")]


def failure_alerts(run: RunResult) -> list[Alert]:
    if not run.failures:
        return []
    first = run.failures[0]
    return [Alert("failures", "warning", f"{fmt(len(run.failures))} example{'s' if len(run.failures) > 1 else ''} "
                  f"failed and {'are' if len(run.failures) > 1 else 'is'} left out of the statistics (the first: "
                  f"{shown(first.reason)}).", "failures", "failures table")]


def delta_alerts(run: RunResult) -> list[Alert]:
    found = []
    for method in ("integrated_gradients", "layer_integrated_gradients"):
        deltas = [abs(d) for attribution in run.attributions.get(method, {}).values()
                  for d in _deltas(attribution.extra) if _finite(d)]
        above = [d for d in deltas if d > DELTA_TOLERANCE]
        if above:
            found.append(Alert(f"{method}_delta", "note", f"{method}: {fmt(len(above))} of {fmt(len(deltas))} "
                               f"convergence deltas exceed {DELTA_TOLERANCE} (largest {fmt(max(above))}); more "
                               "n_steps bring them down.", "methodology", "methodology"))
    return found


def _deltas(extra: Any) -> list[Any]:
    if not isinstance(extra, dict):
        return []
    if isinstance(extra.get("deltas"), list):
        return extra["deltas"]
    return [extra.get("delta")]


def _finite(value: Any) -> bool:
    """A number that can be compared (results read back may hold anything)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def budget_alerts(run: RunResult) -> list[Alert]:
    lowered = []
    for name, info in run.methods.items():
        for key in BUDGETS:
            given, default = info.params.get(key), info.defaults.get(key)
            if isinstance(given, (int, float)) and isinstance(default, (int, float)) and given < default:
                lowered.append(f"{shown(name)} {key} {fmt(given)} (default {fmt(default)})")
    if not lowered:
        return []
    return [Alert("budget", "note", f"Budgets below the defaults: {'; '.join(lowered)}. Those methods' scores are "
                  "rougher than the defaults give.", "methodology", "methodology")]


CHECKS: tuple[Callable[[RunResult], list[Alert]], ...] = (
    confidence_alerts, recall_alerts, method_alerts, sanity_alerts, failure_alerts, truncation_alerts, imbalance_alerts,
    interval_alerts, delta_alerts, budget_alerts)
