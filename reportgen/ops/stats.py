"""Means, standard errors, proportions and their intervals, with missing and non-finite values left out."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np


def mean(values: Iterable[float | None]) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(sum(values) / len(values)) if values else None


def standard_error(values: Iterable[float | None]) -> float | None:
    """Sample standard deviation / sqrt(n); None below two values."""
    values = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(values) < 2:
        return None
    return float(values.std(ddof=1) / math.sqrt(len(values)))


SIGNIFICANT_SE = 2  # the one rule of the report: a difference counts when it is beyond two standard errors


def compared(difference: float | None, se: float | None) -> str | None:
    """A paired difference read by the report's one rule: "better" or "worse" beyond SIGNIFICANT_SE standard
    errors of zero, else "tied"; None when it could not be tested (no difference, or under two examples)."""
    if difference is None or se is None:
        return None
    if difference > SIGNIFICANT_SE * se:
        return "better"
    return "worse" if difference < -SIGNIFICANT_SE * se else "tied"


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0 when the denominator is 0 (scikit-learn's zero_division=0)."""
    return float(numerator / denominator) if denominator else 0.0


def wilson(correct: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (95% with the default z); None without observations."""
    if total <= 0:
        return None
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_difference(differences: list[float]) -> tuple[float, float]:
    """Mean of paired differences and its standard error (at least two differences)."""
    centre = sum(differences) / len(differences)
    variance = sum((d - centre) ** 2 for d in differences) / (len(differences) - 1)
    return centre, math.sqrt(variance / len(differences))


def independent_difference(a: float, se_a: float | None, b: float, se_b: float | None) -> tuple[float, float | None]:
    """a - b and its standard error for independent estimates (None when either error is unknown)."""
    se = math.sqrt(se_a ** 2 + se_b ** 2) if se_a is not None and se_b is not None else None
    return a - b, se
