"""Vega-Lite specs as plain dicts. Dataset text only ever appears as data values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

DIVERGING = {"scheme": "redblue", "reverse": True, "domain": [-1, 1]}


@dataclass
class Chart:
    """A spec with a stable id (no random ids: reports must be reproducible)."""

    id: str
    spec: dict[str, Any]
    label: str


def finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values become null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def normalise(scores: Sequence[float]) -> list[float]:
    """Scale to [-1, 1] by the largest absolute score (all zeros stay zeros)."""
    largest = max((abs(s) for s in scores if math.isfinite(s)), default=0.0)
    return [finite(s / largest) if largest > 0 else 0.0 for s in scores]


def token_heatmap(chart_id: str, tokens: Sequence[str], scores: dict[str, Sequence[float]]) -> Chart:
    """Token x method heatmap: one row per method, cells coloured by normalised score."""
    values = []
    for method, method_scores in scores.items():
        for position, (token, score, shade) in enumerate(zip(tokens, method_scores, normalise(method_scores))):
            values.append({"position": position, "token": token, "method": method,
                           "score": finite(score), "normalised": shade})
    cell = 38
    spec = {
        "data": {"values": values},
        "width": {"step": cell},
        "height": {"step": 22},
        "encoding": {
            "x": {"field": "position", "type": "ordinal", "axis": None},
            "y": {"field": "method", "type": "nominal", "sort": list(scores), "title": None},
        },
        "layer": [
            {
                "mark": {"type": "rect", "stroke": "#ffffff"},
                "encoding": {
                    "color": {"field": "normalised", "type": "quantitative", "scale": DIVERGING,
                              "legend": {"title": "score / max |score|", "orient": "bottom"}},
                    "tooltip": [
                        {"field": "token", "type": "nominal"},
                        {"field": "method", "type": "nominal"},
                        {"field": "score", "type": "quantitative", "format": ".4g"},
                        {"field": "normalised", "type": "quantitative", "format": ".2f"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10, "limit": cell - 2},
                "encoding": {"text": {"field": "token", "type": "nominal"}},
            },
        ],
        "config": {"view": {"stroke": None}},
    }
    return Chart(chart_id, spec, f"token by method attribution heatmap, {len(tokens)} tokens")
