"""Gradient-based explainers on the word-embedding layer."""

from __future__ import annotations

import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers


class _EmbeddingGradient(Explainer):
    """Scores per token from the word embeddings and the gradient of the target logit with respect to them."""

    def attribute(self, batch: Batch) -> list[Explanation]:
        embeds, grads = batch.embedding_gradients()
        return [Explanation(row) for row in batch.per_example(self.combine(embeds, grads))]

    @staticmethod
    def combine(embeds: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@explainers.register
class Saliency(_EmbeddingGradient):
    name = "saliency"
    description = "L2 norm over the hidden dimension of d(target logit)/d(word embedding), per token."
    order = 20
    combine = staticmethod(lambda embeds, grads: grads.norm(dim=-1))


@explainers.register
class GradientXInput(_EmbeddingGradient):
    name = "grad_x_input"
    description = "Sum over the hidden dimension of gradient x word embedding, per token (signed)."
    order = 21
    combine = staticmethod(lambda embeds, grads: (grads * embeds).sum(dim=-1))
