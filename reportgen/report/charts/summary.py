"""The summary's chart: how far each method beats a random ranking."""

from __future__ import annotations

from typing import Any

from ...ops.numbers import sig
from ...ops.stats import SIGNIFICANT_SE
from ..narrative import versus_control
from . import Chart


VERDICTS = {"better": "better than random", "tied": "tied with random", "worse": "worse than random",
            None: "not tested (under two examples)"}
COLOURS = {"better": "#2458a6", "tied": "#8a8a8a", "worse": "#b3261e", None: "#c8c8c8"}


def lift_bars(chart_id: str, result: dict[str, Any]) -> Chart:
    """Comprehensiveness lift over the random control per method, with two standard errors either side, coloured
    by the report's one rule (the verdict the prose and the tables read too)."""
    values = []
    for i, row in enumerate(result["summary"]):
        lift, se = row.get("comprehensiveness_lift"), row.get("comprehensiveness_lift_se")
        if row.get("is_control") or lift is None:
            continue
        spread = SIGNIFICANT_SE * se if se is not None else 0.0
        values.append({"method": row["method"], "o": i, "lift": sig(lift), "low": sig(lift - spread),
                       "high": sig(lift + spread), "se": None if se is None else sig(se),
                       "comprehensiveness": sig(row["comprehensiveness"]),
                       "win": sig(row["comprehensiveness_win_rate"], 3),
                       "verdict": VERDICTS[versus_control(row, result)]})
    shown = [key for key in VERDICTS if VERDICTS[key] in {v["verdict"] for v in values}]  # the legend's entries
    y = {"field": "method", "type": "nominal", "sort": {"field": "lift", "op": "max", "order": "descending"},
         "title": None, "axis": {"labelLimit": 200, "labelFontSize": 12}}
    spec = {
        "data": {"values": values},
        "width": 320,
        "height": {"step": 20},
        "layer": [
            {"mark": {"type": "bar"},
             "encoding": {
                 "y": y,
                 "x": {"field": "lift", "type": "quantitative", "axis": {"labelFontSize": 11, "titleFontSize": 12},
                       "title": "comprehensiveness lift over random (probability lost, +- 2 standard errors)"},
                 "color": {"field": "verdict", "type": "nominal", "title": None,
                           "scale": {"domain": [VERDICTS[k] for k in shown], "range": [COLOURS[k] for k in shown]},
                           "legend": {"orient": "bottom", "labelFontSize": 11}},
                 "tooltip": [
                     {"field": "method", "type": "nominal"},
                     {"field": "lift", "type": "quantitative", "format": "+.4f", "title": "lift"},
                     {"field": "se", "type": "quantitative", "format": ".4f", "title": "standard error"},
                     {"field": "verdict", "type": "nominal"},
                     {"field": "comprehensiveness", "type": "quantitative", "format": ".4f"},
                     {"field": "win", "type": "quantitative", "format": ".0%", "title": "examples better than random"},
                 ]}},
            {"mark": {"type": "rule", "color": "#222"},
             "encoding": {"y": y, "x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}},
            {"mark": {"type": "rule", "strokeDash": [3, 3], "color": "#555"}, "data": {"values": [{"zero": 0}]},
             "encoding": {"x": {"field": "zero", "type": "quantitative"}}},
        ],
    }
    return Chart(chart_id, "bar chart of each method's comprehensiveness lift over the random control, with error "
                 "bars of two standard errors, coloured by whether it is better than, tied with or worse than random",
                 spec)
