"""The explorer's orders: the review order (results.queries.review_key) and how much the methods disagree on an
example."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..ops.ranking import average_ranks
from ..results.queries import review_key
from ..results.records import Example, RunResult


def disagreement(run: RunResult, ex: Example, methods: Sequence[str]) -> float | None:
    """1 minus the mean Spearman correlation between every two methods' scores of the example's real tokens
    (special tokens left out): 0 when all methods rank the tokens alike, up to 2 when they rank them in
    opposite orders. None with fewer than two scored methods or three real tokens."""
    real = [i for i, word in enumerate(ex.word_ids) if word is not None]
    if len(real) < 3:
        return None
    ranked = []
    for method in methods:
        attribution = run.attributions.get(method, {}).get(ex.index)
        if attribution is None or len(attribution.tokens) != len(ex.tokens):
            continue
        scores = np.asarray([attribution.tokens[i] for i in real], dtype=np.float64)
        if np.all(np.isfinite(scores)) and np.ptp(scores) > 0:
            ranked.append(average_ranks(scores))
    if len(ranked) < 2:
        return None
    matrix = np.corrcoef(np.vstack(ranked))  # Pearson of ranks: Spearman's rho
    pairs = matrix[np.triu_indices(len(ranked), k=1)]
    return float(1 - pairs.mean())


def ordered(items: list[dict[str, Any]], examples: Sequence[Example]) -> list[dict[str, Any]]:
    """The explorer's items in review order (``items[i]`` is the item of ``examples[i]``)."""
    keys = [review_key(ex) for ex in examples]
    return [item for _, item in sorted(zip(keys, items), key=lambda pair: pair[0])]
