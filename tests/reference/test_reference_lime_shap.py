"""lime and shap through reportgen's pooled path against the packages' own path.

reportgen runs LimeTextExplainer.explain_instance and shap's Partition explainer per
example in worker threads whose model calls are pooled across the batch. The reference
here is the package called on one string at a time with a plain classifier function
that runs the model directly, with the same seed and budget.

Tolerances:

* ``EXACT = 1e-12``: the reference tests run the tiny models in float64, so the pooled
  and the reference probabilities are bit-identical (both cast the logits to float32
  before the softmax, as reportgen's runner does) and the scores agree to rounding.
* ``FLOAT32 = 1e-6``: with float32 models, batch composition and padding move a
  probability by ~1e-8..1e-7, which moves a LIME coefficient or a SHAP value by less
  than this (the scores of the tiny models are ~1e-4..1e-3).
"""

from __future__ import annotations

from dataclasses import replace

import threading
import time

import numpy as np
import pytest
import torch

from reportgen.errors import ReportgenError
from reportgen.explain.batching import ModelRunner
from reportgen.explain.engine import Engine
from reportgen.explain.pooling import Pool, PoolTimeout, example_seed
from reportgen.explainers import Batch, explainers
from reportgen.load.data import Dataset
from reportgen.load.model import load_classifier
from reportgen.options import RunConfig

from support.tiny_models import CORPUS, WORDS

EXACT = 1e-12
FLOAT32 = 1e-6
SEED = 7
LONG_TEXT = " ".join(WORDS) + " and " + " ".join(reversed(WORDS))  # longer than the tiny models' 64 tokens
TEXTS = list(CORPUS) + [LONG_TEXT]
MODELS = ["bert", "distilbert", "roberta", "three_class"]  # every tiny architecture (WordPiece, byte-level
# BPE), 2 classes, and a 3-class BERT
LIME_SAMPLES = 120
SHAP_EVALS = 120  # below what the long text needs, so shap's budget and queue order matter
POISON = "awful script"  # only in CORPUS[1]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def float64_classifiers(model_dirs, three_class_dir):
    """Our own float64 copies of the tiny classifiers (the shared fixtures stay untouched)."""
    folders = {**model_dirs, "three_class": three_class_dir}
    cache: dict = {}

    def get(kind: str):
        if kind not in cache:
            classifier = load_classifier(folders[kind], device="cpu")
            classifier.model.double()
            cache[kind] = classifier
        return cache[kind]

    return get


def dataset(classifier, texts=TEXTS) -> Dataset:
    n_labels = len(classifier.labels)
    return Dataset(list(texts), [i % n_labels for i in range(len(texts))], list(range(len(texts))))


def run_engine(classifier, methods, params=None, texts=TEXTS, spy=None, seed=SEED, contrast=False):
    """The engine on ``texts``; the errors' contrast pass only when asked (the call counts are of one pass)."""
    engine = Engine(
        classifier,
        RunConfig(methods=methods, seed=seed, metrics=[], method_params=params or {}, contrast=contrast),
        progress=False,
    )
    if spy is not None:
        engine.runner.predict_texts = spy(engine.runner.predict_texts)
    return engine, engine.run(dataset(classifier, texts))


def plain_probabilities(classifier, chunk: int = 64):
    """The plain classifier function: tokenizer + model, chunk by chunk, in order."""

    def probabilities(strings):
        strings = [str(s) for s in strings]
        rows = []
        for start in range(0, len(strings), chunk):
            enc = classifier.tokenizer(
                strings[start : start + chunk], padding=True, truncation=True,
                max_length=classifier.max_length, return_tensors="pt",
            )
            with torch.no_grad():
                logits = classifier.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
            rows.append(torch.softmax(logits.float(), dim=-1).double().numpy())
        return np.concatenate(rows)

    return probabilities


def shown_text(classifier, ex) -> str:
    """The text up to the last character of the last token the model keeps."""
    enc = classifier.tokenizer(ex.text, truncation=True, max_length=classifier.max_length, return_offsets_mapping=True)
    return ex.text[: max(stop for _, stop in enc["offset_mapping"])]


def word_index(classifier, text: str) -> list[int | None]:
    """For every token of ``text`` (no truncation), the position of its word, None for specials."""
    ids = classifier.tokenizer(text).word_ids()
    order = {w: n for n, w in enumerate(sorted({w for w in ids if w is not None}))}
    return [None if w is None else order[w] for w in ids]


def reference_lime(classifier, ex, num_samples: int, seed: int = SEED):
    from lime.lime_text import LimeTextExplainer

    words = list(ex.words)
    explainer = LimeTextExplainer(
        kernel_width=25, feature_selection="none", split_expression=lambda text: words, bow=False,
        mask_string="", random_state=example_seed(seed, ex.index),
    )
    result = explainer.explain_instance(
        shown_text(classifier, ex), plain_probabilities(classifier), labels=(ex.target,),
        num_features=len(words), num_samples=num_samples,
    )
    scores = np.zeros(len(words))
    for feature, weight in result.local_exp[ex.target]:
        scores[feature] = weight
    return scores, result


def reference_shap(classifier, ex, max_evals: int, seed: int = SEED, probabilities=None):
    """shap's own path on one string; returns (token values, base value, word scores, segments, calls)."""
    import shap

    probabilities = probabilities or plain_probabilities(classifier)
    calls = []

    def target_probability(strings):
        calls.append(len(strings))
        return probabilities(strings)[:, ex.target]

    np.random.seed(example_seed(seed, ex.index))
    explainer = shap.Explainer(target_probability, shap.maskers.Text(classifier.tokenizer))
    result = explainer([shown_text(classifier, ex)], max_evals=max_evals, silent=True)
    values = np.asarray(result.values[0], dtype=np.float64)
    owners = word_index(classifier, shown_text(classifier, ex))
    assert len(owners) == len(values)
    words = np.zeros(len(ex.words))
    for value, word in zip(values, owners):
        if word is not None:
            words[word] += value
    return values, float(result.base_values[0]), words, list(result.data[0]), owners, calls


# ---------------------------------------------------------------- agreement with the packages


def call_sizes():
    """A list of pooled-call sizes and the spy that fills it by wrapping the pooled predict."""
    calls = []

    def spy(predict):
        def wrapped(texts):
            calls.append(len(texts))
            return predict(texts)
        return wrapped

    return calls, spy


def pooled(classifier, method: str, params: dict):
    """``method`` through the engine on TEXTS, recording the size of every pooled call; no example fails."""
    calls, spy = call_sizes()
    engine, run = run_engine(classifier, [method], {method: params}, spy=spy)
    assert not run.failures
    return calls, engine, run


def test_an_error_s_lime_contrast_matches_the_package_for_its_true_class(float64_classifiers):
    classifier = float64_classifiers("bert")
    _, run = run_engine(classifier, ["lime"], {"lime": {"num_samples": LIME_SAMPLES}}, contrast=True)
    errors = [ex for ex in run.examples if ex.correct is False]
    assert errors
    for ex in errors:
        contrast = run.attributions["lime"][ex.index].extra["contrast"]
        assert contrast["target"] == ex.label != ex.target
        expected, _ = reference_lime(classifier, replace(ex, target=ex.label), LIME_SAMPLES)
        np.testing.assert_allclose(contrast["words"], expected, rtol=0, atol=EXACT)


@pytest.mark.parametrize("kind", MODELS)
def test_lime_pooled_matches_package_one_example_at_a_time(float64_classifiers, kind):
    classifier = float64_classifiers(kind)
    calls, engine, run = pooled(classifier, "lime", {"num_samples": LIME_SAMPLES})
    assert run.methods["lime"].params["num_samples"] == LIME_SAMPLES
    examples = run.examples
    assert any(ex.truncated for ex in examples)
    # one engine batch, one pooled call holding every example's perturbed texts
    assert calls == [len(examples) * LIME_SAMPLES]
    assert max(engine.runner.batch_sizes[1:]) > LIME_SAMPLES  # model batches mix examples
    for ex in examples:
        got = run.attributions["lime"][ex.index]
        expected, result = reference_lime(classifier, ex, LIME_SAMPLES)
        assert len(got.words) == len(ex.words)
        np.testing.assert_allclose(got.words, expected, rtol=0, atol=EXACT)
        assert np.abs(expected).max() > 1e-5  # the comparison is not between zeros
        assert got.extra["intercept"] == pytest.approx(result.intercept[ex.target], abs=EXACT)
        assert got.extra["surrogate_r2"] == pytest.approx(result.score, abs=EXACT)
        assert got.extra["model_output"] == pytest.approx(ex.probabilities[ex.target], abs=FLOAT32)
        # scores spread over tokens fold back into the word scores
        folded = np.zeros(len(ex.words))
        for score, word in zip(got.tokens, ex.word_ids):
            if word is not None:
                folded[word] += score
        np.testing.assert_allclose(folded, got.words, atol=1e-12)


@pytest.mark.parametrize("kind", MODELS)
def test_shap_pooled_matches_package_one_example_at_a_time(float64_classifiers, kind):
    classifier = float64_classifiers(kind)
    calls, engine, run = pooled(classifier, "shap", {"max_evals": SHAP_EVALS})
    reference_calls = []
    for ex in run.examples:
        got = run.attributions["shap"][ex.index]
        values, base, words, segments, owners, ref_calls = reference_shap(classifier, ex, SHAP_EVALS)
        reference_calls.append(ref_calls)
        np.testing.assert_allclose(got.words, words, rtol=0, atol=EXACT)
        assert np.abs(words).max() > 1e-5
        if not ex.truncated:
            np.testing.assert_allclose(got.tokens, values, rtol=0, atol=EXACT)
        assert got.extra["base_value"] == pytest.approx(base, abs=EXACT)
        # additivity: base value + sum of scores = model output on the example
        assert abs(got.extra["additivity_gap"]) < FLOAT32
        assert base + values.sum() == pytest.approx(ex.probabilities[ex.target], abs=FLOAT32)
        # the token -> word mapping: each word's token segments spell the word
        for n, word in enumerate(ex.words):
            spelled = "".join(seg.strip() for seg, owner in zip(segments, owners) if owner == n)
            assert spelled == word.replace(" ", "")
    assert max(sum(c) for c in reference_calls) <= SHAP_EVALS
    assert any(sum(c) > 100 for c in reference_calls)
    # pooling: one pooled call per round; each round evaluates every live example's request
    assert len(calls) == max(len(c) for c in reference_calls)
    assert sum(calls) == sum(sum(c) for c in reference_calls)
    assert calls[0] == len(run.examples)  # every example's base value in the first call
    assert min(len(c) for c in reference_calls) >= 5  # the first rounds hold every example
    assert max(engine.runner.batch_sizes[1:]) > max(max(c) for c in reference_calls)


def test_shap_ties_are_broken_per_example_like_the_package(float64_classifiers):
    """With coarse outputs shap's queue has ties, broken by np.random: seeded per example."""
    classifier = float64_classifiers("bert")
    plain = plain_probabilities(classifier)

    def coarse(probabilities):
        return lambda texts: np.round(probabilities(texts), 3)

    _, run = run_engine(classifier, ["shap"], {"shap": {"max_evals": 40}}, texts=CORPUS, spy=coarse)
    differs_with_other_seed = 0
    for ex in run.examples:
        got = np.asarray(run.attributions["shap"][ex.index].words)
        same = reference_shap(classifier, ex, 40, probabilities=coarse(plain))[2]
        np.testing.assert_allclose(got, same, rtol=0, atol=EXACT)
        other = reference_shap(classifier, ex, 40, seed=SEED + 1, probabilities=coarse(plain))[2]
        differs_with_other_seed += not np.allclose(got, other, rtol=0, atol=1e-9)
    assert differs_with_other_seed >= 2  # the seeding is what makes them agree


def test_shap_log_odds_output(float64_classifiers):
    classifier = float64_classifiers("three_class")
    _, run = run_engine(classifier, ["shap"], {"shap": {"output": "log_odds", "max_evals": 60}}, texts=CORPUS[:3])
    for ex in run.examples:
        got = run.attributions["shap"][ex.index]
        p = ex.probabilities[ex.target]
        assert got.extra["model_output"] == pytest.approx(np.log(p / (1 - p)), abs=1e-9)
        assert got.extra["base_value"] + sum(got.tokens) == pytest.approx(got.extra["model_output"], abs=1e-5)


# ---------------------------------------------------------------- batching and determinism


@pytest.mark.parametrize("name", ["lime", "shap"])
def test_scores_do_not_depend_on_batching(classifier, name):
    """float32 model: one example per batch, all in one batch, reversed order, repeated."""
    params = {"lime": {"num_samples": 150}, "shap": {"max_evals": 80}}[name]
    _, run = run_engine(classifier, [name], {name: params})
    engine_scores = {ex.index: run.attributions[name][ex.index].words for ex in run.examples}
    examples = run.examples
    explainer = explainers.get(name)(seed=SEED, **params)
    runner = ModelRunner(classifier)
    state = np.random.get_state()
    together = explainer.attribute(Batch(runner, examples))
    assert_same_state(state, np.random.get_state())  # the caller's random state is left alone
    reverse = explainer.attribute(Batch(runner, examples[::-1]))[::-1]
    alone = [explainer.attribute(Batch(runner, [ex]))[0] for ex in examples]
    for ex, a, c, d in zip(examples, together, reverse, alone):
        np.testing.assert_allclose(c.words, a.words, rtol=0, atol=FLOAT32)
        np.testing.assert_allclose(d.words, a.words, rtol=0, atol=FLOAT32)
        np.testing.assert_allclose(engine_scores[ex.index], a.words, rtol=0, atol=FLOAT32)
        assert np.abs(a.words).max() > 1e-5


def assert_same_state(a, b):
    assert a[0] == b[0] and a[2:] == b[2:]
    np.testing.assert_array_equal(a[1], b[1])


# ---------------------------------------------------------------- failures


def test_a_failing_model_call_fails_that_example_only(float64_classifiers):
    classifier = float64_classifiers("bert")
    bad = 1
    assert POISON in TEXTS[bad] and sum(POISON in t for t in TEXTS) == 1
    good_strings = []

    def poisoned(predict):
        def wrapped(texts):
            if any(POISON in t for t in texts):
                raise ValueError("boom: cannot score this text")
            good_strings.append(len(texts))
            return predict(texts)
        return wrapped

    params = {"lime": {"num_samples": 100}, "shap": {"max_evals": 60}}
    holder = {}
    worker = threading.Thread(
        target=lambda: holder.setdefault("run", run_engine(classifier, ["lime", "shap"], params, spy=poisoned)),
        daemon=True,
    )
    started = time.perf_counter()
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the run hung on a failing example"
    assert time.perf_counter() - started < 120
    _, run = holder["run"]
    failed = sorted((f.example, f.method) for f in run.failures)
    assert failed == [(bad, "lime"), (bad, "shap")]
    assert all(f.reason == "ValueError: boom: cannot score this text" for f in run.failures)
    _, clean = run_engine(classifier, ["lime", "shap"], params)
    for method in ("lime", "shap"):
        assert bad not in run.attributions[method]
        assert set(run.attributions[method]) == {ex.index for ex in run.examples} - {bad}
        for index, attribution in run.attributions[method].items():
            np.testing.assert_allclose(attribution.words, clean.attributions[method][index].words, atol=EXACT)
    # lime: the pooled call failed, each request was retried on its own, and the examples that
    # succeeded were kept (not recomputed) when the engine retried them alone; then shap began
    # with one base-value string per example
    samples = params["lime"]["num_samples"]
    assert good_strings[: len(TEXTS)] == [samples] * (len(TEXTS) - 1) + [len(TEXTS)]


def test_pool_isolates_random_state_errors_and_timeouts():
    def predict(texts):
        if "poison" in texts:
            raise KeyError("poisoned request")
        return np.array([[len(t), 1.0] for t in texts])

    def drawing(n):
        def job(pool_predict):
            draws = []
            for step in range(n):
                draws.append(np.random.rand())
                text = f"x{step}" * (step + 1)
                out = pool_predict([text])
                assert out.shape == (1, 2) and out[0, 0] == len(text)
            return draws
        return job

    def fails_in_job(pool_predict):
        pool_predict(["a"])
        raise RuntimeError("inside the package")

    def fails_in_model(pool_predict):
        pool_predict(["a"])
        return pool_predict(["poison"])

    def stalls(pool_predict):
        pool_predict(["a"])
        time.sleep(1.5)
        return "late"

    jobs = [drawing(3), fails_in_job, drawing(8), fails_in_model, stalls, drawing(1)]
    seeds = [example_seed(0, i) for i in range(len(jobs))]
    pool = Pool(predict, turn_timeout=0.5)
    state = np.random.get_state()
    started = time.perf_counter()
    outcomes = pool.run(jobs, seeds)
    assert time.perf_counter() - started < 5
    assert_same_state(state, np.random.get_state())
    for position, n in ((0, 3), (2, 8), (5, 1)):
        assert outcomes[position] == list(np.random.RandomState(seeds[position]).rand(n))
    assert isinstance(outcomes[1], RuntimeError)
    assert isinstance(outcomes[3], KeyError)
    assert isinstance(outcomes[4], PoolTimeout)
    # the first round pooled one request from every job
    assert pool.calls[0] == len(jobs)
    assert pool.rounds == 8


def test_seeds_and_parameters_are_recorded(classifier):
    assert example_seed(0, 3) == example_seed(0, 3) != example_seed(1, 3) != example_seed(0, 4)
    lime = explainers.get("lime")()
    shap_explainer = explainers.get("shap")()
    assert lime.params["num_samples"] <= 500 and lime.params["mask_string"] == ""
    assert {"kernel_width", "feature_selection", "distance_metric", "num_features"} <= set(lime.params)
    assert shap_explainer.params["max_evals"] <= 500
    assert {"output", "mask_token", "collapse_mask_token", "batch_size", "fixed_context"} <= set(shap_explainer.params)
    for cls in (type(lime), type(shap_explainer)):
        assert "pooled" in cls.description
    with pytest.raises(TypeError, match="num_samples"):
        explainers.get("shap")(num_samples=3)


@pytest.mark.parametrize("method,params,message", [
    ("lime", {"num_samples": 1}, "num_samples must be"),
    ("lime", {"num_samples": 2.5}, "num_samples must be"),
    ("lime", {"feature_selection": "best"}, "feature_selection must be"),
    ("lime", {"kernel_width": 0}, "kernel_width must be"),
    ("shap", {"max_evals": 2}, "max_evals must be"),
    ("shap", {"output": "margin"}, "output must be one of"),
    ("shap", {"batch_size": 0}, "batch_size must be"),
    ("shap", {"fixed_context": 2}, "fixed_context must be"),
])
def test_bad_parameters_fail_when_the_run_is_configured(classifier, method, params, message):
    with pytest.raises(ReportgenError, match=f"^{method}: {message}"):
        Engine(classifier, RunConfig(methods=[method], method_params={method: params}, metrics=[]))
