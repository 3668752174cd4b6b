"""Attention weights read as explanations."""

from __future__ import annotations

import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..ops.rollout import rollout
from ..results.maps import MAX_SCALE, encode_rows


@explainers.register
class LastLayerAttention(Explainer):
    name = "attention"
    description = "Last-layer attention from the first token to every token, mean over heads."
    defaults = {"layer": -1, "query": 0, "map_decimals": 3}
    needs_attentions = True
    order = 10

    def problems(self) -> list[str | None]:
        decimals = self.params["map_decimals"]
        fits = isinstance(decimals, int) and 0 <= decimals and 10 ** decimals <= MAX_SCALE
        return [None if fits else f"map_decimals must be a whole number from 0 to 4, not {decimals!r}"]

    def attribute(self, batch: Batch) -> list[Explanation]:
        attentions = batch.attentions()
        rows = batch.query_rows(attentions[self.params["layer"]], self.params["query"], dim=2)
        explanations = [Explanation(row) for row in batch.per_example(rows.mean(dim=1))]
        for row, (ex, explanation) in enumerate(zip(batch.examples, explanations)):
            if ex.index in batch.keep_maps:
                explanation.extra["maps"] = self._maps(attentions, row, batch.lengths[row])
        return explanations

    def _maps(self, attentions, row: int, length: int) -> list[dict]:
        """Full attention of one example for storage (see :mod:`reportgen.results.maps`), in whole units of
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
    order = 11

    def attribute(self, batch: Batch) -> list[Explanation]:
        flow = rollout(batch.attentions(), self.params["residual_weight"])
        return [Explanation(row) for row in batch.per_example(batch.query_rows(flow, self.params["query"], dim=1))]
