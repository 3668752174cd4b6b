"""Gradient-based explainers on the word-embedding layer."""

from __future__ import annotations

from .base import Batch, Explainer, Explanation, explainers


@explainers.register
class Saliency(Explainer):
    name = "saliency"
    description = "L2 norm over the hidden dimension of d(target logit)/d(word embedding), per token."

    def attribute(self, batch: Batch) -> list[Explanation]:
        _, grads = batch.embedding_gradients()
        return [Explanation(row) for row in batch.per_example(grads.norm(dim=-1))]


@explainers.register
class GradientXInput(Explainer):
    name = "grad_x_input"
    description = "Sum over the hidden dimension of gradient x word embedding, per token (signed)."

    def attribute(self, batch: Batch) -> list[Explanation]:
        embeds, grads = batch.embedding_gradients()
        return [Explanation(row) for row in batch.per_example((grads * embeds).sum(dim=-1))]
