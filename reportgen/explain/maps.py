"""The full attention maps the explorer draws, kept for the examples a reviewer reads first.

They are computed once every method has run, when every prediction is known: the ``kept`` examples first in
the review order (errors first, the most confident first, then the least confident; see
``results.queries.review_key``), each read whole (a document read in several windows has no single map).
A model call with attention weights per batch of them; the maps go into the attention method's extra.

Their size grows with the square of the text's length (layers x heads x n x n weights), so they are kept within
a budget of weights in all (``attention_budget``): an example whose maps do not fit in what is left is passed
over for the next one in review order, and its extra records ``maps_too_large`` (its weights), which the
report counts."""

from __future__ import annotations

from typing import Any

from ..results.queries import review_key
from ..results.records import RunResult
from .batch import Batch

ATTENTION_BUDGET = 1_000_000  # weights (benchmarks/report_size.txt measures what the maps add to a report)


def keep_attention_maps(runner: Any, attention: Any, run: RunResult, kept: int, budget: int) -> list[int]:
    """Store the maps of the first ``kept`` examples in review order whose maps fit in ``budget`` weights in all;
    the indices of those examples."""
    scored = run.attributions.get("attention", {})
    for attribution in scored.values():  # results resumed from an older checkpoint chose by dataset order
        attribution.extra.pop("maps", None)
        attribution.extra.pop("maps_too_large", None)
    candidates = [ex for ex in run.examples if ex.ok and ex.index in scored
                  and scored[ex.index].extra.get("windows", 1) == 1
                  and len(ex.input_ids) <= runner.classifier.max_length]
    per_position = (run.model.get("layers") or 1) * (run.model.get("heads") or 1)
    chosen, spent = [], 0
    for ex in sorted(candidates, key=review_key):
        if len(chosen) == kept:
            break
        weights = per_position * len(ex.input_ids) ** 2
        if spent + weights > budget:
            scored[ex.index].extra["maps_too_large"] = weights
            continue
        chosen.append(ex)
        spent += weights
    for positions in runner.batches([len(ex.input_ids) for ex in chosen]):
        part = [chosen[i] for i in positions]
        batch = Batch(runner, part, want_attentions=True)
        attentions = batch.attentions()
        for row, ex in enumerate(part):
            scored[ex.index].extra["maps"] = attention.maps(attentions, row, batch.lengths[row])
    return [ex.index for ex in chosen]
