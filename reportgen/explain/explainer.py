"""What every explainer shares: the batch it reads and the result it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import UnknownParameterError
from ..records import Example
from ..registry import Registry
from ..runner import ModelRunner


@dataclass
class Explanation:
    """Scores for one example: one per token, optionally one per word, plus extras."""

    tokens: np.ndarray
    words: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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
        keep_maps: set[int] | frozenset[int] = frozenset(),
    ):
        self.runner = runner
        self.keep_maps = keep_maps
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
    def targets(self) -> torch.Tensor:
        return torch.tensor([ex.target for ex in self.examples], device=self.runner.device)

    @property
    def special_mask(self) -> torch.Tensor:
        """True where a position is a special token or padding."""
        mask = torch.ones_like(self.input_ids, dtype=torch.bool)
        for row, ex in enumerate(self.examples):
            mask[row, : len(ex.word_ids)] = torch.tensor([w is None for w in ex.word_ids])
        return mask

    @torch.no_grad()
    def predict(self) -> np.ndarray:
        """Forward pass: class probabilities, keeping attentions when any method needs them."""
        out = self.runner.forward(self.input_ids, self.attention_mask, output_attentions=self.want_attentions)
        if self.want_attentions:
            self._attentions = tuple(layer.float() for layer in out.attentions)
        return torch.softmax(out.logits.float(), dim=-1).cpu().numpy().astype(np.float64)

    def attentions(self) -> tuple[torch.Tensor, ...]:
        """Per layer, attention weights [batch, heads, query, key]."""
        if self._attentions is None:
            with torch.no_grad():
                out = self.runner.forward(self.input_ids, self.attention_mask, output_attentions=True)
            self._attentions = tuple(layer.float() for layer in out.attentions)
        return self._attentions

    def embedding_gradients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Word embeddings and the gradient of the target logit with respect to them."""
        if self._gradients is None:
            embeds = self.classifier.embeddings()(self.input_ids).detach().requires_grad_(True)
            logits = self.runner.forward(None, self.attention_mask, inputs_embeds=embeds).logits
            chosen = logits.gather(1, self.targets[:, None]).sum()
            (grads,) = torch.autograd.grad(chosen, embeds)
            self._gradients = (embeds.detach(), grads.detach())
        return self._gradients

    def per_example(self, values: torch.Tensor) -> list[np.ndarray]:
        """Split a [batch, tokens, ...] tensor into per-example arrays without padding."""
        host = values.detach().float().cpu().numpy().astype(np.float64)
        return [host[row, :length] for row, length in enumerate(self.lengths)]


class Explainer:
    """One attribution method: a name, its parameters and one ``attribute`` call."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    needs_attentions: ClassVar[bool] = False

    def __init__(self, seed: int = 0, **params: Any):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise UnknownParameterError("method", self.name, sorted(unknown), sorted(self.defaults))
        self.seed = seed
        self.params = {**self.defaults, **params}

    def attribute(self, batch: Batch) -> list[Explanation]:
        raise NotImplementedError


explainers: Registry[Explainer] = Registry("explainer")
