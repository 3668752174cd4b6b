"""Numbers made ready for JSON and for display: no NaN or infinity, rounded where shown."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values become null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def rounded(value: float | None, decimals: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), decimals)


def sig(value: float | None, digits: int = 4) -> float | int | None:
    """``value`` rounded to ``digits`` significant digits for display; whole numbers as ints."""
    if value is None or not math.isfinite(value):
        return None
    shown = float(f"{value:.{digits}g}")
    return int(shown) if shown.is_integer() and abs(shown) < 1e15 else shown


def sigs(values: Sequence[float | None], digits: int = 4) -> list[float | int | None]:
    return [sig(v, digits) for v in values]


def is_whole(value: Any) -> bool:
    """An integer that is not a bool (True is 1 to Python, never a count to a user)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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
