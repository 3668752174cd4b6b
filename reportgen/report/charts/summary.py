"""The summary's chart: how far each method beats a random ranking."""

from __future__ import annotations

from typing import Any

from ...ops.numbers import sig
from . import Chart


def lift_bars(chart_id: str, summary: list[dict[str, Any]]) -> Chart:
    """Comprehensiveness lift over the random control per method (headline chart)."""
    values = [{"method": r["method"], "o": i, "lift": sig(r["comprehensiveness_lift"]),
               "comprehensiveness": sig(r["comprehensiveness"]), "win": sig(r["comprehensiveness_win_rate"], 3),
               "sign": "better than random" if (r["comprehensiveness_lift"] or 0) > 0 else "not better than random"}
              for i, r in enumerate(summary) if not r.get("is_control") and r.get("comprehensiveness_lift") is not None]
    spec = {
        "data": {"values": values},
        "width": 320,
        "height": {"step": 18},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "method", "type": "nominal", "sort": {"field": "lift", "op": "max", "order": "descending"},
                  "title": None, "axis": {"labelLimit": 200}},
            "x": {"field": "lift", "type": "quantitative", "title": "comprehensiveness lift over random"},
            "color": {"field": "sign", "type": "nominal", "title": None,
                      "scale": {"domain": ["better than random", "not better than random"],
                                "range": ["#2458a6", "#b3261e"]},
                      "legend": {"orient": "bottom"}},
            "tooltip": [
                {"field": "method", "type": "nominal"},
                {"field": "lift", "type": "quantitative", "format": "+.4f", "title": "lift"},
                {"field": "comprehensiveness", "type": "quantitative", "format": ".4f"},
                {"field": "win", "type": "quantitative", "format": ".0%", "title": "examples better than random"},
            ],
        },
    }
    return Chart(chart_id, "bar chart of each method's comprehensiveness lift over the random control", spec)
