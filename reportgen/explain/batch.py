"""A padded group of examples and the model outputs that every method of the batch shares."""

from __future__ import annotations

import numpy as np
import torch

from ..ops.masks import query_rows, special_mask
from ..results.records import Example
from .batching import ModelRunner
from .perturbed import visible_text


class Batch:
    """A padded group of examples with lazily computed, shared model outputs.

    The forward pass (with attentions when a method asks) and the embedding
    gradients are each computed once and reused by every method in the batch.
    """

    def __init__(
        self,
        runner: ModelRunner,
        examples: list[Example],
        want_attentions: bool = False,
    ):
        self.runner = runner
        self.examples = examples
        self.want_attentions = want_attentions
        self.input_ids, self.attention_mask = runner.pad([ex.input_ids for ex in examples])
        self.lengths = [len(ex.input_ids) for ex in examples]
        self._attentions: tuple[torch.Tensor, ...] | None = None
        self._gradients: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def classifier(self):
        return self.runner.classifier

    @property
    def task(self):
        return self.runner.task

    @property
    def targets(self) -> torch.Tensor:
        return self.task.target_tensor(self.examples, self.input_ids.shape[1], self.runner.device)

    @property
    def special_mask(self) -> torch.Tensor:
        """True where a position is a special token or padding."""
        return special_mask([ex.word_ids for ex in self.examples], self.input_ids.shape, self.input_ids.device)

    @torch.no_grad()
    def predict(self) -> np.ndarray:
        """Forward pass: the task's class probabilities, keeping attentions when any method needs them."""
        if self.task.scores_texts:
            return self.runner.score_texts([visible_text(self.classifier, ex) for ex in self.examples])
        out = self.runner.forward(self.input_ids, self.attention_mask, output_attentions=self.want_attentions)
        if self.want_attentions:
            self._attentions = tuple(layer.float() for layer in out.attentions)
        return self.task.probabilities(out.logits).cpu().numpy().astype(np.float64)

    def attentions(self) -> tuple[torch.Tensor, ...]:
        """Per layer, attention weights [batch, heads, query, key]."""
        if self._attentions is None:
            with torch.no_grad():
                self._attentions = tuple(layer.float() for layer in self.task.attentions(self))
        return self._attentions

    def query_rows(self, values: torch.Tensor, query: int | None, dim: int) -> torch.Tensor:
        """Each example's slice of ``values`` (batch first) at its query position along ``dim``:
        position ``query`` for every example, or the task's query position of each when it is None."""
        if query is not None:
            return query_rows(values, dim, query)
        return query_rows(values, dim, None, torch.tensor(self.task.query_positions(self.examples),
                                                          device=values.device))

    def embedding_gradients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Word embeddings and the gradient of the task's target logit with respect to them."""
        if self._gradients is None:
            embeds = self.classifier.embeddings()(self.input_ids).detach().requires_grad_(True)
            logits = self.runner.forward(self.input_ids, self.attention_mask, inputs_embeds=embeds).logits
            chosen = self.task.target_logits(logits, self.targets).sum()
            (grads,) = torch.autograd.grad(chosen, embeds)
            self._gradients = (embeds.detach(), grads.detach())
        return self._gradients

    def per_example(self, values: torch.Tensor) -> list[np.ndarray]:
        """Split a [batch, tokens, ...] tensor into per-example arrays without padding."""
        host = values.detach().float().cpu().numpy().astype(np.float64)
        return [host[row, :length] for row, length in enumerate(self.lengths)]
