"""Sanity checks (model parameter randomisation): every method runs again on a seeded sample for models
randomised step by step; a method that ignores the model fails, integrated gradients passes, and the checks
change nothing of the main pass."""

from __future__ import annotations

import pytest
import torch

from reportgen.explain.explainer import Explainer, Explanation, explainers
from reportgen.explain.sanity import HEAD, RandomisedModel, sanity_sample_size
from reportgen.load.data import Dataset
from reportgen.measure import compute_metrics
from reportgen.options import RunConfig

from support.runs import measured
from support.tiny_models import CORPUS

TEXTS = CORPUS + ["the film was fun", "boring and slow, but the music is great", "a long and careful film"]


class TokenLength(Explainer):
    """A method that ignores the model: each token scores its length in characters."""

    name = "token_length_for_test"
    description = "Each token's length in characters (ignores the model)."
    defaults: dict = {}

    def attribute(self, batch) -> list[Explanation]:
        lengths = [[float(len(token)) for token in ex.tokens] for ex in batch.examples]
        return [Explanation(torch.tensor(row)) for row in lengths]


def run_of(classifier, methods, **settings):
    data = Dataset(TEXTS, [i % 2 for i in range(len(TEXTS))], list(range(len(TEXTS))),
                   info={"path": "inline", "rows": len(TEXTS)})
    config = RunConfig(methods=methods, metrics=[], contrast=False,
                       method_params={"integrated_gradients": {"n_steps": 16}}, **settings)
    return measured(classifier, data, config)


@pytest.fixture(scope="module")
def checked(classifier):
    with explainers.restored():
        explainers.register(TokenLength)
        run = run_of(classifier, ["integrated_gradients", TokenLength.name, "random"], sanity_examples=6)
    compute_metrics(run, None, ["sanity"])
    return run


def test_a_method_that_ignores_the_model_fails_and_integrated_gradients_passes(checked):
    result = checked.metrics["sanity"]["result"]
    rows = {row["method"]: row for row in result["methods"]}
    layers = [f"layer {n}" for n in range(2, 0, -1)]  # the tiny BERT's two layers, from the top
    assert result["cascade"] == [HEAD, *layers, "embeddings"] and result["independent"] == layers
    assert result["examples"] == 6
    ignoring = rows[TokenLength.name]
    assert ignoring["verdict"] == "fails" and ignoring["randomised_spearman"] == pytest.approx(1.0)
    assert all(step["spearman"] == pytest.approx(1.0) for step in ignoring["cascade"] + ignoring["independent"])
    ig = rows["integrated_gradients"]
    assert ig["verdict"] == "passes" and ig["randomised_spearman"] < 0.5
    assert rows["random"]["is_control"] and rows["random"]["verdict"] == "fails"  # seeded: the same scores


def test_a_steps_correlation_is_recomputed_from_the_stored_scores(checked):
    from scipy.stats import spearmanr

    result = checked.metrics["sanity"]["result"]
    ig = next(row for row in result["methods"] if row["method"] == "integrated_gradients")
    sampled = [a for a in checked.attributions["integrated_gradients"].values() if "sanity" in a.extra]
    assert len(sampled) == 6
    for kind in ("cascade", "independent"):
        for step in ig[kind]:
            rhos = [spearmanr(a.words, a.extra["sanity"][kind][step["step"]]).statistic for a in sampled]
            assert step["spearman"] == pytest.approx(sum(rhos) / len(rhos), abs=1e-9)


def test_the_checks_change_nothing_of_the_main_pass(classifier, checked):
    plain = run_of(classifier, ["integrated_gradients", "random"], sanity_examples=0)
    for method in ("integrated_gradients", "random"):
        assert plain.methods[method].examples == checked.methods[method].examples
        for index, attribution in plain.attributions[method].items():
            assert checked.attributions[method][index].tokens == pytest.approx(attribution.tokens, abs=1e-6)
            assert "sanity" not in attribution.extra
    assert "sanity" in checked.timings and "sanity" not in plain.timings


def test_randomising_a_group_changes_only_its_parameters_and_restores(classifier):
    randomised = RandomisedModel(classifier.model, seed=0)
    before = {name: p.detach().clone() for name, p in randomised.model.named_parameters()}
    saved = randomised.saved("layer 1")
    randomised.randomise("layer 1")
    changed = {name for name, p in randomised.model.named_parameters() if not torch.equal(p, before[name])}
    assert changed and all(".layer.0." in name for name in changed)
    randomised.restore("layer 1", saved)
    assert all(torch.equal(p, before[name]) for name, p in randomised.model.named_parameters())
    again = RandomisedModel(classifier.model, seed=0)
    again.randomise("layer 1")
    randomised.randomise("layer 1")
    assert all(torch.equal(p, q) for p, q in zip(again.model.parameters(), randomised.model.parameters()))
    assert all(torch.equal(p, before[name]) for name, p in classifier.model.named_parameters())  # a copy


def test_the_default_sample_costs_at_most_a_quarter_of_the_main_pass():
    assert sanity_sample_size(None, 1000, 10) == 25 and sanity_sample_size(None, 1039, 10) == 25
    assert sanity_sample_size(None, 50, 14) == 0 and sanity_sample_size(None, 56, 14) == 1
    assert sanity_sample_size(None, 100_000, 10) == 100 and sanity_sample_size(7, 5, 10) == 5


def test_a_resumed_run_computes_no_sanity_work_again(classifier, tmp_path, monkeypatch):
    from reportgen.explain.checkpoint import Checkpoint

    data = Dataset(TEXTS, [0] * len(TEXTS), list(range(len(TEXTS))), info={"path": "inline", "rows": len(TEXTS)})
    config = RunConfig(methods=["saliency"], metrics=[], contrast=False, sanity_examples=3)
    first = Checkpoint(tmp_path)
    done = measured(classifier, data, config, checkpoint=first)
    first.close()
    calls = []
    saliency = explainers.get("saliency")
    original = saliency.attribute
    monkeypatch.setattr(saliency, "attribute", lambda self, batch: calls.append(1) or original(self, batch))
    second = Checkpoint(tmp_path)
    again = measured(classifier, data, config, checkpoint=second)
    second.close()
    assert calls == []
    for index, attribution in done.attributions["saliency"].items():
        assert again.attributions["saliency"][index].extra.get("sanity") == attribution.extra.get("sanity")
