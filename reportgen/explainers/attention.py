"""Attention weights read as explanations."""

from __future__ import annotations

import numpy as np
import torch

from .base import Batch, Explainer, Explanation, explainers


@explainers.register
class LastLayerAttention(Explainer):
    name = "attention"
    description = "Last-layer attention from the first token to every token, mean over heads."
    defaults = {"layer": -1, "query": 0, "map_decimals": 3}
    needs_attentions = True

    def attribute(self, batch: Batch) -> list[Explanation]:
        attentions = batch.attentions()
        scores = attentions[self.params["layer"]][:, :, self.params["query"], :].mean(dim=1)
        explanations = [Explanation(row) for row in batch.per_example(scores)]
        for row, (ex, explanation) in enumerate(zip(batch.examples, explanations)):
            if ex.index in batch.keep_maps:
                explanation.extra["maps"] = self._maps(attentions, row, batch.lengths[row])
        return explanations

    def _maps(self, attentions, row: int, length: int) -> list[dict]:
        """Full attention of one example for storage: one row per (layer, head), the query x key matrix
        flattened query by query, as whole numbers of 10^-map_decimals (``scale``) to stay compact."""
        scale = 10 ** self.params["map_decimals"]
        stacked = torch.stack([layer[row, :, :length, :length] for layer in attentions])
        weights = (stacked.cpu().double().numpy() * scale).round().astype(np.int64)
        return [{"layer": layer, "head": head, "n": length, "scale": scale,
                 "weights": weights[layer, head].ravel().tolist()}
                for layer in range(weights.shape[0]) for head in range(weights.shape[1])]


def maps_array(maps: list) -> np.ndarray:
    """Stored attention maps as a [layer, head, query, key] array of weights (old nested lists too)."""
    if not maps or not isinstance(maps[0], dict):
        return np.asarray(maps, dtype=float)
    layers, heads, n = 1 + max(r["layer"] for r in maps), 1 + max(r["head"] for r in maps), maps[0]["n"]
    array = np.zeros((layers, heads, n, n))
    for r in maps:
        array[r["layer"], r["head"]] = np.asarray(r["weights"], dtype=float).reshape(n, n) / r["scale"]
    return array


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
