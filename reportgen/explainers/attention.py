"""Attention weights read as explanations."""

from __future__ import annotations

import torch

from ..errors import ReportgenError
from ..maps import MAX_SCALE, encode_rows
from .base import Batch, Explainer, Explanation, explainers


@explainers.register
class LastLayerAttention(Explainer):
    name = "attention"
    description = "Last-layer attention from the first token to every token, mean over heads."
    defaults = {"layer": -1, "query": 0, "map_decimals": 3}
    needs_attentions = True

    def __init__(self, seed: int = 0, **params):
        super().__init__(seed, **params)
        decimals = self.params["map_decimals"]
        if not isinstance(decimals, int) or not 0 <= decimals or 10 ** decimals > MAX_SCALE:
            raise ReportgenError(f"attention: map_decimals must be a whole number from 0 to 4, not {decimals!r}")

    def attribute(self, batch: Batch) -> list[Explanation]:
        attentions = batch.attentions()
        scores = attentions[self.params["layer"]][:, :, self.params["query"], :].mean(dim=1)
        explanations = [Explanation(row) for row in batch.per_example(scores)]
        for row, (ex, explanation) in enumerate(zip(batch.examples, explanations)):
            if ex.index in batch.keep_maps:
                explanation.extra["maps"] = self._maps(attentions, row, batch.lengths[row])
        return explanations

    def _maps(self, attentions, row: int, length: int) -> list[dict]:
        """Full attention of one example for storage (see :mod:`reportgen.maps`), in whole units of
        10^-map_decimals."""
        stacked = torch.stack([layer[row, :, :length, :length] for layer in attentions])
        return encode_rows(stacked.cpu().double().numpy(), 10 ** self.params["map_decimals"])


@explainers.register
class AttentionRollout(Explainer):
    name = "attention_rollout"
    description = (
        "Attention rollout (Abnar & Zuidema 2020): per layer 0.5*(head-mean attention + identity), "
        "rows renormalised, multiplied from the first layer up; the first token's row."
    )
    defaults = {"residual_weight": 0.5, "query": 0}
    needs_attentions = True

    def attribute(self, batch: Batch) -> list[Explanation]:
        flow = rollout(batch.attentions(), self.params["residual_weight"])
        return [Explanation(row) for row in batch.per_example(flow[:, self.params["query"], :])]


def rollout(attentions: tuple[torch.Tensor, ...], residual_weight: float) -> torch.Tensor:
    """Rolled-out attention [batch, query, key] through all layers."""
    *_, flow = rollout_steps(attentions, residual_weight)
    return flow


def rollout_steps(attentions: tuple[torch.Tensor, ...], residual_weight: float):
    """Rolled-out attention [batch, query, key] after each layer, first layer first."""
    identity = torch.eye(attentions[0].shape[-1], device=attentions[0].device)
    flow = None
    for layer in attentions:
        mixed = (1 - residual_weight) * layer.mean(dim=1) + residual_weight * identity
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        flow = mixed if flow is None else mixed @ flow
        yield flow
