"""Explainer quality charts: AOPC curves and the agreement heatmaps."""

from __future__ import annotations

from typing import Any

from ...ops.numbers import sig
from . import NO_VIEW_STROKE, Chart, method_colours


def aopc_curves(chart_id: str, curve: list[dict[str, Any]], control: str | None) -> Chart:
    """Comprehensiveness and sufficiency against the removal fraction, one line per method.

    Colour and dash both encode the method, so the two merge into one legend of line symbols in
    which the random control is the dashed grey entry; the x axis is labelled at the measured fractions.
    """
    values = [{"method": r["method"], "fraction": r["fraction"], "comprehensiveness": sig(r["comprehensiveness"]),
               "sufficiency": sig(r["sufficiency"]), "removed": sig(r["mean_tokens_removed"], 3)}
              for r in curve]

    methods = list(dict.fromkeys(r["method"] for r in curve))
    colours = method_colours(methods, control)
    dashes = {"domain": methods, "range": [[5, 4] if m == control else [1, 0] for m in methods]}
    fractions = sorted({r["fraction"] for r in curve})
    legend = {"title": "method", "labelLimit": 220, "symbolType": "stroke", "symbolStrokeWidth": 2.5,
              "symbolSize": 300}

    def panel(measure: str, title: str) -> dict[str, Any]:
        return {
            "width": 330,
            "height": 240,
            "title": title,
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "fraction", "type": "quantitative", "title": "share of content tokens removed",
                      "axis": {"format": ".0%", "values": fractions, "labelFlush": False},
                      "scale": {"type": "sqrt", "domain": [0, max(fractions, default=0.5)]}},
                "y": {"field": measure, "type": "quantitative", "title": f"mean {measure}"},
                "color": {"field": "method", "type": "nominal", "scale": colours, "legend": legend},
                "strokeDash": {"field": "method", "type": "nominal", "scale": dashes, "legend": legend},
                "tooltip": [
                    {"field": "method", "type": "nominal"},
                    {"field": "fraction", "type": "quantitative", "format": ".0%", "title": "removed"},
                    {"field": "removed", "type": "quantitative", "title": "mean tokens removed"},
                    {"field": measure, "type": "quantitative", "format": ".4f"},
                ],
            },
        }

    spec = {
        "data": {"values": values},
        "hconcat": [panel("comprehensiveness", "Comprehensiveness (higher is better)"),
                    panel("sufficiency", "Sufficiency (lower is better)")],
        "resolve": {"scale": {"color": "shared", "strokeDash": "shared"}},
    }
    return Chart(chart_id, "AOPC curves: comprehensiveness and sufficiency by removal fraction per method", spec)


def agreement_heatmap(chart_id: str, matrix: list[dict[str, Any]], methods: list[str], k: int) -> Chart:
    """Method x method mean Spearman correlation and top-k overlap."""
    order = {m: i for i, m in enumerate(methods)}
    values = [{"a": r["method_a"], "b": r["method_b"], "ao": order.get(r["method_a"], len(order)),
               "bo": order.get(r["method_b"], len(order)), "rho": sig(r["spearman"], 3),
               "top": sig(r["top_k_overlap"], 3)} for r in matrix]

    def panel(measure: str, title: str, scale: dict[str, Any], legend: str) -> dict[str, Any]:
        encoding_x = {"field": "b", "type": "nominal", "sort": {"field": "bo", "op": "min"}, "title": None,
                      "axis": {"labelAngle": -40, "labelLimit": 160}}
        encoding_y = {"field": "a", "type": "nominal", "sort": {"field": "ao", "op": "min"}, "title": None,
                      "axis": {"labelLimit": 160}}
        return {
            "title": title,
            "width": {"step": 34},
            "height": {"step": 26},
            "encoding": {"x": encoding_x, "y": encoding_y},
            "layer": [
                {"mark": {"type": "rect", "stroke": "#ffffff"},
                 "encoding": {"color": {"field": measure, "type": "quantitative", "scale": scale,
                                        "legend": {"title": legend, "orient": "bottom"}},
                              "tooltip": [{"field": "a", "type": "nominal", "title": "method"},
                                          {"field": "b", "type": "nominal", "title": "compared with"},
                                          {"field": "rho", "type": "quantitative", "format": ".3f",
                                           "title": "mean Spearman"},
                                          {"field": "top", "type": "quantitative", "format": ".3f",
                                           "title": f"top-{k} overlap"}]}},
                {"mark": {"type": "text", "fontSize": 9},
                 "encoding": {"text": {"field": measure, "type": "quantitative", "format": ".2f"},
                              "color": {"condition": {"test": f"abs(datum.{measure}) > 0.6", "value": "#ffffff"},
                                        "value": "#1d232a"}}},
            ],
        }

    spec = {
        "data": {"values": values},
        "hconcat": [
            panel("rho", "Mean Spearman rank correlation", {"scheme": "redblue", "reverse": True,
                                                          "domain": [-1, 1], "domainMid": 0}, "Spearman"),
            panel("top", f"Mean top-{k} word overlap", {"scheme": "greens", "domain": [0, 1]}, f"top-{k} overlap"),
        ],
        "resolve": {"scale": {"color": "independent"}},
        "config": NO_VIEW_STROKE,
    }
    return Chart(chart_id, "agreement heatmaps between every pair of methods", spec)
