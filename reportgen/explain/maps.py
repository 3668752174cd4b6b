"""The full attention maps the explorer draws, kept for the examples a reviewer reads first.

They are computed once every method has run, when every prediction is known: the ``kept`` examples first in
the review order (errors first, the most confident first, then the least confident; see
``results.queries.review_key``), each read whole (a document read in several windows has no single map).
A model call with attention weights per batch of them; the maps go into the attention method's extra."""

from __future__ import annotations

from typing import Any

from ..results.queries import review_key
from ..results.records import RunResult
from .batch import Batch


def keep_attention_maps(runner: Any, attention: Any, run: RunResult, kept: int) -> list[int]:
    """Store the maps of the ``kept`` examples first in review order; the indices of those examples."""
    scored = run.attributions.get("attention", {})
    for attribution in scored.values():  # results resumed from an older checkpoint chose by dataset order
        attribution.extra.pop("maps", None)
    candidates = [ex for ex in run.examples if ex.ok and ex.index in scored
                  and scored[ex.index].extra.get("windows", 1) == 1
                  and len(ex.input_ids) <= runner.classifier.max_length]
    chosen = sorted(candidates, key=review_key)[:kept]
    for positions in runner.batches([len(ex.input_ids) for ex in chosen]):
        part = [chosen[i] for i in positions]
        batch = Batch(runner, part, want_attentions=True)
        attentions = batch.attentions()
        for row, ex in enumerate(part):
            scored[ex.index].extra["maps"] = attention.maps(attentions, row, batch.lengths[row])
    return [ex.index for ex in chosen]
