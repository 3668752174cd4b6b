"""Attention atlas charts: layer x head heatmaps and the rollout by depth."""

from __future__ import annotations

from typing import Any

from ...ops.numbers import sig
from . import NO_VIEW_STROKE, Chart


ATLAS_PANELS = (
    ("entropy", "Entropy (nats)", "viridis", "high: attention spread over many tokens"),
    ("distance", "Distance (tokens)", "magma", "high: global heads; low: local heads"),
    ("special_share", "Share on special tokens", "oranges", "high: attention parked on [CLS]/[SEP]"),
)


def atlas_heatmaps(chart_id: str, per_head: list[dict[str, Any]]) -> Chart:
    """Layer x head heatmaps of mean entropy, attention distance and special-token share."""
    values = [{"layer": r["layer"], "head": r["head"], "entropy": sig(r["entropy"], 3),
               "normalized_entropy": sig(r["normalized_entropy"], 3), "distance": sig(r["distance"], 3),
               "relative_distance": sig(r["relative_distance"], 3), "special_share": sig(r["special_share"], 3)}
              for r in per_head]
    tooltip = [
        {"field": "layer", "type": "ordinal"}, {"field": "head", "type": "ordinal"},
        {"field": "entropy", "type": "quantitative", "title": "entropy (nats)"},
        {"field": "normalized_entropy", "type": "quantitative", "title": "entropy / ln n"},
        {"field": "distance", "type": "quantitative", "title": "distance (tokens)"},
        {"field": "relative_distance", "type": "quantitative", "title": "distance / (n - 1)"},
        {"field": "special_share", "type": "quantitative", "format": ".1%", "title": "on special tokens"},
    ]
    return Chart(chart_id, "attention atlas: layer by head heatmaps of entropy, distance and special-token share",
                 head_heatmaps(values, ATLAS_PANELS, tooltip))


ALIGNMENT_PANELS = (
    ("entropy", "Entropy over the source", "viridis", "low: each output token reads few source tokens"),
    ("diagonal", "Distance from the diagonal", "magma", "low: output and source in step (monotone)"),
    ("special", "Share on special tokens", "oranges", "high: attention parked on EOS/start tokens"),
    ("coverage", "Source coverage", "blues", "high: the output draws on much of the source"),
)
AER_PANEL = ("aer", "Alignment error rate", "reds", "low: its argmax links match the gold links")


def alignment_heatmaps(chart_id: str, per_head: list[dict[str, Any]], with_aer: bool) -> Chart:
    """Layer x head heatmaps of the alignment statistics of each head's attention between output and source."""
    keys = ["entropy", "diagonal", "special", "coverage"] + (["aer"] if with_aer else [])
    values = [{"layer": r["layer"], "head": r["head"], **{key: sig(r[key], 3) for key in keys}} for r in per_head]
    tooltip = [{"field": "layer", "type": "ordinal"}, {"field": "head", "type": "ordinal"},
               *({"field": key, "type": "quantitative", "format": ".3f"} for key in keys)]
    panels = ALIGNMENT_PANELS + ((AER_PANEL,) if with_aer else ())
    return Chart(chart_id, "alignment atlas: layer by head heatmaps of entropy, distance from the diagonal, special "
                           "share and coverage" + (" and alignment error rate" if with_aer else ""),
                 head_heatmaps(values, panels, tooltip))


def head_heatmaps(values: list[dict[str, Any]], panels: tuple, tooltip: list[dict[str, Any]]) -> dict[str, Any]:
    """One layer x head heatmap per (field, title, colour scheme, subtitle) of ``panels``, side by side."""
    charts = []
    for measure, title, scheme, subtitle in panels:
        charts.append({
            "title": {"text": title, "subtitle": subtitle},
            "width": {"step": 20},
            "height": {"step": 20},
            "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 0.5},
            "encoding": {
                "x": {"field": "head", "type": "ordinal", "title": "head", "axis": {"labelAngle": 0}},
                "y": {"field": "layer", "type": "ordinal", "title": "layer"},
                "color": {"field": measure, "type": "quantitative", "scale": {"scheme": scheme},
                          "legend": {"title": None, "orient": "bottom", "gradientLength": 120}},
                "tooltip": tooltip,
            },
        })
    return {"data": {"values": values}, "hconcat": charts, "resolve": {"scale": {"color": "independent"}},
            "config": NO_VIEW_STROKE}


def rollout_chart(chart_id: str, rollout: list[dict[str, Any]]) -> Chart:
    """Where the first token's rolled-out attention goes, by depth: special tokens or words."""
    values = [{"layer": r["layer"], "special": sig(r["special_mass"], 3), "words": sig(r["word_mass"], 3),
               "entropy": sig(r["entropy"], 3)} for r in rollout]
    spec = {
        "data": {"values": values},
        "transform": [{"fold": ["special", "words"], "as": ["target", "mass"]},
                      {"calculate": "datum.target == 'special' ? 0 : 1", "as": "stack_order"}],
        "width": 360,
        "height": {"step": 22},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "layer", "type": "ordinal", "title": "after layer"},
            "x": {"field": "mass", "type": "quantitative", "stack": "normalize", "axis": {"format": ".0%"},
                  "title": "rolled-out attention of the first token"},
            "color": {"field": "target", "type": "nominal", "title": "on",
                      "scale": {"domain": ["special", "words"], "range": ["#e8a33d", "#2458a6"]}},
            "order": {"field": "stack_order", "type": "quantitative"},
            "tooltip": [
                {"field": "layer", "type": "ordinal", "title": "after layer"},
                {"field": "target", "type": "nominal", "title": "on"},
                {"field": "mass", "type": "quantitative", "format": ".1%"},
                {"field": "entropy", "type": "quantitative", "title": "row entropy (nats)"},
            ],
        },
    }
    return Chart(chart_id, "attention rollout: share of the first token's attention on special tokens and words "
                           "by layer", spec)
