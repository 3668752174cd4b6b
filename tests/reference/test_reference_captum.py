"""reportgen's gradient and perturbation explainers against Captum on the same inputs.

Each test runs, on every tiny architecture (BERT, DistilBERT, RoBERTa; IG also on a
3-class BERT), reportgen's explainer on one padded multi-example Batch (six texts of
different lengths, targets cycling through the classes) and Captum on the same padded
tensors, with the same baseline, number of steps and integration rule. The scores must
agree to float32 precision: |reportgen - captum| <= 1e-5 x (largest |captum score|)
for the gradient methods, 1e-6 for occlusion (scores are differences of float32
probabilities) and 1e-5 x (largest |logit|) for convergence deltas. The tiny random
models give small scores (~1e-3), hence tolerances relative to scale.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, InputXGradient, LayerIntegratedGradients, Saliency

from reportgen.explainers import Batch, explainers

from support.captum_checks import RELATIVE_TOLERANCE, assert_rows_match, make_batch, special_positions

KINDS = ("bert", "distilbert", "roberta")  # every tiny architecture (tests/tiny_models.py)
LAYERS = {  # the attributed modules, spelled out per architecture (independent of reportgen's lookup)
    "bert": ["bert.embeddings", "bert.encoder.layer.0", "bert.encoder.layer.1"],
    "distilbert": ["distilbert.embeddings", "distilbert.transformer.layer.0", "distilbert.transformer.layer.1"],
    "roberta": ["roberta.embeddings", "roberta.encoder.layer.0", "roberta.encoder.layer.1"],
}


def pad_baseline(batch: Batch) -> torch.Tensor:
    pad = batch.classifier.tokenizer.pad_token_id
    return torch.where(special_positions(batch), batch.input_ids, torch.full_like(batch.input_ids, pad))


def logits_from_ids(classifier):
    return lambda ids, mask: classifier.model(input_ids=ids, attention_mask=mask).logits


def logits_from_embeds(classifier):
    return lambda embeds, mask: classifier.model(inputs_embeds=embeds, attention_mask=mask).logits


@pytest.mark.parametrize("kind,method,n_steps", [
    *[(kind, "gausslegendre", 32) for kind in KINDS], ("bert3", "gausslegendre", 16),
    ("bert", "riemann_middle", 20), ("bert", "riemann_right", 12), ("bert", "riemann_left", 10),
])
def test_integrated_gradients_matches_captum(classifiers, kind, method, n_steps):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=n_steps, method=method).attribute(batch)

    reference = LayerIntegratedGradients(logits_from_ids(classifier), classifier.model.get_input_embeddings())
    attributions, delta = reference.attribute(
        batch.input_ids, baselines=pad_baseline(batch), target=batch.targets,
        additional_forward_args=(batch.attention_mask,), n_steps=n_steps, method=method,
        return_convergence_delta=True,
    )
    assert_rows_match([e.tokens for e in ours], attributions.sum(dim=-1), batch)

    ours_delta = np.array([e.extra["delta"] for e in ours])
    with torch.no_grad():
        logits = logits_from_ids(classifier)(batch.input_ids, batch.attention_mask)
    atol = RELATIVE_TOLERANCE * float(logits.abs().max())
    if kind != "roberta":
        np.testing.assert_allclose(ours_delta, delta.double().numpy(), rtol=0, atol=atol)
    else:
        # Captum's delta evaluates the model on the baseline *ids*; RoBERTa then gives the pad
        # ids the padding position, so that point is not the path's start (which keeps the
        # input's positions). Check our delta against the path's true ends instead.
        embed = classifier.model.get_input_embeddings()
        with torch.no_grad():
            ends = [logits_from_embeds(classifier)(embed(ids), batch.attention_mask) for ids in
                    (batch.input_ids, pad_baseline(batch))]
        chosen = [end.gather(1, batch.targets[:, None])[:, 0].double() for end in ends]
        expected = attributions.sum(dim=(1, 2)).double() - (chosen[0] - chosen[1])
        np.testing.assert_allclose(ours_delta, expected.numpy(), rtol=0, atol=atol)


@pytest.mark.parametrize("kind", KINDS)
def test_trapezoid_is_the_composite_rule_unlike_captums(classifiers, kind):
    """Captum's riemann_trapezoid weights n points by 1/n (ends halved), summing to (n-1)/n;
    reportgen uses the composite trapezoid rule (1/(n-1), ends halved), so ours = captum's x n/(n-1)."""
    classifier, n_steps = classifiers[kind], 9
    batch = make_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=n_steps, method="riemann_trapezoid").attribute(batch)
    reference = LayerIntegratedGradients(logits_from_ids(classifier), classifier.model.get_input_embeddings())
    attributions = reference.attribute(
        batch.input_ids, baselines=pad_baseline(batch), target=batch.targets,
        additional_forward_args=(batch.attention_mask,), n_steps=n_steps, method="riemann_trapezoid",
    )
    assert_rows_match([e.tokens for e in ours], attributions.sum(dim=-1) * n_steps / (n_steps - 1), batch)


@pytest.mark.parametrize("kind", KINDS)
def test_saliency_and_grad_x_input_match_captum(classifiers, kind):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    saliency = explainers.get("saliency")().attribute(batch)
    grad_x_input = explainers.get("grad_x_input")().attribute(batch)

    embeds = classifier.model.get_input_embeddings()(batch.input_ids).detach()
    forward = logits_from_embeds(classifier)
    args = dict(target=batch.targets, additional_forward_args=(batch.attention_mask,))
    grads = Saliency(forward).attribute(embeds.clone().requires_grad_(True), abs=False, **args)
    assert_rows_match([e.tokens for e in saliency], grads.norm(dim=-1), batch)
    products = InputXGradient(forward).attribute(embeds.clone().requires_grad_(True), **args)
    assert_rows_match([e.tokens for e in grad_x_input], products.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", KINDS)
def test_occlusion_matches_captum_feature_ablation(classifiers, kind):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("occlusion")().attribute(batch)

    def probabilities(ids, mask):
        return torch.softmax(classifier.model(input_ids=ids, attention_mask=mask).logits, dim=-1)

    mask_id = classifier.tokenizer.mask_token_id
    baselines = torch.where(special_positions(batch), batch.input_ids, torch.full_like(batch.input_ids, mask_id))
    with torch.no_grad():
        reference = FeatureAblation(probabilities).attribute(
            batch.input_ids, baselines=baselines, target=batch.targets,
            additional_forward_args=(batch.attention_mask,),
        )
    # The scores are differences of two float32 probabilities (eps 6e-8 near 0.5), so the
    # scale here is the probabilities' (1), not the scores' (~1e-3): atol = 1e-5 x 0.1.
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)
    for row, ex in enumerate(batch.examples):
        assert all(ours[row].tokens[i] == 0 for i, w in enumerate(ex.word_ids) if w is None)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_integrated_gradients_rows_match_captum(classifiers, kind):
    classifier = classifiers[kind]
    batch = make_batch(classifier)
    n_steps = 8
    ours = explainers.get("layer_integrated_gradients")(n_steps=n_steps, method="gausslegendre").attribute(batch)
    assert all(e.extra["layer_names"] == LAYERS[kind] for e in ours)

    with torch.no_grad():
        logits = logits_from_ids(classifier)(batch.input_ids, batch.attention_mask)
    for layer, name in enumerate(LAYERS[kind]):
        reference = LayerIntegratedGradients(logits_from_ids(classifier), classifier.model.get_submodule(name))
        attributions, delta = reference.attribute(
            batch.input_ids, baselines=pad_baseline(batch), target=batch.targets,
            additional_forward_args=(batch.attention_mask,), n_steps=n_steps, method="gausslegendre",
            return_convergence_delta=True,
        )
        rows = [np.asarray(e.extra["layers"][layer]) for e in ours]
        assert_rows_match(rows, attributions.sum(dim=-1), batch)
        np.testing.assert_allclose([e.extra["deltas"][layer] for e in ours], delta.double().numpy(),
                                   rtol=0, atol=RELATIVE_TOLERANCE * float(logits.abs().max()))
    for e in ours:
        np.testing.assert_allclose(e.tokens, np.asarray(e.extra["layers"]).sum(axis=0), rtol=1e-12, atol=0)
