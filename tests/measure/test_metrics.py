"""Every metric against values worked out by hand on small crafted runs (no model)."""

from __future__ import annotations

import inspect
import json
import math
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from reportgen.explain.batching import length_batches
from reportgen.measure import Metric, compute_metrics, metrics
from reportgen.measure.agreement import spearman, top_k_overlap
from reportgen.measure.faithfulness import removal_counts
from reportgen.measure.segment_share import SegmentShare
from reportgen.ops.numbers import jsonable
from reportgen.ops.ranking import average_ranks, ranking
from reportgen.ops.words import is_spread, spread_to_tokens
from reportgen.report.render import render_html
from reportgen.results.records import Attribution, Example, MethodInfo, RunResult
from reportgen.tasks.sequence_classification import SequenceClassification


def approx(value, rel=1e-6, abs=1e-9):
    return pytest.approx(value, rel=rel, abs=abs)


def make_run(examples: list[Example], scores: dict[str, dict[int, list[float]]] | None = None,
             labels: tuple[str, ...] = ("negative", "positive"), level: str = "tokens") -> RunResult:
    """A run holding ``examples`` and, per method, token (or word) scores by example index."""
    run = RunResult(model={"labels": list(labels)}, examples=examples)
    for method, by_example in (scores or {}).items():
        run.methods[method] = MethodInfo(method)
        for index, values in by_example.items():
            tokens, words = (values, []) if level == "tokens" else ([], values)
            run.add(Attribution(method, index, list(map(float, tokens)), list(map(float, words))))
    return run


def labeled(index, label, prediction, group=None, error=None, probabilities=None, words=("w",)):
    return Example(index=index, text="", label=label, prediction=None if error else prediction,
                   target=None if error else prediction, group=group, error=error,
                   probabilities=probabilities or [], words=list(words))


def compute(name: str, run: RunResult, runner=None, **params):
    return metrics.get(name)(**params).compute(run, runner)


@pytest.mark.parametrize("name", metrics.names())
def test_every_metric_is_hand_checked(name):
    """HAND_CHECKS (end of this module) maps each registered metric to its hand-checked tests."""
    tests = HAND_CHECKS.get(name)
    assert tests, f"metric {name!r} has no hand-checked test: add one and list it in HAND_CHECKS"
    for test in tests:
        # a module-level test function pytest collects, not a helper or a copy under another name
        assert test.__name__.startswith("test_") and globals().get(test.__name__) is test, test
    assert any(f'"{name}"' in inspect.getsource(test) for test in tests), f"none of {name}'s tests computes it"


def test_hand_checks_name_only_registered_metrics():
    assert set(HAND_CHECKS) <= set(metrics.names()), sorted(set(HAND_CHECKS) - set(metrics.names()))


# ---------------------------------------------------------------- performance


def performance_run() -> RunResult:
    rows = [(0, 0, "x"), (0, 1, "x"), (1, 1, "y"), (1, 1, "x"), (2, 0, "y"), (2, 2, "y")]
    examples = [labeled(i, label, pred, group) for i, (label, pred, group) in enumerate(rows)]
    examples.append(labeled(6, 0, None, "y", error="text is empty"))
    examples.append(labeled(7, None, 1, "x"))  # unlabeled: predicted but not scored
    return make_run(examples, labels=("a", "b", "c"))


def test_performance_by_hand():
    result = compute("performance", performance_run())
    assert result["counts"] == {"examples": 8, "failed": 1, "unlabeled": 1, "scored": 6}
    assert result["overall"]["accuracy"] == approx(4 / 6)
    assert result["overall"]["correct"] == 4
    # class a: P = 1/2, R = 1/2; class b: P = 2/3, R = 1; class c: P = 1, R = 1/2
    f1 = [0.5, 0.8, 2 / 3]
    assert result["overall"]["macro_f1"] == approx(sum(f1) / 3)
    by_class = {row["class"]: row for row in result["per_class"]}
    assert by_class["a"]["precision"] == approx(0.5) and by_class["a"]["recall"] == approx(0.5)
    assert by_class["b"]["precision"] == approx(2 / 3) and by_class["b"]["recall"] == approx(1.0)
    assert by_class["c"]["precision"] == approx(1.0) and by_class["c"]["recall"] == approx(0.5)
    assert [by_class[c]["f1"] for c in "abc"] == [approx(v) for v in f1]
    assert [by_class[c]["support"] for c in "abc"] == [2, 2, 2]
    counts = {(r["true"], r["predicted"]): r["count"] for r in result["confusion"]}
    assert counts == {("a", "a"): 1, ("a", "b"): 1, ("b", "b"): 2, ("c", "a"): 1, ("c", "c"): 1}  # cells that occur
    cells = {(r["true"], r["predicted"]): r["share_of_true"] for r in result["confusion"]}
    assert cells[("a", "b")] == approx(0.5)
    assert "definition" in result and "zero_division" in result["definition"]


def test_performance_per_group_by_hand():
    result = compute("performance", performance_run())
    groups = {row["group"]: row for row in result["groups"]}
    assert set(groups) == {"x", "y"}
    assert groups["x"]["examples"] == 3 and groups["x"]["accuracy"] == approx(2 / 3) and groups["x"]["failed"] == 0
    # group x: a: P 1, R 1/2 (F1 2/3); b: P 1/2, R 1 (F1 2/3); c: absent -> null, left out of the mean
    assert groups["x"]["macro_f1"] == approx(2 / 3)
    x_c = [r for r in result["group_per_class"] if r["group"] == "x" and r["class"] == "c"][0]
    assert x_c["f1"] is None and x_c["support"] == 0
    # group y: a: predicted once, never true -> P 0, R 0, F1 0; b: F1 1; c: F1 2/3
    assert groups["y"]["macro_f1"] == approx((0 + 1 + 2 / 3) / 3)
    assert groups["y"]["failed"] == 1
    y_conf = {(r["true"], r["predicted"]): r["count"] for r in result["group_confusion"] if r["group"] == "y"}
    assert y_conf[("c", "a")] == 1 and y_conf[("c", "c")] == 1 and y_conf[("b", "b")] == 1


def test_performance_matches_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score

    run = performance_run()
    result = compute("performance", run)
    scored = [ex for ex in run.examples if ex.error is None and ex.label is not None]
    y, p = [ex.label for ex in scored], [ex.prediction for ex in scored]
    assert result["overall"]["accuracy"] == approx(accuracy_score(y, p))
    assert result["overall"]["macro_f1"] == approx(f1_score(y, p, average="macro", zero_division=0))


def test_performance_without_groups_has_empty_group_lists():
    run = make_run([labeled(0, 1, 1), labeled(1, 0, 1)])
    result = compute("performance", run)
    assert result["groups"] == [] and result["group_per_class"] == []
    assert result["overall"]["accuracy"] == approx(0.5)


# ---------------------------------------------------------------- calibration


def calibration_run() -> RunResult:
    rows = [([0.05, 0.95], 1, "g"), ([0.08, 0.92], 0, "g"), ([0.35, 0.65], 1, "h"), ([0.62, 0.38], 1, "h"),
            ([0.55, 0.45], 0, "h")]
    examples = [labeled(i, label, int(np.argmax(p)), group, probabilities=p) for i, (p, label, group) in enumerate(rows)]
    examples.append(labeled(5, 0, None, "g", error="boom"))
    return make_run(examples)


def test_calibration_by_hand():
    result = compute("calibration", calibration_run())
    # bin (0.9, 1.0]: conf .95 (right), .92 (wrong): acc .5, conf .935
    # bin (0.6, 0.7]: conf .65 (right), .62 (wrong): acc .5, conf .635
    # bin (0.5, 0.6]: conf .55 (right): acc 1, conf .55
    ece = 2 / 5 * 0.435 + 2 / 5 * 0.135 + 1 / 5 * 0.45
    assert result["ece"] == approx(ece)
    assert result["mce"] == approx(0.45)
    brier = (0.005 + 2 * 0.92**2 + 2 * 0.35**2 + 2 * 0.62**2 + 2 * 0.45**2) / 5
    assert result["brier"] == approx(brier)
    assert result["examples"] == 5 and result["accuracy"] == approx(3 / 5)
    assert result["mean_confidence"] == approx((0.95 + 0.92 + 0.65 + 0.62 + 0.55) / 5)
    bins = {row["bin"]: row for row in result["bins"]}
    assert len(bins) == 10 and bins[9]["count"] == 2 and bins[6]["count"] == 2 and bins[5]["count"] == 1
    assert bins[9]["accuracy"] == approx(0.5) and bins[9]["confidence"] == approx(0.935)
    assert bins[9]["gap"] == approx(0.435)
    assert bins[5]["lower"] == approx(0.5) and bins[5]["upper"] == approx(0.6)
    assert bins[0]["count"] == 0 and bins[0]["accuracy"] is None
    assert result["counts"]["failed"] == 1


def test_calibration_per_group_and_bins_parameter():
    result = compute("calibration", calibration_run(), n_bins=2)
    # two bins: everything is in (0.5, 1.0]: acc 3/5, conf 0.738
    assert result["ece"] == approx(abs(0.6 - 0.738))
    groups = {row["group"]: row for row in result["groups"]}
    assert groups["g"]["examples"] == 2 and groups["g"]["ece"] == approx(abs(0.5 - 0.935))
    assert groups["h"]["ece"] == approx(abs(2 / 3 - (0.65 + 0.62 + 0.55) / 3))
    assert len([r for r in result["group_bins"] if r["group"] == "h"]) == 2


def test_calibration_matches_scikit_learn_curve():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    examples = []
    for i in range(200):
        p1 = float(rng.uniform(0.01, 0.99))
        probs = [1 - p1, p1]
        examples.append(labeled(i, int(rng.random() < p1), int(p1 > 0.5), probabilities=probs))
    result = compute("calibration", make_run(examples), n_bins=5)
    # scikit-learn bins the positive-class probability; on 2 classes ours bins the top probability.
    y = [ex.label == ex.prediction for ex in examples]
    conf = [max(ex.probabilities) for ex in examples]
    true, pred = calibration_curve(y, conf, n_bins=5, strategy="uniform")
    ours = [row for row in result["bins"] if row["count"]]
    assert [r["accuracy"] for r in ours] == [approx(v) for v in true]
    assert [r["confidence"] for r in ours] == [approx(v) for v in pred]


# ---------------------------------------------------------------- faithfulness

CLS, SEP, MASK = 1, 2, 3


class FakeRunner:
    """p(positive) = 0.05 + 0.9 * (sum of weights w = id - 10 of the ids 10..19 present) / 45."""

    def __init__(self):
        self.classifier = SimpleNamespace(tokenizer=SimpleNamespace(mask_token_id=MASK), pad_id=0, replacement_id=MASK)
        self.task = SequenceClassification()
        self.calls: list[list[list[int]]] = []
        self.evaluations = 0

    def predict_ids(self, id_lists, classes=None, explained=None):
        if explained is not None:
            classes = [ex.target for ex in explained]
        self.calls.append([list(ids) for ids in id_lists])
        self.evaluations += len(id_lists)
        out = []
        for ids in id_lists:
            assert ids[0] == CLS and ids[-1] == SEP, "special tokens must never be removed"
            p1 = 0.05 + 0.9 * sum(i - 10 for i in ids if 10 <= i <= 19) / 45
            out.append([1 - p1, p1])
        return np.array(out) if classes is None else np.array(out)[np.arange(len(out)), classes]


def faithfulness_run() -> RunResult:
    a = Example(index=0, text="", label=1, prediction=1, target=1, input_ids=[CLS, *range(10, 20), SEP],
                word_ids=[None, *range(10), None], words=list("abcdefghij"))
    b = Example(index=1, text="", label=0, prediction=0, target=0, input_ids=[CLS, 12, 19, 11, SEP],
                word_ids=[None, 0, 1, 2, None], words=list("abc"))
    failed = Example(index=2, text="", label=0, error="text is empty", input_ids=[CLS, 10, SEP],
                     word_ids=[None, 0, None], words=["a"])
    weights_a, weights_b = list(range(10)), [2, 9, 1]
    scores = {
        # special tokens get a huge score: they must still never be removed
        "up": {0: [100.0, *weights_a, 100.0], 1: [100.0, *weights_b, 100.0], 2: [0, 1, 0]},
        "down": {0: [100.0, *(-w for w in weights_a), 100.0], 1: [100.0, *(-w for w in weights_b), 100.0]},
        # the control: all ties, so the stable order removes tokens left to right; no scores for b
        "random": {0: [0.0] * 12},
    }
    return make_run([a, b, failed], scores)


def test_faithfulness_by_hand():
    runner = FakeRunner()
    result = compute("faithfulness", faithfulness_run(), runner, fractions=[0.1, 0.5], per_example_curves=True)
    rows = {(r["method"], r["example"]): r for r in result["per_example"]}
    # example a (n = 10, k = 1 and 5, p = 0.95). up removes w9 first:
    #   comp: 0.95 - 0.77 = 0.18, 0.95 - 0.25 = 0.70; suff: 0.95 - 0.23 = 0.72, 0.95 - 0.75 = 0.20
    up_a = rows[("up", 0)]
    assert up_a["p"] == approx(0.95)
    assert up_a["comprehensiveness_by_fraction"] == [approx(0.18), approx(0.70)]
    assert up_a["sufficiency_by_fraction"] == [approx(0.72), approx(0.20)]
    assert up_a["comprehensiveness"] == approx(0.44) and up_a["sufficiency"] == approx(0.46)
    # down removes w0 first: comp 0, 0.2; suff 0.9, 0.7
    assert rows[("down", 0)]["comprehensiveness_by_fraction"] == [approx(0.0), approx(0.2)]
    assert rows[("down", 0)]["sufficiency_by_fraction"] == [approx(0.9), approx(0.7)]
    # random ties everywhere -> left to right, the same tokens as down
    assert rows[("random", 0)]["comprehensiveness"] == approx(0.1)
    assert rows[("random", 0)]["sufficiency"] == approx(0.8)
    # example b (target 0, n = 3, k = 1 and 2, p0 = 0.71): up removes w9 then w2
    up_b = rows[("up", 1)]
    assert up_b["p"] == approx(0.71) and up_b["target"] == 0
    assert up_b["comprehensiveness_by_fraction"] == [approx(-0.18), approx(-0.22)]
    assert up_b["sufficiency_by_fraction"] == [approx(-0.06), approx(-0.02)]
    assert rows[("down", 1)]["comprehensiveness_by_fraction"] == [approx(-0.02), approx(-0.06)]
    assert rows[("down", 1)]["sufficiency_by_fraction"] == [approx(-0.22), approx(-0.18)]
    assert ("random", 1) not in rows and ("up", 2) not in rows  # no scores / failed example

    summary = {r["method"]: r for r in result["summary"]}
    assert summary["up"]["comprehensiveness"] == approx((0.44 - 0.20) / 2)
    assert summary["up"]["sufficiency"] == approx((0.46 - 0.04) / 2)
    assert summary["down"]["comprehensiveness"] == approx((0.1 - 0.04) / 2)
    assert summary["down"]["sufficiency"] == approx((0.8 - 0.2) / 2)
    assert summary["up"]["comprehensiveness_se"] == approx(np.std([0.44, -0.2], ddof=1) / math.sqrt(2))
    # lift over random on the examples both explained (only a)
    assert result["control"] == "random" and summary["random"]["is_control"]
    assert summary["up"]["comprehensiveness_lift"] == approx(0.34)
    assert summary["up"]["sufficiency_lift"] == approx(0.34)
    assert summary["up"]["comprehensiveness_win_rate"] == 1.0
    assert summary["down"]["comprehensiveness_lift"] == approx(0.0)
    assert summary["down"]["comprehensiveness_win_rate"] == 0.5  # an exact tie counts one half
    assert summary["random"]["examples"] == 1
    # one shared example: no standard error of the lift, so the rule cannot read it
    assert summary["up"]["comprehensiveness_lift_se"] is None and summary["up"]["versus_control"] is None
    assert summary["random"]["versus_control"] is None

    curve = {(r["method"], r["fraction"]): r for r in result["curve"]}
    assert curve[("up", 0.1)]["comprehensiveness"] == approx(0.0)
    assert curve[("up", 0.1)]["sufficiency"] == approx((0.72 - 0.06) / 2)
    assert curve[("up", 0.5)]["comprehensiveness"] == approx((0.70 - 0.22) / 2)
    assert curve[("up", 0.5)]["mean_tokens_removed"] == approx(3.5)
    assert result["skipped"] == [{"method": "random", "examples": 1}]
    assert result["mask_token_id"] == MASK
    assert set(result["definitions"]) >= {"comprehensiveness", "sufficiency", "aopc", "ranking", "removal", "lift"}

    # one batched model call for everything: 1 + 3 methods x 2 fractions x 2 for a, 1 + 2 x 4 for b
    assert len(runner.calls) == 1 and len(runner.calls[0]) == 13 + 9
    assert result["perturbed_inputs"] == 22 and result["model_evaluations"] == 22
    masked = [ids for ids in runner.calls[0] if MASK in ids]
    assert all(ids.count(MASK) in (1, 2, 5, 8, 9) for ids in masked)


def test_the_one_rule_reads_a_paired_lift_by_two_standard_errors():
    from reportgen.ops.stats import compared

    assert compared(0.21, 0.1) == "better" and compared(0.2, 0.1) == "tied" and compared(-0.19, 0.1) == "tied"
    assert compared(-0.21, 0.1) == "worse" and compared(0.3, None) is None and compared(None, 0.1) is None
    run = faithfulness_run()
    run.attributions["random"][1] = Attribution("random", 1, [0.0] * 5, [0.0] * 3)  # b too: two shared examples
    summary = {r["method"]: r for r in compute("faithfulness", run, FakeRunner(), fractions=[0.1, 0.5])["summary"]}
    # the paired differences, from the per-example rows (test_faithfulness_by_hand checks those by hand)
    rows = compute("faithfulness", run, FakeRunner(), fractions=[0.1, 0.5], per_example_curves=True)["per_example"]
    by = {(r["method"], r["example"]): r["comprehensiveness"] for r in rows}
    lifts = [by["up", e] - by["random", e] for e in (0, 1)]
    assert summary["up"]["comprehensiveness_lift"] == approx(np.mean(lifts))
    assert summary["up"]["comprehensiveness_lift_se"] == approx(np.std(lifts, ddof=1) / math.sqrt(2))
    assert summary["up"]["versus_control"] == compared(np.mean(lifts), np.std(lifts, ddof=1) / math.sqrt(2))


def test_faithfulness_chunks_give_the_same_numbers():
    whole = compute("faithfulness", faithfulness_run(), FakeRunner(), fractions=[0.1, 0.5])
    runner = FakeRunner()
    chunked = compute("faithfulness", faithfulness_run(), runner, fractions=[0.1, 0.5], chunk_size=1)
    assert len(runner.calls) == 2  # one call per example
    assert chunked["summary"] == whole["summary"] and chunked["per_example"] == whole["per_example"]


def test_faithfulness_without_control_has_no_lift():
    run = faithfulness_run()
    del run.attributions["random"], run.methods["random"]
    result = compute("faithfulness", run, FakeRunner(), fractions=[0.1])
    assert result["control"] is None
    assert all(row["comprehensiveness_lift"] is None for row in result["summary"])
    assert "comprehensiveness_by_fraction" not in result["per_example"][0]


def word_level_run() -> RunResult:
    """Word 0 has three tokens (weights 1, 2, 3), word 1 one token (weight 9): p(positive) = 0.35."""
    c = Example(index=0, text="", label=1, prediction=1, target=1, input_ids=[CLS, 11, 12, 13, 19, SEP],
                word_ids=[None, 0, 0, 0, 1, None], words=["abc", "d"])
    d = Example(index=1, text="", label=1, prediction=1, target=1, input_ids=[CLS, 15, 16, SEP],
                word_ids=[None, 0, 1, None], words=["e", "f"])
    run = make_run([c, d])
    rows = {
        # word scores only, spread over tokens as the engine stores lime: word 0 (3.0) outranks word 1 (2.0)
        "lime_like": {0: [3.0, 2.0], 1: [1.0, 5.0]},
        # equal words: every token ties, so tokens go left to right
        "tied_words": {0: [2.0, 2.0]},
    }
    for method, by_example in rows.items():
        run.methods[method] = MethodInfo(method)
        for index, words in by_example.items():
            tokens = spread_to_tokens(np.array(words), run.examples[index].word_ids)
            run.add(Attribution(method, index, tokens.tolist(), list(words)))
    # token-level scores whose words fold to (3, 2) too; the special tokens' own scores show they are not spread
    run.methods["token_level"] = MethodInfo("token_level")
    run.add(Attribution("token_level", 0, [0.5, 1.0, 1.0, 1.0, 2.0, 0.5], [3.0, 2.0]))
    return run


def test_faithfulness_ranks_word_level_methods_by_word():
    result = compute("faithfulness", word_level_run(), FakeRunner(), fractions=[0.25, 0.5], per_example_curves=True)
    rows = {(r["method"], r["example"]): r for r in result["per_example"]}
    # n = 4, k = 1 and 2, p = 0.35. By word: the three tokens of word 0 (3.0 in all) go before word 1 (2.0):
    #   comp: remove w1 -> 0.33, w1 + w2 -> 0.29; suff: keep w1 -> 0.07, w1 + w2 -> 0.11
    # (by its spread token scores, 1.0 each, word 1's token would go first: comp 0.18, 0.20)
    lime_like = rows[("lime_like", 0)]
    assert lime_like["p"] == approx(0.35)
    assert lime_like["comprehensiveness_by_fraction"] == [approx(0.02), approx(0.06)]
    assert lime_like["sufficiency_by_fraction"] == [approx(0.28), approx(0.24)]
    assert rows[("tied_words", 0)]["comprehensiveness_by_fraction"] == [approx(0.02), approx(0.06)]
    # token-level: its own token scores rank w9 first: comp 0.35 - 0.17, 0.35 - 0.15; suff 0.35 - 0.23, 0.35 - 0.25
    token_level = rows[("token_level", 0)]
    assert token_level["comprehensiveness_by_fraction"] == [approx(0.18), approx(0.20)]
    assert token_level["sufficiency_by_fraction"] == [approx(0.12), approx(0.10)]
    # example d: one token per word, so both rankings agree (w6 first) and it is not counted as ranked by word;
    # n = 2 makes both fractions remove that one token: comp 0.9 x 6 / 45 twice
    assert rows[("lime_like", 1)]["comprehensiveness_by_fraction"] == [approx(0.12), approx(0.12)]
    assert result["ranked_by_word"] == [{"method": "lime_like", "examples": 1}, {"method": "tied_words", "examples": 1}]
    assert "full score" in result["definitions"]["ranking"]


def test_spread_scores_are_recognised():
    word_ids = [None, 0, 0, 1, None]
    assert is_spread([0.0, 1.5, 1.5, -2.0, 0.0], [3.0, -2.0], word_ids)
    assert not is_spread([0.0, 1.0, 2.0, -2.0, 0.0], [3.0, -2.0], word_ids)  # word 0's tokens differ
    assert not is_spread([0.1, 1.5, 1.5, -2.0, 0.0], [3.0, -2.0], word_ids)  # a special token has a score
    assert not is_spread([0.0, 1.5, 1.5, -2.0, 0.0], [3.0], word_ids)  # too few word scores
    assert not is_spread([1.5, 1.5, -2.0], [3.0, -2.0], word_ids)  # too few token scores


def test_removal_counts_round_up_and_keep_one():
    default = [0.01, 0.05, 0.1, 0.2, 0.5]
    assert removal_counts(3, default) == [1, 1, 1, 1, 2]
    assert removal_counts(10, default) == [1, 1, 1, 2, 5]
    assert removal_counts(15, default) == [1, 1, 2, 3, 8]  # 0.2 * 15 is 3.0000000000000004 in floats
    assert removal_counts(100, default) == [1, 5, 10, 20, 50]
    assert removal_counts(1, [1.0]) == [1]


def test_ranking_is_stable_and_puts_nan_last():
    assert ranking(np.array([1.0, 3.0, 3.0, np.nan, 2.0])) == [1, 2, 4, 0, 3]
    assert ranking(np.array([5.0, 1.0, 1.0, 9.0]), [1, 2]) == [1, 2]


# ---------------------------------------------------------------- agreement


def agreement_run() -> RunResult:
    ex0 = Example(index=0, text="", label=1, prediction=1, target=1, words=list("abcdef"))
    ex1 = Example(index=1, text="", label=1, prediction=1, target=1, words=list("abc"))
    ex2 = Example(index=2, text="", label=1, prediction=1, target=1, words=list("ab"))
    scores = {
        "m1": {0: [1, 2, 3, 4, 5, 6], 1: [3, 1, 2], 2: [1, 2, 3]},  # ex2: wrong length, skipped
        "m2": {0: [6, 5, 4, 3, 2, 1], 1: [1, 2, 3]},
        "m3": {0: [1, 2, 3, 4, 6, 5], 1: [3, 1, 2]},
        "m4": {0: [0, 0, 0, 0, 0, 0], 1: [1, 2, 2]},  # ex0 constant: Spearman undefined
    }
    return make_run([ex0, ex1, ex2], scores, level="words")


def test_agreement_by_hand():
    result = compute("agreement", agreement_run())
    pairs = {(r["method_a"], r["method_b"]): r for r in result["pairs"]}
    assert len(pairs) == 6
    # rho = 1 - 6 sum d^2 / (n (n^2 - 1)); ex1 of m1 vs m2: d = (2, -1, -1) -> 1 - 36/24 = -0.5
    assert pairs[("m1", "m2")]["spearman"] == approx((-1.0 - 0.5) / 2)
    assert pairs[("m1", "m2")]["top_k_overlap"] == approx(4 / 5)  # only ex0 has more than k = 5 words
    assert pairs[("m1", "m2")]["top_k_examples"] == 1
    assert pairs[("m1", "m3")]["spearman"] == approx((1 - 12 / 210 + 1.0) / 2)
    assert pairs[("m1", "m3")]["top_k_overlap"] == approx(1.0)
    assert pairs[("m2", "m3")]["spearman"] == approx((1 - 6 * 68 / 210 - 0.5) / 2)
    # m4 on ex1 has a tie: ranks (1, 2.5, 2.5) against m1's (3, 1, 2): -1.5 / sqrt(2 * 1.5)
    m14 = pairs[("m1", "m4")]
    assert m14["spearman"] == approx(-1.5 / math.sqrt(3))
    assert m14["spearman_examples"] == 1 and m14["spearman_undefined"] == 1
    assert m14["top_k_overlap"] is None and m14["top_k_examples"] == 0
    assert pairs[("m1", "m2")]["examples"] == 2
    matrix = {(r["method_a"], r["method_b"]): r for r in result["matrix"]}
    assert len(matrix) == 16
    assert matrix[("m2", "m1")]["spearman"] == pairs[("m1", "m2")]["spearman"]
    assert matrix[("m1", "m1")]["spearman"] == 1.0
    constant = {r["method"]: r["constant"] for r in result["constant_vectors"]}
    assert constant == {"m1": 0, "m2": 0, "m3": 0, "m4": 1}
    assert "constant" in result["definitions"]["spearman"]


def test_agreement_helpers_match_scipy_and_handle_ties():
    from scipy.stats import rankdata, spearmanr

    assert average_ranks(np.array([3.0, 1, 3, 2, 3])).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.normal(size=9), rng.integers(0, 3, size=9).astype(float)
        assert spearman(x, y) == approx(spearmanr(x, y).statistic)
        assert average_ranks(y).tolist() == rankdata(y).tolist()
    assert math.isnan(spearman(np.ones(4), np.arange(4.0)))
    # ties in the top-k are broken by word order: top-2 of (1, 1, 1, 0, 2) is words {4, 0}
    assert top_k_overlap(np.array([1.0, 1, 1, 0, 2]), np.array([9.0, 0, 0, 0, 8]), 2) == 1.0
    assert top_k_overlap(np.array([1.0, 1, 1, 0, 2]), np.array([0.0, 9, 0, 0, 8]), 2) == 0.5


def test_agreement_absolute_option():
    ex = Example(index=0, text="", label=1, prediction=1, target=1, words=list("abc"))
    run = make_run([ex], {"a": {0: [-3, 1, 2]}, "b": {0: [3, 1, 2]}}, level="words")
    assert compute("agreement", run)["pairs"][0]["spearman"] == approx(-0.5)
    assert compute("agreement", run, absolute=True)["pairs"][0]["spearman"] == approx(1.0)


# ---------------------------------------------------------------- global words


def top_words_run() -> RunResult:
    rows = [(["Great", "movie", "."], [3, 1, 9], 1), (["great", "film"], [1, 2], 1),
            (["GREAT", "movie", "movie"], [2, 3, 5], 1), (["awful", "movie"], [4, -1], 0)]
    examples = [Example(index=i, text="", label=t, prediction=t, target=t, words=w) for i, (w, _, t) in enumerate(rows)]
    scores = {"m": {i: s for i, (_, s, _) in enumerate(rows)}}
    return make_run(examples, scores, level="words")


def test_top_words_by_hand():
    result = compute("top_words", top_words_run(), min_count=2)
    rows = [(r["class"], r["rank"], r["word"], r["mean"], r["count"], r["examples"]) for r in result["words"]]
    # positive: movie (1 + 3 + 5) / 3 = 3 in 2 examples; great (3 + 1 + 2) / 3 = 2; "." skipped, film once
    assert rows == [("positive", 1, "movie", approx(3.0), 3, 2), ("positive", 2, "great", approx(2.0), 3, 3)]
    lone = compute("top_words", top_words_run(), min_count=1, top_n=1)
    assert [(r["class"], r["word"]) for r in lone["words"]] == [("negative", "awful"), ("positive", "movie")]
    assert "min_count" in result["definition"]
    # common words: "movie" is in 2 of 3 positive examples and the 1 negative one; "great" in no negative one
    assert result["common_words"] == ["movie"] and result["common_share"] == 0.1
    assert compute("top_words", top_words_run(), common_share=0.7)["common_words"] == []  # 2 of 3 < 0.7


def test_top_words_record_the_function_words_of_the_chosen_language():
    assert compute("top_words", top_words_run())["function_words_language"] == "en"
    english = compute("top_words", top_words_run())["function_words"]
    assert "the" in english and "not" not in english and english == sorted(english)
    german = compute("top_words", top_words_run(), function_words="de")
    assert german["function_words_language"] == "de"
    assert {"der", "und", "ist", "mit"} <= set(german["function_words"])
    assert not {"nicht", "kein", "aber", "sehr", "zu", "the"} & set(german["function_words"])
    assert compute("top_words", top_words_run(), function_words="none")["function_words"] == []
    with pytest.raises(ValueError, match="function-word language 'klingon'"):
        compute("top_words", top_words_run(), function_words="klingon")


def test_a_split_contraction_is_one_word_again():
    examples = [Example(index=i, text="", label=0, prediction=0, target=0, words=["I", "don", "'", "t", "care"])
                for i in range(2)]
    run = make_run(examples, {"m": {0: [0.5, 1.0, 2.0, 3.0, -1.0], 1: [0.5, 2.0, 2.0, 2.0, -1.0]}}, level="words")
    words = {r["word"]: r for r in compute("top_words", run, min_count=2)["words"]}
    assert set(words) == {"i", "don't", "care"}  # no "don" and no "t"
    assert words["don't"]["mean"] == approx((6.0 + 6.0) / 2) and words["don't"]["count"] == 2


def test_top_words_l1_normalisation_and_class_by():
    result = compute("top_words", top_words_run(), min_count=2, normalize="l1")
    means = {r["word"]: r["mean"] for r in result["words"]}
    assert means["great"] == approx((3 / 13 + 1 / 3 + 2 / 10) / 3)
    assert means["movie"] == approx((1 / 13 + 3 / 10 + 5 / 10) / 3)
    run = top_words_run()
    run.examples[3].label = 1  # labels now put "awful movie" in the positive class
    by_label = compute("top_words", run, min_count=4, class_by="label")
    assert [(r["word"], r["mean"], r["count"]) for r in by_label["words"]] == [("movie", approx(2.0), 4)]
    with pytest.raises(ValueError):
        compute("top_words", run, class_by="nonsense")


def test_error_words_by_hand():
    right = [["good", "movie"], ["good", "plot"], ["fine", "movie"], ["good"]]
    wrong = [["not", "good"], ["Not", "movie"], ["not", "bad", "plot", "!"]]
    examples = [Example(index=i, text="", label=1, prediction=1, words=w) for i, w in enumerate(right)]
    examples += [Example(index=10 + i, text="", label=0, prediction=1, words=w) for i, w in enumerate(wrong)]
    result = compute("error_words", make_run(examples), min_count=2)
    assert result["misclassified_examples"] == 3 and result["correct_examples"] == 4
    assert result["error_rate"] == approx(3 / 7)
    words = {r["word"]: r for r in result["words"]}
    assert [r["word"] for r in result["words"]] == ["not", "plot"]  # good and movie have z < 0
    # not: a = 3 of 3, b = 0 of 4, s = 0.5: ln(3.5/0.5) - ln(0.5/4.5) = ln 63
    assert words["not"]["log_odds_ratio"] == approx(math.log(63))
    se = math.sqrt(1 / 3.5 + 1 / 0.5 + 1 / 0.5 + 1 / 4.5)
    assert words["not"]["z"] == approx(math.log(63) / se)
    assert words["not"]["error_rate"] == 1.0 and words["not"]["misclassified"] == 3
    # plot: a = 1, b = 1: ln(1.5/2.5) - ln(1.5/3.5)
    assert words["plot"]["log_odds_ratio"] == approx(math.log(1.5 / 2.5) - math.log(1.5 / 3.5))
    assert words["plot"]["error_rate"] == 0.5 and words["plot"]["rank"] == 2
    # tested: the 4 words in at least 2 examples (good, movie, plot, not); z* = Phi^-1(1 - 0.05 / 4) = 2.24, and
    # not's z = ln 63 / se = 1.95 stays below it: with 3 errors nothing stands out
    assert result["tested"] == 4 and result["threshold_z"] == approx(NormalDist().inv_cdf(1 - 0.05 / 4))
    assert words["not"]["z"] == approx(1.951, abs=1e-3) and [r["stands_out"] for r in result["words"]] == [False] * 2
    # 30 errors that all hold "not" against 30 correct examples that do not: it stands out
    many = [Example(index=i, text="", label=1, prediction=1, words=["good", "film"]) for i in range(30)]
    many += [Example(index=100 + i, text="", label=0, prediction=1, words=["not", "film"]) for i in range(30)]
    (top, *_rest) = compute("error_words", make_run(many), min_count=2)["words"]
    assert top["word"] == "not" and top["stands_out"] and top["z"] > 4


# ---------------------------------------------------------------- attention atlas


class AttentionRunner:
    """Two layers x two heads: an identity head and a uniform head (over real keys), swapped in layer 1.

    Padding query rows hold junk spread over every position, which the atlas must ignore.
    """

    def __init__(self):
        self.evaluations = 0
        self.batch_calls = 0

    def batches(self, lengths, scale=1):
        return length_batches(lengths, 10_000)

    def pad(self, id_lists):
        longest = max(len(ids) for ids in id_lists)
        ids = torch.zeros((len(id_lists), longest), dtype=torch.long)
        mask = torch.zeros((len(id_lists), longest), dtype=torch.long)
        for row, values in enumerate(id_lists):
            ids[row, : len(values)] = torch.tensor(values)
            mask[row, : len(values)] = 1
        return ids, mask

    def forward(self, ids, mask, output_attentions=False):
        assert output_attentions
        self.evaluations += mask.shape[0]
        self.batch_calls += 1
        b, t = mask.shape
        identity = torch.eye(t).expand(b, t, t).clone()
        uniform = mask[:, None, :].float().expand(b, t, t) / mask.sum(1)[:, None, None]
        junk = torch.full((b, t, t), 1.0 / t)
        real_query = mask.bool()[:, :, None]
        identity, uniform = torch.where(real_query, identity, junk), torch.where(real_query, uniform, junk)
        layer0, layer1 = torch.stack([identity, uniform], 1), torch.stack([uniform, identity], 1)
        return SimpleNamespace(attentions=(layer0, layer1))


def atlas_run() -> RunResult:
    ex0 = Example(index=0, text="", label=1, prediction=1, target=1, input_ids=[CLS, 10, SEP],
                  word_ids=[None, 0, None], words=["a"])
    ex1 = Example(index=1, text="", label=1, prediction=1, target=1, input_ids=[CLS, 10, 11, SEP],
                  word_ids=[None, 0, 1, None], words=["a", "b"])
    failed = Example(index=2, text="", label=1, error="boom", input_ids=[CLS, SEP], word_ids=[None, None])
    return make_run([ex0, ex1, failed])


def test_attention_atlas_by_hand():
    runner = AttentionRunner()
    result = compute("attention_atlas", atlas_run(), runner)
    assert result["examples"] == 2 and result["n_layers"] == 2 and result["n_heads"] == 2
    assert runner.batch_calls == 1 and result["model_evaluations"] == 2
    heads = {(r["layer"], r["head"]): r for r in result["per_head"]}
    identity, uniform = heads[(0, 0)], heads[(0, 1)]
    assert identity["entropy"] == approx(0.0) and identity["distance"] == approx(0.0)
    # identity: queries on special tokens look at themselves: 2/3 (3 tokens) and 2/4 (4 tokens)
    assert identity["special_share"] == approx((2 / 3 + 2 / 4) / 2)
    assert uniform["entropy"] == approx((math.log(3) + math.log(4)) / 2)
    assert uniform["normalized_entropy"] == approx(1.0)
    # uniform: mean |i - j| is 8/9 over 3 tokens and 5/4 over 4 tokens
    assert uniform["distance"] == approx((8 / 9 + 5 / 4) / 2)
    assert uniform["relative_distance"] == approx((8 / 9 / 2 + 5 / 4 / 3) / 2)
    assert uniform["special_share"] == approx((2 / 3 + 2 / 4) / 2)
    assert heads[(1, 0)]["entropy"] == approx(uniform["entropy"])
    layers = {r["layer"]: r for r in result["per_layer"]}
    assert layers[0]["distance"] == approx(uniform["distance"] / 2)
    # rollout, residual 0.5: each layer mixes to M = 0.75 I + 0.25 U (rows sum to 1)
    rollout = {r["layer"]: r for r in result["rollout"]}
    expected = {0: [], 1: []}
    for n in (3, 4):
        m = 0.75 * np.eye(n) + 0.25 * np.full((n, n), 1 / n)
        for depth, flow in ((0, m), (1, m @ m)):
            row = flow[0]
            special = row[0] + row[-1]
            expected[depth].append((special, 1 - special, -(row * np.log(row)).sum()))
    for depth in (0, 1):
        special, words, entropy = np.mean(expected[depth], axis=0)
        assert rollout[depth]["special_mass"] == approx(special)
        assert rollout[depth]["word_mass"] == approx(words)
        assert rollout[depth]["entropy"] == approx(entropy)
    assert rollout[0]["special_mass"] == approx(((0.75 + 0.5 / 3) + (0.75 + 0.5 / 4)) / 2)


def test_attention_atlas_batching_does_not_matter():
    class OneAtATime(AttentionRunner):
        def batches(self, lengths, scale=1):
            return [[i] for i in range(len(lengths))]

    together = compute("attention_atlas", atlas_run(), AttentionRunner())
    alone = compute("attention_atlas", atlas_run(), OneAtATime())
    for key in ("per_head", "rollout"):
        for a, b in zip(together[key], alone[key]):
            assert {k: approx(v) for k, v in a.items()} == b


# ---------------------------------------------------------------- cost


def test_cost_by_hand():
    run = RunResult(timings={"explain": 7.5, "model_batch_sizes": {"calls": 3}})
    run.methods = {"fast": MethodInfo("fast", seconds=1.0, model_evaluations=0, examples=4),
                   "slow": MethodInfo("slow", seconds=3.0, model_evaluations=100, examples=4),
                   "none": MethodInfo("none")}
    result = compute("cost", run)
    rows = {r["method"]: r for r in result["methods"]}
    assert rows["slow"]["seconds_per_example"] == approx(0.75)
    assert rows["slow"]["evaluations_per_example"] == approx(25.0)
    assert rows["slow"]["share_of_seconds"] == approx(0.75)
    assert rows["fast"]["evaluations_per_example"] == 0.0
    assert rows["none"]["seconds_per_example"] is None
    assert result["total_seconds"] == approx(4.0) and result["run_timings"] == {"explain": 7.5}


# ---------------------------------------------------------------- compute_metrics and helpers


def test_compute_metrics_stores_json_ready_results_and_keeps_going_on_errors():
    class Broken(Metric):
        name = "_broken_for_test"
        description = "always fails"

        def compute(self, run, runner):
            raise ValueError("no luck\nsecond line")

    class NeedsModel(Metric):
        name = "_needs_model_for_test"
        needs_model = True

    with metrics.restored():
        metrics.register(Broken)
        metrics.register(NeedsModel)
        run = performance_run()
        compute_metrics(run, None, ["_broken_for_test", "_needs_model_for_test", "performance"])
    assert "_broken_for_test" not in metrics and "_needs_model_for_test" not in metrics
    assert run.metrics["_broken_for_test"]["error"] == "ValueError: no luck"
    assert run.metrics["_broken_for_test"]["result"] is None
    assert "_needs_model_for_test" not in run.metrics  # skipped without a runner
    assert run.metrics["performance"]["result"]["overall"]["accuracy"] == approx(4 / 6)
    assert run.metrics["performance"]["seconds"] >= 0
    json.dumps(run.metrics, allow_nan=False)


def test_jsonable_turns_numpy_and_non_finite_values_into_json():
    value = {"a": np.float32(0.5), "b": [np.int64(3), float("nan")], "c": np.array([1.0, np.inf]), 1: np.bool_(True)}
    assert jsonable(value) == {"a": 0.5, "b": [3, None], "c": [1.0, None], "1": True}


# ---------------------------------------------------------------- segment share (sentence pairs)


def share_run() -> RunResult:
    """Two classes; example 0 (class 0): text words |1|, |-3|, pair word 4; example 1 (class 1): text 1, pair 1, 2;
    example 2 (class 1): all zero (no share); example 3 failed."""
    examples = [
        Example(index=0, text="a b", text_pair="c", words=["a", "b", "c"], word_segments=[0, 0, 1], prediction=0,
                target=0),
        Example(index=1, text="a", text_pair="b c", words=["a", "b", "c"], word_segments=[0, 1, 1], prediction=1,
                target=1),
        Example(index=2, text="a", text_pair="b", words=["a", "b"], word_segments=[0, 1], prediction=1, target=1),
        Example(index=3, text="a", text_pair="", error="text pair is empty"),
    ]
    run = RunResult(model={"labels": ["entailment", "contradiction"], "task": "sentence_pair"}, examples=examples,
                    methods={"m": MethodInfo("m")})
    for index, words in ((0, [1.0, -3.0, 4.0]), (1, [1.0, 1.0, -2.0]), (2, [0.0, 0.0])):
        run.add(Attribution("m", index, tokens=[], words=words))
    return run


def test_segment_share_by_hand():
    run = share_run()
    compute_metrics(run, None, ["segment_share"])
    result = run.metrics["segment_share"]["result"]
    (overall,) = result["methods"]
    shares = [4 / 8, 1 / 4]  # example 0: (1 + 3) / 8 on the text; example 1: 1 / 4
    assert overall["examples"] == 2 and overall["undefined"] == 1
    assert overall["text_share"] == pytest.approx(np.mean(shares))
    assert overall["text_share_se"] == pytest.approx(np.std(shares, ddof=1) / np.sqrt(2))
    assert overall["pair_share"] == pytest.approx(1 - np.mean(shares))
    by_class = {row["class"]: row for row in result["per_class"]}
    assert by_class["entailment"]["text_share"] == pytest.approx(0.5) and by_class["entailment"]["examples"] == 1
    assert by_class["contradiction"]["text_share"] == pytest.approx(0.25)
    assert by_class["contradiction"]["undefined"] == 1 and by_class["contradiction"]["text_share_se"] is None
    panel = SegmentShare.present(result)
    assert [row["class"] for row in panel.table.rows] == ["all classes", "entailment", "contradiction"]
    assert panel.chart["data"]["values"][0]["share"] == pytest.approx(0.375)


def test_the_segment_share_panel_shows_only_for_the_pair_task():
    run = share_run()
    compute_metrics(run, None, ["segment_share"])
    assert "Text or pair: where the attribution mass lies" in render_html(run)
    run.model["task"] = "sequence_classification"
    assert "Text or pair: where the attribution mass lies" not in render_html(run)


# ---------------------------------------------------------------- the registry's hand checks

# Every registered metric -> the tests above that check it by hand (test_every_metric_is_hand_checked).
# ---------------------------------------------------------------- multi_label


def test_multi_label_by_hand():
    """Three rows of two labels: row 0 explained twice (two units), row 1 once, row 2 with nothing predicted."""
    units = [Example(index=0, text="", source=0, labels=[0, 1], predicted=[0, 1], probabilities=[0.9, 0.6], target=0),
             Example(index=1, text="", source=0, labels=[0, 1], predicted=[0, 1], probabilities=[0.9, 0.6], target=1),
             Example(index=2, text="", source=1, labels=[1], predicted=[0], probabilities=[0.7, 0.4], target=0),
             Example(index=3, text="", source=2, labels=[0], predicted=[], probabilities=[0.2, 0.1])]
    run = RunResult(model={"labels": ["a", "b"], "task": "multi_label"}, config={"threshold": 0.5}, examples=units)
    result = compute("multi_label", run, bins=2)
    assert result["counts"] == {"rows": 3, "scored": 3, "failed": 0, "unlabeled": 0}
    a, b = result["per_label"]
    # a: true in rows 0, 2; predicted in rows 0, 1 -> P 1/2, R 1/2; b: true in rows 0, 1; predicted in row 0 -> P 1, R 1/2
    assert (a["support"], a["predicted"], a["precision"], a["recall"], a["f1"]) == (2, 2, 0.5, 0.5, 0.5)
    assert (b["precision"], b["recall"]) == (1.0, 0.5) and b["f1"] == approx(2 / 3)
    overall = result["overall"]
    assert overall["micro_precision"] == approx(2 / 3) and overall["micro_recall"] == approx(2 / 4)
    assert overall["macro_f1"] == approx((0.5 + 2 / 3) / 2) and overall["subset_accuracy"] == approx(1 / 3)
    assert overall["hamming_loss"] == approx(3 / 6)  # row 1: a and b wrong; row 2: a wrong
    # a's probabilities 0.9, 0.7, 0.2 against 1, 0, 1 in two bins: [0, 0.5) holds 0.2 (true), [0.5, 1] the others
    assert a["ece"] == approx(1 / 3 * abs(0.2 - 1) + 2 / 3 * abs(0.8 - 0.5))
    assert a["brier"] == approx((0.01 + 0.49 + 0.64) / 3)


# ---------------------------------------------------------------- entities


def test_entities_by_hand():
    """Two rows of IOB2 word tags: a PER found exactly, a LOC predicted one word too long, a MISC missed."""
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC"]
    rows = [(["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),
            (["B-LOC", "O", "B-MISC"], ["B-LOC", "I-LOC", "O"])]
    examples = [Example(index=i, text="", words=["w"] * len(true), tags=[tags.index(t) for t in true],
                        predicted_tags=[tags.index(t) for t in predicted]) for i, (true, predicted) in enumerate(rows)]
    result = compute("entities", RunResult(model={"labels": tags, "task": "token_classification"}, examples=examples))
    types = {row["type"]: row for row in result["types"]}
    assert (types["PER"]["support"], types["PER"]["predicted"], types["PER"]["correct"]) == (1, 1, 1)
    assert (types["LOC"]["support"], types["LOC"]["predicted"], types["LOC"]["correct"]) == (2, 2, 1)
    assert (types["MISC"]["support"], types["MISC"]["predicted"], types["MISC"]["f1"]) == (1, 0, 0.0)
    micro = result["micro"]  # 2 of 3 predicted entities right, 2 of 4 true ones found
    assert (micro["precision"], micro["recall"]) == (approx(2 / 3), approx(2 / 4))
    assert result["macro"]["f1"] == approx((1.0 + 0.5 + 0.0) / 3)
    assert result["words"]["accuracy"] == approx(5 / 7)  # row 1: w1 (O vs I-LOC) and w2 (B-MISC vs O) wrong


# ---------------------------------------------------------------- generation


def test_generation_by_hand():
    """Two rows with outputs (units 0-1 of row 0: two tokens; unit 2 of row 1: one token) and a failed row."""
    first = {"start": 2, "ids": [5, 6], "log_probs": [math.log(0.5), math.log(0.25)], "text": "a b", "from": "reference"}
    second = {"start": 1, "ids": [7], "log_probs": [math.log(0.125)], "text": "c", "from": "reference"}
    units = [Example(index=0, text="", source=0, generated=first, target=5),
             Example(index=1, text="", source=0, generated=first, target=6),
             Example(index=2, text="", source=1, generated=second, target=7),
             Example(index=3, text="", source=2, error="target is empty")]
    result = compute("generation", RunResult(model={"labels": [], "task": "generation"}, examples=units))
    assert (result["rows"], result["tokens"], result["references"]) == (2, 3, 2)
    assert result["perplexity"] == approx(math.exp(-(math.log(0.5) + math.log(0.25) + math.log(0.125)) / 3))  # 4
    row_means = [(math.log(0.5) + math.log(0.25)) / 2, math.log(0.125)]
    assert result["mean_log_probability"] == approx(np.mean(row_means))
    assert result["mean_log_probability_se"] == approx(np.std(row_means, ddof=1) / math.sqrt(2))
    assert [row["perplexity"] for row in result["per_row"]] == [approx(math.sqrt(8)), approx(8)]
    assert result["mean_tokens"] == 1.5


# ---------------------------------------------------------------- output_quality


def test_output_quality_by_hand():
    """Greedy outputs against references: identical texts score 100 (BLEU, chrF) or 1 (ROUGE); ROUGE-1 of
    "the cat sat" against "the cat sat down" is P 1, R 3/4, F 6/7, and its ROUGE-2 P 1, R 2/3, F 4/5."""
    def rows(pairs):
        return [Example(index=i, text="", source=i, text_pair=reference, target=1,
                        generated={"start": None, "ids": [1], "log_probs": [-1.0], "text": "", "from": "reference",
                                   "greedy": output}) for i, (output, reference) in enumerate(pairs)]

    same = [("a small house by the river", "a small house by the river"), ("it was fun", "it was fun")]
    result = compute("output_quality", RunResult(model={"labels": [], "task": "translation"}, examples=rows(same)))
    assert result["rows"] == 2 and {row["score"]: row["value"] for row in result["scores"]} == {
        "BLEU": approx(100.0), "chrF": approx(100.0)}
    summary = compute("output_quality", RunResult(model={"labels": [], "task": "summarization"},
                                                  examples=rows([("the cat sat", "the cat sat down")] * 2)))
    scores = {row["score"]: row for row in summary["scores"]}
    assert scores["ROUGE-1"]["value"] == approx(6 / 7) and scores["ROUGE-2"]["value"] == approx(4 / 5)
    assert scores["ROUGE-L"]["value"] == approx(6 / 7) and scores["ROUGE-1"]["se"] == approx(0.0)
    unscored = compute("output_quality", RunResult(model={"labels": [], "task": "summarization"},
                                                   examples=[Example(index=0, text="", error="target is empty")]))
    assert unscored["rows"] == 0 and unscored["scores"] == []


# ---------------------------------------------------------------- alignment


def test_alignment_by_hand():
    """Two output tokens over a source of [start] a b [end]: the first all on a, the second half on a and half on
    b with as much again on the end token. Entropy 0 and log 2 / log 2 = 1 -> 0.5; diagonal: output 0 (place 1/4)
    on a (1/4) is 0, output 1 (3/4) half on a (1/4) and half on b (3/4) is 0.25 -> 0.125; special 0 and 1/2 ->
    0.25; coverage: a is some token's top, b is not (the tie goes to a) -> 1/2."""
    from reportgen.measure.alignment import matrix_figures

    real = np.array([False, True, True, False])
    matrix = np.array([[0.0, 2.0, 0.0, 0.0], [0.0, 1.0, 1.0, 2.0]])
    figures = matrix_figures(matrix, real)
    assert figures == {"entropy": approx(0.5), "diagonal": approx(0.125), "special": approx(0.25),
                       "coverage": approx(0.5)}
    assert matrix_figures(np.zeros((2, 4)), real) is None
    generated = {"start": None, "ids": [5, 6], "log_probs": [-1.0, -1.0], "text": "", "from": "reference"}
    units = [Example(index=k, text="", source=0, target=5 + k, tokens=["s", "a", "b", "e"], word_ids=[None, 0, 1, None],
                     generated=generated, step={"k": k, "position": k, "token": "x", "log_prob": -1.0, "prefix": []})
             for k in range(2)]
    run = make_run(units, {"saliency": {0: list(matrix[0]), 1: list(matrix[1])}})
    run.model = {"labels": [], "task": "translation"}
    (row,) = compute("alignment", run)["methods"]
    assert row["method"] == "saliency" and row["rows"] == 1 and row["entropy"] == approx(0.5)
    assert row["coverage"] == approx(0.5) and row["diagonal"] == approx(0.125)


def gold_units(matrix: np.ndarray, gold: str) -> list[Example]:
    """A translated row of source "a b" (tokens [start] a b [end]) and reference "x y", one unit per output token,
    with gold links ``gold``."""
    generated = {"start": None, "ids": [5, 6], "log_probs": [-1.0, -1.0], "text": "x y", "from": "reference",
                 "gold_words": {"source": [None, 0, 1, None], "target": [0, 1]}}
    return [Example(index=k, text="a b", text_pair="x y", source=0, target=5 + k, tokens=["s", "a", "b", "e"],
                    word_ids=[None, 0, 1, None], generated=generated, alignment=gold,
                    step={"k": k, "position": k, "token": "x", "log_prob": -1.0, "prefix": []}) for k in range(2)]


ALIGNED = np.array([[0.0, 2.0, 0.0, 0.0], [0.0, 1.0, 1.0, 2.0]])


def test_alignment_error_rate_by_hand():
    """The matrix above links x to a (its largest score) and y to a (a tie between a and b goes to the first):
    A = {0-0, 0-1}. Gold S = {0-0, 1-1}, P = S + {0-1}: |A & S| = 1, |A & P| = 2, |A| = |S| = 2, so
    AER = 1 - 3/4 = 0.25. The reversed matrix links x to b and y to b: A & S = {1-1}, A & P = {1-1}: 1 - 2/4 = 0.5."""
    run = make_run(gold_units(ALIGNED, "0-0 1-1 0?1"), {"saliency": {0: list(ALIGNED[0]), 1: list(ALIGNED[1])},
                                                         "random": {0: list(ALIGNED[0][::-1]), 1: [0, 0, 3, 1]}})
    run.model = {"labels": [], "task": "translation"}
    result = compute("alignment", run)
    assert {row["method"]: row["aer"] for row in result["methods"]} == {"saliency": approx(0.25), "random": approx(0.5)}
    assert result["gold_rows"] == 1 and result["gold_unmatched"] == 0
    unmatched = gold_units(ALIGNED, "0-0")
    for unit in unmatched:
        unit.generated = {**unit.generated, "gold_words": {"source": [None, 0, 1, None], "target": None}}
    run = make_run(unmatched, {"saliency": {0: list(ALIGNED[0]), 1: list(ALIGNED[1])}})
    run.model = {"labels": [], "task": "translation"}
    result = compute("alignment", run)
    assert result["methods"][0]["aer"] is None and (result["gold_rows"], result["gold_unmatched"]) == (0, 1)


class HeadRunner:
    """A runner whose model has one layer of two heads: head 0 attends as ALIGNED (rows normalised), head 1
    each output token on b."""

    def __init__(self):
        from types import SimpleNamespace

        self.evaluations = 0
        self.task = SimpleNamespace(output_attention=self.output_attention)

    def output_attention(self, runner, source, output):
        assert list(source) == [0, 1, 2, 3] and list(output) == [5, 6]
        self.evaluations += 1
        on_b = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
        return torch.tensor(np.stack([ALIGNED / ALIGNED.sum(axis=1, keepdims=True), on_b])[None])


def test_alignment_atlas_by_hand():
    """Head 0 has the figures of ALIGNED (entropy 0.5, diagonal 0.125, special 0.25, coverage 0.5: see
    test_alignment_by_hand) and AER 0.25; head 1 puts everything on b: entropy 0, special 0, coverage 1/2,
    diagonal (|3/4 - 1/4| + |3/4 - 3/4|) / 2 = 0.25, links {1-0, 1-1}: A & S = {1-1}, A & P = {1-1}, AER 0.5."""
    units = gold_units(ALIGNED, "0-0 1-1 0?1")
    for unit in units:
        unit.input_ids = [0, 1, 2, 3]
    run = make_run(units)
    run.model = {"labels": [], "task": "translation"}
    result = compute("alignment_atlas", run, HeadRunner())
    heads = {(row["layer"], row["head"]): row for row in result["per_head"]}
    assert heads[0, 0] == {"layer": 0, "head": 0, "entropy": approx(0.5), "diagonal": approx(0.125),
                           "special": approx(0.25), "coverage": approx(0.5), "aer": approx(0.25)}
    assert heads[0, 1] == {"layer": 0, "head": 1, "entropy": approx(0.0), "diagonal": approx(0.25),
                           "special": approx(0.0), "coverage": approx(0.5), "aer": approx(0.5)}
    assert (result["rows"], result["n_layers"], result["n_heads"], result["gold_rows"]) == (1, 1, 2, 1)
    assert result["model_evaluations"] == 1 and result["head_rows"][0]["row"] == 0
    assert result["head_rows"][0]["heads"][0][1] == [[0, 0, 1, 0], [0, 0, 1, 0]]
    assert compute("alignment_atlas", run, HeadRunner(), rows_with_heads=0)["head_rows"] == []


# ---------------------------------------------------------------- sanity
def sanity_run() -> RunResult:
    """Two examples of four words; m1's scores reverse under the randomised head and keep their order once every
    layer is randomised; m2's never change."""
    examples = [labeled(0, 1, 1, words=("a", "b", "c", "d")), labeled(1, 0, 0, words=("e", "f", "g", "h"))]
    trained = {0: [1.0, 2.0, 3.0, 4.0], 1: [4.0, 3.0, 2.0, 1.0]}
    run = make_run(examples, {"m1": trained, "m2": trained}, level="words")
    reversed_ = {0: [4.0, 3.0, 2.0, 1.0], 1: [1.0, 2.0, 3.0, 4.0]}
    # ex0 under full randomisation: ranks (1, 2, 4, 3) against (1, 2, 3, 4): d^2 = 2 -> rho = 1 - 12/60 = 0.8
    final = {0: [1.0, 2.0, 4.0, 3.0], 1: [4.0, 3.0, 2.0, 1.0]}
    for index in (0, 1):
        run.attributions["m1"][index].extra["sanity"] = {
            "independent": {"layer 1": trained[index]},
            "cascade": {"classifier head": reversed_[index], "layer 1": reversed_[index], "embeddings": final[index]}}
        run.attributions["m2"][index].extra["sanity"] = {
            "independent": {"layer 1": trained[index]},
            "cascade": {name: trained[index] for name in ("classifier head", "layer 1", "embeddings")}}
    return run


def test_sanity_by_hand():
    result = compute("sanity", sanity_run(), k=2, threshold=0.85)
    assert result["cascade"] == ["classifier head", "layer 1", "embeddings"] and result["independent"] == ["layer 1"]
    assert result["examples"] == 2
    m1, m2 = result["methods"]
    assert [step["spearman"] for step in m1["cascade"]] == [approx(-1.0), approx(-1.0), approx((0.8 + 1.0) / 2)]
    assert m1["cascade"][0]["spearman_se"] == approx(0.0)
    assert m1["randomised_spearman_se"] == approx(0.1)  # sample sd of (0.8, 1.0) is 0.1414, over sqrt(2)
    # top-2 words: ex0 {c, d} against {c, d} (final), ex1 {e, f} against {e, f}: 1; reversed: 0
    assert m1["cascade"][2]["top_k_overlap"] == approx(1.0) and m1["cascade"][0]["top_k_overlap"] == approx(0.0)
    assert m1["independent"][0]["spearman"] == approx(1.0)
    assert m1["verdict"] == "fails" and m1["randomised_spearman"] == approx(0.9)  # 0.9 > 0.85
    assert compute("sanity", sanity_run(), threshold=0.95)["methods"][0]["verdict"] == "passes"
    assert m2["verdict"] == "fails" and m2["randomised_spearman"] == approx(1.0) and not m2["is_control"]
    assert compute("sanity", make_run([labeled(0, 1, 1)], {"m1": {0: [1.0]}}, level="words"))["methods"] == []


# ---------------------------------------------------------------- plausibility


def plausibility_run() -> RunResult:
    """Two examples with rationales, one whose rationale could not be read, one that marks no word, one without."""
    def example(index, target, words, rationale=None, error=None):
        return Example(index=index, text=" ".join(words), label=target, prediction=target, target=target,
                       probabilities=[0.5, 0.5], words=list(words), rationale=rationale, rationale_error=error)

    examples = [example(0, 1, "abcdef", [1, 2]), example(1, 0, "abcd", [3]), example(2, 0, "ab", error="bad cell"),
                example(3, 1, "ab", []), example(4, 1, "ab")]
    scores = {"m1": {0: [0.9, 0.8, 0.1, 0.5, 0.1, -0.3], 1: [0.2, 0.2, 0.1, 0.2], 2: [1, 0], 3: [1, 0], 4: [1, 0]},
              "m2": {0: [1, 2, 3, 4, 5, 6], 1: [1.0]}}  # m2's scores of example 1 do not fit its words
    run = make_run(examples, scores, level="words")
    run.dataset["rationale_column"] = "evidence"
    run.metrics["faithfulness"] = {"result": {"summary": [
        {"method": "m1", "comprehensiveness": 0.3, "comprehensiveness_se": 0.1}]}}
    return run


def test_plausibility_by_hand():
    result = compute("plausibility", plausibility_run())
    assert (result["column"], result["rationales"], result["empty_rationales"]) == ("evidence", 3, 1)
    assert result["invalid_rationales"] == 1 and result["invalid"] == [{"example": 2, "reason": "bad cell"}]
    m1, m2 = result["methods"]
    # example 0, R = {1, 2}: ranked 0 (0.9), 1 (0.8), 3 (0.5), 2 and 4 (0.1, tied: word order), 5; top 2 = {0, 1},
    # one hit: P = R = F1 = 1/2, IOU = 1 / |{0, 1, 2}| = 1/3. AUPRC: at 0.9 precision 0/1 (no recall gained), at
    # 0.8 1/2 with recall +1/2, at 0.5 nothing gained, at 0.1 (words 2 and 4 together) 2/5 with recall +1/2:
    # 1/2 x 1/2 + 1/2 x 2/5 = 0.45.
    # example 1, R = {3}: words 0, 1, 3 tie at 0.2, so the top 1 is word 0: no hit, F1 = IOU = 0; AUPRC: the three
    # tied words together hold the one marked word: precision 1/3, recall 1 -> 1/3.
    assert m1["examples"] == 2
    assert m1["precision"] == approx(0.25) and m1["recall"] == approx(0.25) and m1["f1"] == approx(0.25)
    assert m1["f1_se"] == approx(0.25)  # sd of (0.5, 0) is 0.3536, over sqrt(2)
    assert m1["iou"] == approx(1 / 6) and m1["auprc"] == approx((0.45 + 1 / 3) / 2)
    assert (m1["comprehensiveness"], m1["comprehensiveness_se"]) == (0.3, 0.1)
    # m2 on example 0 only (its scores of example 1 do not fit): ranked 5, 4, 3, 2, 1, 0; top 2 = {5, 4}, no hit;
    # AUPRC: the marked words come 4th and 5th: 1/2 x 1/4 + 1/2 x 2/5 = 0.325
    assert m2["examples"] == 1 and m2["f1"] == 0 and m2["iou"] == 0 and m2["auprc"] == approx(0.325)
    assert m2["f1_se"] is None and m2["comprehensiveness"] is None
    by_class = {(row["method"], row["class"]): row for row in result["by_class"]}
    assert sorted(by_class) == [("m1", "negative"), ("m1", "positive"), ("m2", "positive")]
    assert by_class["m1", "positive"]["f1"] == approx(0.5) and by_class["m1", "negative"]["auprc"] == approx(1 / 3)
    # with absolute values example 0's scores rank 0, 1, 3, 5 (0.3), then 2 and 4: at 0.1 precision 2/6
    absolute = compute("plausibility", plausibility_run(), absolute=True)["methods"][0]
    assert absolute["f1"] == approx(0.25) and absolute["auprc"] == approx((0.25 + 0.5 / 3 + 1 / 3) / 2)


HAND_CHECKS = {
    "sanity": [test_sanity_by_hand],
    "performance": [test_performance_by_hand, test_performance_per_group_by_hand, test_performance_matches_scikit_learn,
                    test_performance_without_groups_has_empty_group_lists],
    "calibration": [test_calibration_by_hand, test_calibration_per_group_and_bins_parameter,
                    test_calibration_matches_scikit_learn_curve],
    "faithfulness": [test_faithfulness_by_hand, test_faithfulness_ranks_word_level_methods_by_word,
                     test_faithfulness_chunks_give_the_same_numbers, test_faithfulness_without_control_has_no_lift,
                     test_the_one_rule_reads_a_paired_lift_by_two_standard_errors,
                     test_removal_counts_round_up_and_keep_one, test_ranking_is_stable_and_puts_nan_last],
    "agreement": [test_agreement_by_hand, test_agreement_helpers_match_scipy_and_handle_ties,
                  test_agreement_absolute_option],
    "cost": [test_cost_by_hand],
    "top_words": [test_a_split_contraction_is_one_word_again, test_top_words_by_hand,
                  test_top_words_l1_normalisation_and_class_by,
                  test_top_words_record_the_function_words_of_the_chosen_language],
    "error_words": [test_error_words_by_hand],
    "attention_atlas": [test_attention_atlas_by_hand, test_attention_atlas_batching_does_not_matter],
    "segment_share": [test_segment_share_by_hand, test_the_segment_share_panel_shows_only_for_the_pair_task],
    "multi_label": [test_multi_label_by_hand],
    "entities": [test_entities_by_hand],
    "generation": [test_generation_by_hand],
    "output_quality": [test_output_quality_by_hand],
    "alignment": [test_alignment_by_hand, test_alignment_error_rate_by_hand],
    "alignment_atlas": [test_alignment_atlas_by_hand],
    "plausibility": [test_plausibility_by_hand],
}
