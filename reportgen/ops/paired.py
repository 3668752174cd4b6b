"""Tests of paired samples: the same examples scored by two models (reportgen compare)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
INTERVAL = (2.5, 97.5)  # percentiles of the bootstrap distribution: a 95% interval


def mcnemar(only_a: int, only_b: int) -> float:
    """The exact two-sided McNemar p-value for ``only_a`` examples that only the first model gets right and
    ``only_b`` that only the second does: twice the binomial(n, 1/2) tail of the smaller count, at most 1."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def bootstrap_interval(delta: Callable[[Sequence[int]], float | None], n: int, seed: int,
                       resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float] | None:
    """A paired bootstrap 95% percentile interval of ``delta``: the statistic's difference between the two models,
    computed on the same resampled examples (indices 0..n-1 drawn with replacement) for both; resamples whose
    difference is undefined are left out. None below two examples."""
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    drawn = [delta(rng.integers(0, n, n).tolist()) for _ in range(resamples)]
    values = [value for value in drawn if value is not None and math.isfinite(value)]
    if not values:
        return None
    low, high = np.percentile(values, INTERVAL)
    return float(low), float(high)
