"""The verdict and the alerts, on crafted runs whose numbers are known: an over-confident model, a method at
chance level, a weak class, and a clean run that raises none."""

from __future__ import annotations

import math

import pytest

from reportgen.ops.stats import compared
from reportgen.report.alerts import alerts
from reportgen.report.verdict import confidence_gap, verdict
from reportgen.results.records import Attribution, Example, Failure, MethodInfo, RunResult

N = 40


def crafted_run(confidence=(0.7, 0.7), correct_every=(1, 1), lift=0.2, spread=0.02, labels=None):
    """N examples, alternating labels unless ``labels`` gives them. Per label: the predicted class's probability
    (``confidence``) and ``correct_every`` k (one in k of its examples wrong; 1: none). The faithfulness summary
    holds a method 'good' with a lift of ``lift`` and one 'flat' at 0.001, both with standard error ``spread``."""
    examples, seen = [], [0, 0]
    for i in range(N):
        label = i % 2 if labels is None else labels[i]
        wrong = correct_every[label] > 1 and seen[label] % correct_every[label] == 0
        seen[label] += 1
        prediction = 1 - label if wrong else label
        p = confidence[label]
        probabilities = [p, 1 - p] if prediction == 0 else [1 - p, p]
        examples.append(Example(index=i, text=f"text {i}", label=label, prediction=prediction,
                                probabilities=probabilities, target=prediction))
    correct = sum(ex.correct for ex in examples)
    per_class = []
    for label in (0, 1):
        mine = [ex for ex in examples if ex.label == label]
        per_class.append({"class": ["neg", "pos"][label], "class_id": label, "support": len(mine),
                          "recall": sum(ex.correct for ex in mine) / len(mine), "precision": None, "f1": None,
                          "predicted": 0, "folded_classes": 0})
    summary = [{"method": "random", "is_control": True, "comprehensiveness_lift": 0.0, "comprehensiveness": 0.1},
               {"method": "good", "is_control": False, "comprehensiveness_lift": lift, "comprehensiveness": 0.1 + lift,
                "comprehensiveness_lift_se": spread, "comprehensiveness_win_rate": 0.9,
                "versus_control": compared(lift, spread)},
               {"method": "flat", "is_control": False, "comprehensiveness_lift": 0.001, "comprehensiveness": 0.101,
                "comprehensiveness_lift_se": spread, "comprehensiveness_win_rate": 0.5,
                "versus_control": compared(0.001, spread)}]
    metrics = {"calibration": {"result": {"examples": N}},
               "performance": {"result": {"overall": {"examples": N, "correct": correct, "accuracy": correct / N},
                                          "per_class": per_class}},
               "faithfulness": {"result": {"control": "random", "summary": summary}}}
    return RunResult(examples=examples, metrics=metrics, model={"name": "crafted/model", "labels": ["neg", "pos"]},
                     dataset={"name": "crafted data"})


def kinds(run):
    return [alert.kind for alert in alerts(run)]


def test_a_calibrated_run_with_faithful_methods_raises_no_alert():
    run = crafted_run(confidence=(0.9, 0.9), correct_every=(10, 10), lift=0.2)
    run.metrics["faithfulness"]["result"]["summary"].pop()  # only the faithful method
    # 36 of 40 right (0.9) at confidence 0.9: no gap; the interval (0.77 to 0.96) is narrower than 0.2
    assert alerts(run) == []
    lines = {line["heading"]: line["text"] for line in verdict(run)}
    assert "matches its accuracy 0.900 within two standard errors" in lines["How sure"]
    assert lines["Explanations"].startswith("1 of 1 attribution methods rank tokens clearly better than random")


def test_an_over_confident_model_is_named_with_its_gap():
    run = crafted_run(confidence=(0.95, 0.95), correct_every=(2, 2))  # half the examples wrong at 0.95
    gap = confidence_gap(run)
    assert gap["accuracy"] == 0.5 and gap["confidence"] == pytest.approx(0.95) and gap["reading"] == "over"
    # each gap is 0.95 - 1 or 0.95 - 0: standard deviation 0.5 (n - 1 in the denominator), so se = 0.5 * sqrt(40/39) / sqrt(40)
    assert gap["se"] == pytest.approx(0.5 * math.sqrt(N / (N - 1)) / math.sqrt(N))
    (alert,) = [a for a in alerts(run) if a.kind == "overconfident"]
    assert alert.level == "warning" and "mean confidence 0.950 against accuracy 0.500 on 40 examples" in alert.text
    assert alert.evidence == "calibration"
    assert "over-confident" in verdict(run)[2]["text"]


def test_an_under_confident_model_is_named_too():
    run = crafted_run(confidence=(0.55, 0.55), correct_every=(1, 1))  # always right at 0.55
    assert "underconfident" in kinds(run)


def test_a_method_at_chance_level_is_an_alert_and_a_faithful_one_is_not():
    run = crafted_run(confidence=(0.9, 0.9), correct_every=(10, 10))
    found = [a for a in alerts(run) if a.kind.startswith("method_")]
    assert [a.kind for a in found] == ["method_tied"] and found[0].text.startswith("flat is no better than a random")
    assert "good" not in found[0].text
    assert "flat is not" in verdict(run)[3]["text"]


def test_a_weak_class_and_an_imbalance_are_named():
    labels = [0] * 34 + [1] * 6  # 85% neg
    run = crafted_run(confidence=(0.9, 0.6), correct_every=(1, 2), labels=labels)  # pos: half right
    found = {a.kind: a for a in alerts(run)}
    assert "Class pos is recalled in 0.500 of its 6 examples" in found["low_recall"].text
    assert "neg is 85% of the 40 labeled examples" in found["imbalance"].text
    assert found["imbalance"].level == "note"
    assert "against 0.850 for always predicting the most frequent label" in verdict(run)[1]["text"]


def test_failures_wide_intervals_deltas_and_lowered_budgets_are_named():
    run = crafted_run(confidence=(0.9, 0.9), correct_every=(10, 10))
    run.examples = run.examples[:12]
    run.metrics["performance"]["result"]["overall"] = {"examples": 12, "correct": 9, "accuracy": 0.75}
    run.failures = [Failure(example=3, reason="text is empty")]
    run.attributions = {"integrated_gradients": {0: Attribution("integrated_gradients", 0, [], [], {"delta": 0.2}),
                                                 1: Attribution("integrated_gradients", 1, [], [], {"delta": 0.01})}}
    run.methods = {"shap": MethodInfo(name="shap", params={"max_evals": 128}, defaults={"max_evals": 500})}
    found = {a.kind: a for a in alerts(run)}
    assert "1 example failed and is left out of the statistics (the first: text is empty)" in found["failures"].text
    assert "runs from 0.468 to 0.911" in found["wide_interval"].text
    assert "1 of 2 convergence deltas exceed 0.05 (largest 0.200)" in found["integrated_gradients_delta"].text
    assert "Budgets below the defaults: shap max_evals 128 (default 500)." in found["budget"].text
    assert [a.level for a in alerts(run)] == sorted((a.level for a in alerts(run)), key=lambda level: level != "warning")


def test_a_method_that_fails_the_sanity_check_is_named_and_the_control_is_not():
    run = crafted_run(confidence=(0.9, 0.9), correct_every=(10, 10))
    rows = [{"method": "flat", "is_control": False, "examples": 4, "randomised_spearman": 0.93, "verdict": "fails"},
            {"method": "good", "is_control": False, "examples": 4, "randomised_spearman": 0.05, "verdict": "passes"},
            {"method": "random", "is_control": True, "examples": 4, "randomised_spearman": 1.0, "verdict": "fails"}]
    run.metrics["sanity"] = {"result": {"threshold": 0.5, "methods": rows}}
    (alert,) = [a for a in alerts(run) if a.kind == "sanity_fails"]
    assert alert.level == "warning" and alert.evidence == "chart-sanity"
    assert alert.text.startswith("flat fails the sanity check") and "mean Spearman 0.930 on 4 examples" in alert.text
