"""Helpers the metrics share: which examples count, class names, JSON-ready numbers."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..records import Example, RunResult

MISSING_GROUP = "(missing)"


def predicted(run: RunResult) -> list[Example]:
    """Examples the model answered: no error and a prediction."""
    return [ex for ex in run.examples if ex.error is None and ex.prediction is not None]


def scored(run: RunResult) -> list[Example]:
    """Examples with both a label and a prediction: the ones model metrics count."""
    return [ex for ex in predicted(run) if ex.label is not None]


def example_counts(run: RunResult) -> dict[str, int]:
    """How many examples the run holds, failed, lack a label, and are scored."""
    return {
        "examples": len(run.examples),
        "failed": sum(ex.error is not None for ex in run.examples),
        "unlabeled": sum(ex.error is None and ex.label is None for ex in run.examples),
        "scored": len(scored(run)),
    }


def class_names(run: RunResult) -> list[str]:
    """The model's class names, extended with ids as names if examples use ids beyond them."""
    names = [str(name) for name in run.labels]
    ids = [v for ex in run.examples for v in (ex.label, ex.prediction, ex.target) if v is not None]
    for i in range(len(names), (max(ids) + 1) if ids else 0):
        names.append(str(i))
    return names


def groups_of(examples: Iterable[Example]) -> list[str] | None:
    """The sorted group names when any example has a group, else None."""
    names = {ex.group for ex in examples}
    if names == {None} or not names:
        return None
    return sorted(group_name(name) for name in names)


def group_name(group: Any) -> str:
    return MISSING_GROUP if group is None else str(group)


def method_order(run: RunResult) -> list[str]:
    """Methods with attributions, in the run's method order (then any others, sorted)."""
    known = [name for name in run.methods if run.attributions.get(name)]
    extra = sorted(name for name in run.attributions if name not in run.methods and run.attributions[name])
    return known + extra


def mean(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(sum(values) / len(values)) if values else None


def standard_error(values: Iterable[float]) -> float | None:
    """Sample standard deviation / sqrt(n); None below two values."""
    values = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(values) < 2:
        return None
    return float(values.std(ddof=1) / math.sqrt(len(values)))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0 when the denominator is 0 (scikit-learn's zero_division=0)."""
    return float(numerator / denominator) if denominator else 0.0


def rounded(value: float | None, decimals: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), decimals)


def ranking(scores: np.ndarray, positions: list[int] | None = None) -> list[int]:
    """Positions ordered by score, highest first; ties keep their order (stable); NaN ranks last."""
    scores = np.asarray(scores, dtype=np.float64)
    if positions is None:
        positions = list(range(len(scores)))
    keys = np.array([scores[p] for p in positions], dtype=np.float64)
    keys = np.where(np.isnan(keys), -np.inf, keys)
    order = np.argsort(-keys, kind="stable")
    return [positions[i] for i in order]


def jsonable(obj: Any) -> Any:
    """A copy of ``obj`` with numpy scalars/arrays as Python values and NaN/inf as None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj
