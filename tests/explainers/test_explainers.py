"""Every registered explainer on tiny BERT, DistilBERT, RoBERTa and 3-class models.

- every method runs through the Engine on every architecture and gives finite scores;
- every method has its own check (a test fails if a registered method has none);
- ``--target label`` explains the label's class, also where the model predicts another;
- batching does not change scores;
- one failing example is recorded and the rest are still explained;
- plugins load from ``module:attr`` and from a ``.py`` path, and bad specs fail in one line.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace
from importlib.metadata import EntryPoint

import numpy as np
import pytest
import torch

import reportgen.plugins as plugins
from reportgen.errors import ReportgenError
from reportgen.explain.batching import ModelRunner, default_max_batch_tokens
from reportgen.explain.engine import Engine
from reportgen.explain.pooling import example_seed
from reportgen.explainers import Batch, Explainer, Explanation, explainers
from reportgen.load.data import Dataset
from reportgen.ops.quadrature import quadrature
from reportgen.ops.words import fold_to_words
from reportgen.options import RunConfig
from reportgen.results.maps import row_weights
from reportgen.results.queries import review_key

from support import ROOT
from support.runs import measured
from support.tiny_models import CORPUS

METHODS = explainers.names()  # the live registry, including methods other modules add
KINDS = ("bert", "distilbert", "roberta", "bert3")
EXAMPLES = ROOT / "examples"
TEXTS = list(CORPUS) + ["fun", "The acting is not good, but the story is really quite brilliant and the ending smart."]
ROWS = [100 + 3 * i for i in range(len(TEXTS))]  # row ids differ from positions on purpose
SMALL_BUDGETS = {  # applied only where a method has the parameter
    "num_samples": 40, "n_samples": 40, "nsamples": 40, "samples": 40, "max_evals": 40, "n_evals": 40,
}


def small_params(name: str) -> dict:
    defaults = explainers.get(name).defaults
    params = {key: value for key, value in SMALL_BUDGETS.items() if key in defaults}
    if name == "layer_integrated_gradients":
        params["n_steps"] = 8
    return params


def config(methods, **kwargs) -> RunConfig:
    params = {name: small_params(name) for name in methods if name in explainers}
    return RunConfig(methods=list(methods), method_params=params, metrics=[], attention_maps=3, **kwargs)


def dataset_for(classifier) -> Dataset:
    classes = len(classifier.labels)
    return Dataset(TEXTS, [i % classes for i in range(len(TEXTS))], ROWS, info={"name": "tiny"})


@pytest.fixture(scope="module")
def runs(classifiers):
    """One run of every registered method per tiny model (computed on first use)."""
    cache = {}

    def get(kind):
        if kind not in cache:
            classifier = classifiers[kind]
            cache[kind] = measured(classifier, dataset_for(classifier), config(METHODS))
        return cache[kind]

    return get


@pytest.fixture
def restore_registry():
    with explainers.restored():
        yield


# (a) every method, every architecture ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_method_runs_on_every_architecture(runs, method, kind):
    run = runs(kind)
    assert [f for f in run.failures if f.method in (method, None)] == []
    assert run.methods[method].examples == len(TEXTS)
    scores = run.attributions[method]
    assert sorted(scores) == ROWS
    for ex in run.examples:
        attribution = scores[ex.index]
        assert len(attribution.tokens) == len(ex.input_ids)
        assert len(attribution.words) == len(ex.words)
        assert np.all(np.isfinite(attribution.tokens)) and np.all(np.isfinite(attribution.words))


# (b) one check per method ---------------------------------------------------------------


def examples_and_scores(run, method):
    return [(ex, np.asarray(run.attributions[method][ex.index].tokens)) for ex in run.examples]


def single_batch(classifier, ex) -> Batch:
    return Batch(ModelRunner(classifier), [ex])


def specials(ex) -> np.ndarray:
    return np.array([w is None for w in ex.word_ids])


def check_attention(run, classifier):
    for ex, scores in examples_and_scores(run, "attention"):
        assert np.all(scores >= 0) and scores.sum() <= 1 + 1e-5
        np.testing.assert_allclose(scores.sum(), 1.0, atol=1e-5)  # padding gets no attention
    kept = [a for a in run.attributions["attention"].values() if "maps" in a.extra]
    assert len(kept) == 3
    # the examples a reviewer reads first: errors (the most confident first), then the least confident
    first = sorted((ex for ex in run.examples if ex.ok), key=review_key)[:3]
    assert sorted(a.example for a in kept) == sorted(ex.index for ex in first)
    assert [ex.index for ex in first] != sorted(ex.index for ex in run.examples if ex.ok)[:3]  # not the first rows
    for attribution in kept:
        maps = stored_maps(attribution.extra["maps"])
        length = len(attribution.tokens)
        assert maps.shape == (classifier.model.config.num_hidden_layers, classifier.model.config.num_attention_heads,
                              length, length)
        np.testing.assert_allclose(maps[-1, :, 0, :].mean(axis=0), attribution.tokens, atol=1e-3)


def stored_maps(maps: list) -> np.ndarray:
    """The stored attention maps as [layer, head, query, key] weights: rows of one (layer, head) each,
    the query x key matrix flattened in whole units of 1/scale (nested lists in older results)."""
    if not maps or not isinstance(maps[0], dict):
        return np.asarray(maps, dtype=float)
    layers, heads = 1 + max(r["layer"] for r in maps), 1 + max(r["head"] for r in maps)
    array = np.full((layers, heads, maps[0]["n"], maps[0]["n"]), np.nan)
    for r in maps:
        array[r["layer"], r["head"]] = np.reshape(row_weights(r), (r["n"], r["n"])) / r["scale"]
    return array


def check_attention_rollout(run, classifier):
    for ex, scores in examples_and_scores(run, "attention_rollout"):
        assert np.all(scores >= 0)
        np.testing.assert_allclose(scores.sum(), 1.0, atol=1e-5)  # a product of row-stochastic matrices
        assert scores[0] > scores[1:].min()  # the residual term keeps weight on the query itself


def check_saliency(run, classifier):
    for ex, scores in examples_and_scores(run, "saliency")[:2]:
        assert np.all(scores >= 0)
        embeds, grads = hand_gradients(classifier, ex)
        np.testing.assert_allclose(scores, grads.norm(dim=-1).numpy(), rtol=1e-4, atol=1e-9)


def check_grad_x_input(run, classifier):
    for ex, scores in examples_and_scores(run, "grad_x_input")[:2]:
        embeds, grads = hand_gradients(classifier, ex)
        np.testing.assert_allclose(scores, (grads * embeds).sum(dim=-1).numpy(), rtol=1e-4, atol=1e-9)


def check_smoothgrad(run, classifier):
    params = run.methods["smoothgrad"].params
    for ex, scores in examples_and_scores(run, "smoothgrad")[:2]:
        assert np.all(scores >= 0)
        embeds, _ = hand_gradients(classifier, ex)
        spread = float(embeds.max() - embeds.min()) * params["noise"]
        generator = torch.Generator().manual_seed(example_seed(run.config["seed"], ex.index))
        noise = torch.randn((params["n_samples"], *embeds.shape), generator=generator) * spread
        mean = sum(noisy_gradients(classifier, ex, embeds + draw) for draw in noise) / params["n_samples"]
        np.testing.assert_allclose(scores, mean.norm(dim=-1).numpy(), rtol=1e-4, atol=1e-9)


def check_gradient_shap(run, classifier):
    n = run.methods["gradient_shap"].params["n_samples"]
    embed = classifier.embeddings()
    for ex, scores in examples_and_scores(run, "gradient_shap")[:2]:
        assert np.all(scores[specials(ex)] == 0)  # the baseline keeps special tokens
        ids = torch.tensor(ex.input_ids)
        base = embed(torch.where(torch.tensor(specials(ex)), ids, torch.full_like(ids, classifier.pad_id))).detach()
        embeds = embed(ids).detach()
        alphas = np.random.RandomState(example_seed(run.config["seed"], ex.index)).uniform(0, 1, n)
        mean = sum(noisy_gradients(classifier, ex, base + float(a) * (embeds - base)) for a in alphas) / n
        np.testing.assert_allclose(scores, (mean * (embeds - base)).sum(dim=-1).numpy(), rtol=1e-4, atol=1e-9)


class ZeroedAt(torch.nn.Module):
    """A value projection whose output at one position is zero."""

    def __init__(self, projection, position):
        super().__init__()
        self.projection, self.position = projection, position

    def forward(self, hidden):
        out = self.projection(hidden).clone()
        out[:, self.position] = 0
        return out


def check_value_zeroing(run, classifier):
    """Recomputed with whole forward passes of a model whose value projection is wrapped (no hooks, no early
    stop): BERT's layer l output is hidden_states[l + 1]."""
    model = classifier.model
    for ex, scores in examples_and_scores(run, "value_zeroing")[:2]:
        ids = torch.tensor([ex.input_ids])
        mask = torch.ones_like(ids)
        with torch.no_grad():
            original = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        flow = None
        for number, layer in enumerate(model.bert.encoder.layer):
            value = layer.attention.self.value
            distances = torch.zeros((len(ex.input_ids), len(ex.input_ids)), dtype=torch.float64)
            for j in range(len(ex.input_ids)):
                layer.attention.self.value = ZeroedAt(value, j)
                try:
                    with torch.no_grad():
                        altered = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
                finally:
                    layer.attention.self.value = value
                cosine = torch.nn.functional.cosine_similarity(altered[number + 1][0].double(),
                                                               original[number + 1][0].double(), dim=-1)
                distances[:, j] = 1 - cosine
            mixing = distances / distances.sum(dim=1, keepdim=True)
            flow = mixing if flow is None else mixing @ flow
        np.testing.assert_allclose(scores, flow[0].numpy(), rtol=1e-5, atol=1e-9)  # BERT reads [CLS]
        assert scores.sum() == pytest.approx(1.0)


def noisy_gradients(classifier, ex, embeds):
    """d(target logit)/d(embeddings) at the given embeddings of one example alone."""
    embeds = embeds.detach().requires_grad_(True)
    logit = classifier.model(inputs_embeds=embeds[None], attention_mask=torch.ones((1, len(embeds)),
                                                                                    dtype=torch.long)).logits
    (grads,) = torch.autograd.grad(logit[0, ex.target], embeds)
    return grads


def hand_gradients(classifier, ex):
    """One example alone, no padding: embeddings and d(target logit)/d(embeddings)."""
    ids = torch.tensor([ex.input_ids])
    embeds = classifier.embeddings()(ids).detach().requires_grad_(True)
    logit = classifier.model(inputs_embeds=embeds, attention_mask=torch.ones_like(ids)).logits[0, ex.target]
    (grads,) = torch.autograd.grad(logit, embeds)
    return embeds.detach()[0], grads[0]


def target_logit(classifier, embeds, ex) -> float:
    with torch.no_grad():
        mask = torch.ones((1, len(embeds)), dtype=torch.long)
        out = classifier.model(inputs_embeds=embeds[None], attention_mask=mask)
    return float(out.logits[0, ex.target])


def check_integrated_gradients(run, classifier):
    embed = classifier.embeddings()
    for ex, scores in examples_and_scores(run, "integrated_gradients"):
        assert np.all(scores[specials(ex)] == 0)  # the baseline keeps special tokens
        delta = run.attributions["integrated_gradients"][ex.index].extra["delta"]
        ids = torch.tensor(ex.input_ids)
        base = torch.where(torch.tensor(specials(ex)), ids, torch.full_like(ids, classifier.pad_id))
        with torch.no_grad():
            change = target_logit(classifier, embed(ids), ex) - target_logit(classifier, embed(base), ex)
        np.testing.assert_allclose(delta, scores.sum() - change, atol=1e-6)  # the recorded delta is what it says
        assert abs(delta) <= 0.01 * abs(change) + 1e-7  # 32 Gauss-Legendre steps converge


def check_layer_integrated_gradients(run, classifier):
    config = classifier.model.config
    for ex, scores in examples_and_scores(run, "layer_integrated_gradients"):
        extra = run.attributions["layer_integrated_gradients"][ex.index].extra
        matrix = np.asarray(extra["layers"])
        assert matrix.shape == (config.num_hidden_layers + 1, len(ex.input_ids))
        assert len(extra["layer_names"]) == len(matrix) and extra["layer_names"][0].endswith("embeddings")
        np.testing.assert_allclose(scores, matrix.sum(axis=0), rtol=1e-12)
        totals = matrix.sum(axis=1)  # each layer's row sums to the same logit change
        assert np.all(np.abs(np.asarray(extra["deltas"])) <= 0.02 * np.abs(totals).max() + 1e-7)
        assert np.all(matrix[-1, 1:] == 0)  # after the last layer only the first token reaches the head


def check_occlusion(run, classifier):
    for ex, scores in examples_and_scores(run, "occlusion")[:3]:
        assert np.all(scores[specials(ex)] == 0)
        position = int(np.flatnonzero(~specials(ex))[-1])
        masked = list(ex.input_ids)
        masked[position] = classifier.tokenizer.mask_token_id
        with torch.no_grad():
            probs = torch.softmax(classifier.model(input_ids=torch.tensor([ex.input_ids, masked])).logits, dim=-1)
        np.testing.assert_allclose(scores[position], float(probs[0, ex.target] - probs[1, ex.target]), atol=1e-6)


def check_random(run, classifier):
    pairs = examples_and_scores(run, "random")
    for ex, scores in pairs:
        assert np.all(scores[specials(ex)] == 0) and np.all(scores[~specials(ex)] != 0)
        alone = explainers.get("random")(seed=run.config["seed"]).attribute(single_batch(classifier, ex))[0]
        np.testing.assert_array_equal(alone.tokens, scores)  # the same with any batch
        other = explainers.get("random")(seed=run.config["seed"] + 1).attribute(single_batch(classifier, ex))[0]
        assert not np.allclose(other.tokens[~specials(ex)], scores[~specials(ex)])
    firsts = [scores[1] for _, scores in pairs]
    assert len(set(firsts)) == len(firsts)  # each example gets its own draws


FLOAT32 = 1e-5  # a float32 probability computed in another batch moves by ~1e-7; this leaves a margin


def target_probability(classifier, ex) -> float:
    """The model's probability of the target class on the example alone (no padding, no masking)."""
    with torch.no_grad():
        logits = classifier.model(input_ids=torch.tensor([ex.input_ids])).logits
    return float(torch.softmax(logits.float(), dim=-1)[0, ex.target])


def package_lime(classifier, ex, params: dict, seed: int) -> np.ndarray:
    """The lime package's own explain_instance on the text, with the run's settings, seed and budget."""
    from lime.lime_text import LimeTextExplainer

    words = list(ex.words)

    def probabilities(strings):
        enc = classifier.tokenizer([str(s) for s in strings], padding=True, return_tensors="pt")
        with torch.no_grad():
            logits = classifier.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        return torch.softmax(logits.float(), dim=-1).double().numpy()

    explainer = LimeTextExplainer(kernel_width=params["kernel_width"], feature_selection="none",
                                  split_expression=lambda text: words, bow=False, mask_string=params["mask_string"],
                                  random_state=example_seed(seed, ex.index))
    result = explainer.explain_instance(ex.text, probabilities, labels=(ex.target,), num_features=len(words),
                                        num_samples=params["num_samples"])
    scores = np.zeros(len(words))
    for feature, weight in result.local_exp[ex.target]:
        scores[feature] = weight
    return scores


def check_lime(run, classifier):
    """The scores are lime's surrogate coefficients for the target class: intercept + the sum of the word
    scores is the surrogate's prediction on the unperturbed text (every word kept, x = 1), lime's output
    there is the model's, and the scores are what the lime package itself gives with the same seed."""
    params = run.methods["lime"].params
    for ex in run.examples:
        attribution = run.attributions["lime"][ex.index]
        words, extra = np.asarray(attribution.words), attribution.extra
        assert extra["intercept"] + words.sum() == pytest.approx(extra["surrogate_prediction"], abs=1e-9)
        assert extra["model_output"] == pytest.approx(target_probability(classifier, ex), abs=FLOAT32)
    for ex in run.examples[:2]:
        assert not ex.truncated
        words = np.asarray(run.attributions["lime"][ex.index].words)
        reference = package_lime(classifier, ex, params, run.config["seed"])
        assert np.abs(reference).max() > 1e-4  # not a comparison of zeros
        np.testing.assert_allclose(words, reference, rtol=0, atol=1e-3 * np.abs(reference).max())


def check_shap(run, classifier):
    """Additivity: base value + the sum of the scores = the model's output (the target probability) on
    the unmasked text, computed here on the example alone, to FLOAT32."""
    gaps = []
    for ex in run.examples:
        attribution = run.attributions["shap"][ex.index]
        tokens, base = np.asarray(attribution.tokens), attribution.extra["base_value"]
        assert attribution.extra["output"] == "probability"
        output = target_probability(classifier, ex)
        assert base + tokens.sum() == pytest.approx(output, abs=FLOAT32)
        # the word scores fold the content tokens only; shap gives the special tokens values too (~5% here)
        np.testing.assert_allclose(attribution.words, fold_to_words(tokens, ex.word_ids, len(ex.words)), atol=1e-12)
        gaps.append(output - base)
    assert max(np.abs(gaps)) > 100 * FLOAT32  # the scores carry a real share of the output


CHECKS = {
    "attention": check_attention,
    "attention_rollout": check_attention_rollout,
    "value_zeroing": check_value_zeroing,
    "saliency": check_saliency,
    "smoothgrad": check_smoothgrad,
    "gradient_shap": check_gradient_shap,
    "grad_x_input": check_grad_x_input,
    "integrated_gradients": check_integrated_gradients,
    "layer_integrated_gradients": check_layer_integrated_gradients,
    "occlusion": check_occlusion,
    "random": check_random,
    "lime": check_lime,
    "shap": check_shap,
}


def test_every_registered_method_has_a_check():
    missing = sorted(set(explainers.names()) - set(CHECKS))
    assert not missing, f"add a method-specific check to CHECKS for: {', '.join(missing)}"


@pytest.mark.parametrize("method", METHODS)
def test_method_specific_check(runs, classifiers, method):
    assert method in CHECKS, f"no check for {method}"
    CHECKS[method](runs("bert"), classifiers["bert"])


# (b2) --target label ------------------------------------------------------------------

TARGET_METHODS = ("saliency", "integrated_gradients", "occlusion")


@pytest.mark.parametrize("kind", ["bert", "bert3"])
def test_target_label_explains_the_label_class(classifiers, kind):
    """--target label: every example's target is its label, the scores are those of an explicit run
    for the label's class, and where the model predicts another class they differ from --target pred's."""
    classifier = classifiers[kind]
    data = dataset_for(classifier)

    def run(target):
        run_config = RunConfig(methods=list(TARGET_METHODS), target=target, metrics=["faithfulness"],
                               method_params={"integrated_gradients": {"n_steps": 8}}, attention_maps=0)
        return measured(classifier, data, run_config)

    by_pred, by_label = run("pred"), run("label")
    assert [ex.prediction for ex in by_label.examples] == [ex.prediction for ex in by_pred.examples]
    assert all(ex.target == ex.label for ex in by_label.examples)
    differ = [ex.index for ex in by_label.examples if ex.label != ex.prediction]
    assert 0 < len(differ) < len(by_label.examples)  # both kinds of example are there

    explicit = [replace(ex, target=ex.label) for ex in by_pred.examples]
    for method in TARGET_METHODS:
        params = {"n_steps": 8} if method == "integrated_gradients" else {}
        expected = explainers.get(method)(**params).attribute(Batch(ModelRunner(classifier), explicit))
        scale = max(np.abs(e.tokens).max() for e in expected)
        for ex, want in zip(explicit, expected):
            got = np.asarray(by_label.attributions[method][ex.index].tokens)
            np.testing.assert_allclose(got, want.tokens, rtol=0, atol=1e-4 * scale + 1e-9)
            if ex.index in differ:
                pred = np.asarray(by_pred.attributions[method][ex.index].tokens)
                assert np.abs(got - pred).max() > 1e-2 * scale, (method, ex.index)
    faithfulness = by_label.metrics["faithfulness"]["result"]["per_example"]
    labels = {ex.index: ex for ex in by_label.examples}
    assert faithfulness and all(row["target"] == labels[row["example"]].label for row in faithfulness)
    for row in faithfulness:
        ex = labels[row["example"]]
        assert row["p"] == pytest.approx(ex.probabilities[ex.label], abs=FLOAT32)


def test_layer_lookup_refuses_shared_layers():
    from transformers import AlbertConfig, AlbertForSequenceClassification

    from reportgen.load.layers import attribution_layers

    albert = AlbertForSequenceClassification(AlbertConfig(
        vocab_size=50, embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=32))
    with pytest.raises(ValueError, match="cannot find the 3 encoder layers"):
        attribution_layers(albert)


def test_quadrature_rules():
    for method in ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"):
        nodes, weights = quadrature(method, 7)
        assert len(nodes) == 7 and np.all((nodes >= 0) & (nodes <= 1))
        np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-12)
    nodes, weights = quadrature("gausslegendre", 4)
    np.testing.assert_allclose((weights * nodes**7).sum(), 1 / 8, rtol=1e-12)  # exact up to degree 2n-1
    nodes, weights = quadrature("riemann_trapezoid", 5)
    np.testing.assert_allclose((weights * nodes).sum(), 0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="gausslegendre"):
        quadrature("simpson", 8)


@pytest.mark.parametrize("method,params,message", [
    ("integrated_gradients", {"method": "simpson"}, "unknown integration method"),
    ("integrated_gradients", {"method": "riemann_left", "n_steps": 1}, "n_steps >= 2"),
    ("layer_integrated_gradients", {"n_steps": 2.5}, "whole number"),
    ("occlusion", {"replacement": "nothing"}, "replacement must be one of"),
])
def test_bad_parameters_fail_when_the_run_is_configured(classifiers, method, params, message):
    with pytest.raises(ReportgenError, match=message):
        Engine(classifiers["bert"], RunConfig(methods=[method], method_params={method: params}, metrics=[]))


def test_extras_survive_saving(runs, tmp_path):
    from reportgen.results.store import load, save

    run = runs("bert")
    loaded = load(save(run, tmp_path / "results"))
    for method in ("integrated_gradients", "layer_integrated_gradients"):
        for index, attribution in run.attributions[method].items():
            assert loaded.attributions[method][index].extra == attribution.extra
    assert loaded.methods["integrated_gradients"].params == {"n_steps": 16, "method": "gausslegendre"}


# (c) batching does not change scores ----------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_batching_does_not_change_scores(classifiers, method):
    """One sequence per model call (token budget 1) vs everything in one batch: same scores."""
    classifier = classifiers["bert"]
    data = dataset_for(classifier).subset([0, 3, 6, 7])  # lengths 4 to 20 tokens, padded together
    params = {"n_steps": 8} if method == "integrated_gradients" else {}  # fewer steps: cheaper, same check

    def run(max_batch_tokens):
        run_config = config([method], max_batch_tokens=max_batch_tokens)
        run_config.method_params[method].update(params)
        return measured(classifier, data, run_config)

    one_by_one, batched = run(1), run(100_000)
    assert one_by_one.timings["model_batch_sizes"]["max"] == 1  # every model call held one sequence
    assert batched.timings["model_batch_sizes"]["max"] > 1
    reference = batched.attributions[method]
    scale = max(np.abs(a.tokens).max() for a in reference.values())
    assert sorted(one_by_one.attributions[method]) == sorted(reference) == sorted(data.rows)
    for index, attribution in one_by_one.attributions[method].items():
        np.testing.assert_allclose(attribution.tokens, reference[index].tokens, rtol=0, atol=1e-4 * scale + 1e-9)


def test_token_budget_defaults_to_the_devices_and_is_recorded(classifiers):
    classifier = classifiers["bert"]
    data = dataset_for(classifier).subset([0, 1])
    engine = Engine(classifier, config(["saliency"]), progress=False)
    budget = default_max_batch_tokens(classifier.device)
    assert engine.runner.max_batch_tokens == budget
    assert engine.run(data).config["max_batch_tokens"] == budget
    assert (default_max_batch_tokens("cpu"), default_max_batch_tokens("cuda:0")) == (2048, 8192)
    explicit = Engine(classifier, config(["saliency"], max_batch_tokens=300), progress=False)
    assert explicit.runner.max_batch_tokens == 300


# (d) a failing example is recorded, the rest are explained ------------------------------


class BrokenOnOne(Explainer):
    name = "broken_for_test"
    description = "Zeros, except that it raises for one example."
    defaults = {"bad_index": -1}

    def attribute(self, batch):
        if any(ex.index == self.params["bad_index"] for ex in batch.examples):
            raise RuntimeError("boom on purpose\nsecond line")
        return [Explanation(np.zeros(len(ex.input_ids))) for ex in batch.examples]


def test_one_failing_example_is_recorded_and_the_rest_explained(classifiers, restore_registry):
    explainers.register(BrokenOnOne)
    classifier, bad = classifiers["bert"], ROWS[2]
    run_config = RunConfig(methods=["broken_for_test", "occlusion"], metrics=[],
                           method_params={"broken_for_test": {"bad_index": bad}})
    run = measured(classifier, dataset_for(classifier), run_config)
    assert [(f.example, f.method, f.reason) for f in run.failures] == [
        (bad, "broken_for_test", "RuntimeError: boom on purpose")
    ]
    assert sorted(run.attributions["broken_for_test"]) == [i for i in ROWS if i != bad]
    assert sorted(run.attributions["occlusion"]) == ROWS
    assert all(ex.ok for ex in run.examples)


# (e) plugins ----------------------------------------------------------------------------

PLUGIN_MODULE = '''
import numpy as np
from reportgen.explainers import Explainer, Explanation

class Ones(Explainer):
    name = "ones_for_test"
    description = "One per token."
    def attribute(self, batch):
        return [Explanation(np.ones(len(ex.input_ids))) for ex in batch.examples]

class Twos(Ones):
    name = "twos_for_test"
    description = "Two per token."
    def attribute(self, batch):
        return [Explanation(np.full(len(ex.input_ids), 2.0)) for ex in batch.examples]

class Clash(Ones):
    name = "saliency"

class NoAttribute(Explainer):
    name = "no_attribute_for_test"

BOTH = [Ones, Twos]
NOT_AN_EXPLAINER = 42
'''


@pytest.fixture
def plugin_module(tmp_path, monkeypatch, restore_registry):
    name = "rg_test_plugin_module"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_plugin_from_path_runs_through_the_engine(classifiers, restore_registry):
    assert plugins.load_plugin(f"{EXAMPLES / 'custom_explainer.py'}:EmbeddingNorm") == ["embedding_norm"]
    assert plugins.load_plugin(f"{EXAMPLES / 'custom_explainer.py'}:EmbeddingNorm") == ["embedding_norm"]  # again: fine
    classifier = classifiers["bert"]
    run = measured(classifier, dataset_for(classifier), RunConfig(methods="embedding_norm,saliency", metrics=[]))
    assert not run.failures
    ex = run.examples[0]
    scores = np.asarray(run.attributions["embedding_norm"][ex.index].tokens)
    assert np.all(scores[specials(ex)] == 0)
    position = int(np.flatnonzero(~specials(ex))[0])
    with torch.no_grad():
        expected = classifier.embeddings()(torch.tensor([ex.input_ids[position]])).norm()
    np.testing.assert_allclose(scores[position], float(expected), rtol=1e-5)


def test_plugin_from_module_attr(plugin_module):
    assert plugins.load_plugin(f"{plugin_module}:Ones") == ["ones_for_test"]
    assert explainers.get("ones_for_test").__name__ == "Ones"
    assert plugins.load_plugin(f"{plugin_module}:BOTH") == ["ones_for_test", "twos_for_test"]


def test_plugin_from_entry_point(plugin_module, monkeypatch):
    point = EntryPoint(name="twos", value=f"{plugin_module}:Twos", group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [point] if group == point.group else [])
    assert plugins.load_entry_points() == ["twos_for_test"]
    assert "twos_for_test" in explainers


@pytest.mark.parametrize("spec,message", [
    ("", "bad plugin spec"),
    ("module_only:", "bad plugin spec"),
    ("a module:Thing", "bad plugin spec"),
    ("{module}:not-a-name", "bad plugin spec"),
    ("rg_no_such_module_anywhere:Thing", "not found"),
    ("no/such/file.py:Thing", "does not exist"),
    ("{module}:Missing", "has no attribute 'Missing'"),
    ("{module}:NOT_AN_EXPLAINER", "is not an Explainer subclass"),
    ("{module}:Clash", "already taken"),
    ("{module}:NoAttribute", "does not implement attribute"),
])
def test_bad_plugin_specs_fail_in_one_line(plugin_module, spec, message):
    before = explainers.names()
    with pytest.raises(ReportgenError, match=message) as caught:
        plugins.load_plugin(spec.format(module=plugin_module))
    assert "\n" not in str(caught.value)
    assert explainers.names() == before


def test_all_methods_leave_out_one_that_does_not_fit_the_model_and_say_why(classifiers, monkeypatch):
    import reportgen.explainers.value_zeroing as value_zeroing
    from reportgen.api import applicable_methods

    def no_projection(model):
        raise ValueError("value zeroing needs each layer's value projection; layer x of Fake has 2")

    monkeypatch.setattr(value_zeroing, "value_projections", no_projection)
    classifier = replace(classifiers["bert"], info={})
    chosen = applicable_methods(classifier, RunConfig(methods=explainers.names()), everything=True)
    assert "value_zeroing" not in chosen.methods and "saliency" in chosen.methods
    assert classifier.info["methods_not_applicable"] == {
        "value_zeroing": "it does not fit this model: value_zeroing: value zeroing needs each layer's value "
                         "projection; layer x of Fake has 2"}
    with pytest.raises(ReportgenError, match="value_zeroing: value zeroing needs"):  # named on its own: refused
        Engine(classifier, RunConfig(methods=["value_zeroing"]), progress=False)
