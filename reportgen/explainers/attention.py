"""Attention weights read as explanations."""

from __future__ import annotations

import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..ops.params import Number, Whole, layer_index, token_position
from ..ops.rollout import rollout
from ..results.maps import MAX_SCALE, encode_rows

MAX_DECIMALS = len(str(MAX_SCALE)) - 1  # 10^decimals units must fit the stored 16-bit integers
# None: the position the task's head reads (the first token of an encoder, the last of a decoder).
QUERY = Whole(None, low=0, also={None: "the task's query position"}, model_range=token_position)


@explainers.register
class LastLayerAttention(Explainer):
    name = "attention"
    reads_target = False
    description = ("Last-layer attention from the token the classifier reads (the first of an encoder, the last "
                   "of a decoder) to every token, mean over heads.")
    parameters = {"layer": Whole(-1, model_range=layer_index), "query": QUERY,
                  "map_decimals": Whole(3, low=0, high=MAX_DECIMALS)}
    needs_attentions = True
    order = 10

    def attribute(self, batch: Batch) -> list[Explanation]:
        refuse_short_examples(batch, self.params["query"])
        attentions = batch.attentions()
        rows = batch.query_rows(attentions[self.params["layer"]], self.params["query"], dim=2)
        return [Explanation(row) for row in batch.per_example(rows.mean(dim=1))]

    def maps(self, attentions, row: int, length: int) -> list[dict]:
        """Full attention of one example for storage (see :mod:`reportgen.results.maps`), in whole units of
        10^-map_decimals."""
        stacked = torch.stack([layer[row, :, :length, :length] for layer in attentions])
        return encode_rows(stacked.cpu().double().numpy(), 10 ** self.params["map_decimals"])


@explainers.register
class AttentionRollout(Explainer):
    name = "attention_rollout"
    reads_target = False
    description = (
        "Attention rollout (Abnar & Zuidema 2020): per layer 0.5*(head-mean attention + identity), "
        "rows renormalised, multiplied from the first layer up; the row of the token the classifier reads."
    )
    parameters = {"residual_weight": Number(0.5, low=0, high=1), "query": QUERY}
    needs_attentions = True
    order = 11

    def attribute(self, batch: Batch) -> list[Explanation]:
        refuse_short_examples(batch, self.params["query"])
        flow = rollout(batch.attentions(), self.params["residual_weight"])
        return [Explanation(row) for row in batch.per_example(batch.query_rows(flow, self.params["query"], dim=1))]


def refuse_short_examples(batch: Batch, query: int | None) -> None:
    """A query position past an example's last token would read padding: such an example fails, saying so."""
    shortest = min(batch.lengths)
    if query is not None and query >= shortest:
        raise ValueError(f"query position {query} is past the example's last token (it has {shortest} tokens)")
