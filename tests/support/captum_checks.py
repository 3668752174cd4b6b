"""Comparing reportgen's token scores of a batch with a Captum reference computed on the same padded batch."""

from __future__ import annotations

import numpy as np
import torch

from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.results.records import Example

from .tiny_models import CORPUS

RELATIVE_TOLERANCE = 1e-5


def assert_rows_match(ours: list[np.ndarray], reference: torch.Tensor, batch,
                      scale: float | None = None) -> None:
    """Equal up to RELATIVE_TOLERANCE x scale (default: the largest |reference| score), row by row over each
    example's own tokens; Captum gives the padding no attribution."""
    reference = reference.detach().double().numpy()
    assert np.abs(reference).max() > 0
    scale = np.abs(reference).max() if scale is None else scale
    for row, length in enumerate(batch.lengths):
        np.testing.assert_allclose(ours[row], reference[row, :length], rtol=0, atol=RELATIVE_TOLERANCE * scale)
        assert np.all(reference[row, length:] == 0), "captum gives padding no attribution"


def assert_batch_invariant(batch, methods, atol: float = 1e-6) -> None:
    """Each example's scores by each of ``methods`` are the same alone as in ``batch`` (rtol 1e-4)."""
    from reportgen.explainers import explainers

    together = {m: explainers.get(m)().attribute(batch) for m in methods}
    for row, ex in enumerate(batch.examples):
        alone = Batch(batch.runner, [ex])
        for method in methods:
            np.testing.assert_allclose(explainers.get(method)().attribute(alone)[0].tokens,
                                       together[method][row].tokens, rtol=1e-4, atol=atol)


def special_positions(batch) -> torch.Tensor:
    """True at special tokens and padding, built from the examples' word ids."""
    special = torch.ones(batch.input_ids.shape, dtype=torch.bool)
    for row, ex in enumerate(batch.examples):
        special[row, : len(ex.word_ids)] = torch.tensor([w is None for w in ex.word_ids])
    return special


def captum_occlusion(probabilities, batch, replacement_id: int, *arguments) -> torch.Tensor:
    """Captum's FeatureAblation of ``probabilities`` (a function of ids and ``arguments``) over the batch's word
    tokens, each replaced by ``replacement_id`` in turn; special tokens and padding are never ablated."""
    from captum.attr import FeatureAblation

    baselines = torch.where(special_positions(batch), batch.input_ids, torch.full_like(batch.input_ids, replacement_id))
    with torch.no_grad():
        return FeatureAblation(probabilities).attribute(batch.input_ids, baselines=baselines, target=batch.targets,
                                                        additional_forward_args=arguments)


def make_batch(classifier):
    """All of CORPUS in one right-padded batch; targets cycle through the classes."""
    examples = []
    for i, (text, enc) in enumerate(zip(CORPUS, classifier.encode(list(CORPUS)))):
        ex = Example(index=i, text=text, label=0)
        ex.input_ids, ex.tokens, ex.word_ids, ex.words = enc.input_ids, enc.tokens, enc.word_ids, enc.words
        ex.target = i % len(classifier.labels)
        examples.append(ex)
    batch = Batch(ModelRunner(classifier), examples)
    assert len(set(batch.lengths)) > 1, "the batch must mix lengths so that padding is exercised"
    return batch
