"""SmoothGrad against Captum's NoiseTunnel and GradientSHAP against Captum's GradientShap, on every tiny
architecture: reportgen scores a padded multi-example batch; Captum scores each example alone, its random
number generators seeded with that example's seed, so that it draws the same samples. The scores must agree to
float32 precision (|reportgen - captum| <= 1e-5 x the largest |captum score|)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import GradientShap, NoiseTunnel, Saliency

from reportgen.explain.batch import Batch
from reportgen.explainers import explainers
from reportgen.explainers.integrated import baseline_ids
from reportgen.explain.pooling import example_seed

from support.captum_checks import RELATIVE_TOLERANCE, assert_batch_invariant, make_batch

KINDS = ("bert", "distilbert", "roberta")
SEED = 7
SAMPLES = 6


def logits_from_embeds(classifier):
    return lambda embeds, mask: classifier.model(inputs_embeds=embeds, attention_mask=mask).logits


def each_alone(batch):
    """Each example of the batch as a batch of its own: its embeddings, mask and target, and its seed."""
    for ex in batch.examples:
        alone = Batch(batch.runner, [ex])
        yield ex, alone, alone.classifier.embeddings()(alone.input_ids).detach()


def assert_close(ours, reference):
    reference = reference.detach().double().numpy()
    scale = np.abs(reference).max()
    assert scale > 0
    np.testing.assert_allclose(ours, reference, rtol=0, atol=RELATIVE_TOLERANCE * scale)


@pytest.mark.parametrize("kind", KINDS)
def test_smoothgrad_matches_captums_noise_tunnel(classifiers, kind):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    explainer = explainers.get("smoothgrad")(seed=SEED, n_samples=SAMPLES, noise=0.15)
    ours = explainer.attribute(batch)
    tunnel = NoiseTunnel(Saliency(logits_from_embeds(classifier)))
    for row, (ex, alone, embeds) in enumerate(each_alone(batch)):
        torch.manual_seed(example_seed(SEED, ex.index))
        spread = float(embeds.max() - embeds.min()) * 0.15
        grads = tunnel.attribute(embeds.clone().requires_grad_(True), nt_type="smoothgrad", nt_samples=SAMPLES,
                                 stdevs=spread, abs=False, target=alone.targets,
                                 additional_forward_args=(alone.attention_mask,))
        assert_close(ours[row].tokens, grads.norm(dim=-1)[0])


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_shap_matches_captum(classifiers, kind):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("gradient_shap")(seed=SEED, n_samples=SAMPLES).attribute(batch)
    shap = GradientShap(logits_from_embeds(classifier))
    for row, (ex, alone, embeds) in enumerate(each_alone(batch)):
        baseline = alone.classifier.embeddings()(baseline_ids(alone)).detach()
        np.random.seed(example_seed(SEED, ex.index))  # Captum draws the path coefficients from numpy's global RNG
        values = shap.attribute(embeds.clone().requires_grad_(True), baselines=baseline, n_samples=SAMPLES,
                                stdevs=0.0, target=alone.targets, additional_forward_args=(alone.attention_mask,))
        assert_close(ours[row].tokens, values.sum(dim=-1)[0])


def test_both_give_each_example_the_same_scores_alone_as_in_a_batch(classifiers):
    assert_batch_invariant(make_batch(classifiers["bert"]), ["smoothgrad", "gradient_shap"])


def test_another_seed_draws_other_samples(classifiers):
    batch = make_batch(classifiers["bert"])
    first = explainers.get("smoothgrad")(seed=1, n_samples=2).attribute(batch)[0].tokens
    again = explainers.get("smoothgrad")(seed=1, n_samples=2).attribute(batch)[0].tokens
    other = explainers.get("smoothgrad")(seed=2, n_samples=2).attribute(batch)[0].tokens
    assert np.array_equal(first, again) and not np.allclose(first, other)
