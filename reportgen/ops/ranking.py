"""Orders of positions by score, as the faithfulness and agreement statistics use them."""

from __future__ import annotations

import numpy as np


def ranking(scores: np.ndarray, positions: list[int] | None = None) -> list[int]:
    """Positions ordered by score, highest first; ties keep their order (stable); NaN ranks last."""
    scores = np.asarray(scores, dtype=np.float64)
    if positions is None:
        positions = list(range(len(scores)))
    keys = np.array([scores[p] for p in positions], dtype=np.float64)
    keys = np.where(np.isnan(keys), -np.inf, keys)
    order = np.argsort(-keys, kind="stable")
    return [positions[i] for i in order]


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks (as scipy.stats.rankdata)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(values)]])
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks
