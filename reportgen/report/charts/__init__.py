"""Vega-Lite specs as plain dicts.

Dataset text (texts, tokens, words, class names) only ever appears as data values, never inside
a Vega expression string, a custom sort array (Vega-Lite compiles those into expressions) or a
field name. Order comes from numeric fields; method and layer names are looked up by short keys.

Per-example charts of the explorer share one spec (a :class:`Template`) and carry only their
data, as named ``datasets``: the page holds each template once and report.js joins it with the
example's data block when the chart is drawn.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .maps import row_weights

DIVERGING = {"scheme": "redblue", "reverse": True, "domain": [-1, 1], "domainMid": 0}
SEPARATOR = " "  # between a position and its token in axis keys; the label shows what follows it
LABEL_AFTER_SEPARATOR = "slice(datum.label, indexof(datum.label, ' ') + 1)"
NO_VIEW_STROKE = {"view": {"stroke": None}}
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#2f4b7c", "#a05195", "#d45087", "#7f7f00", "#00876c", "#c7522a", "#5d5d9c")
CONTROL_COLOUR = "#4a4a4a"


def method_colours(methods: Sequence[str], control: str | None) -> dict[str, Any]:
    """A colour scale with one fixed colour per method, the control in dark grey."""
    colours, k = [], 0
    for method in methods:
        if method == control:
            colours.append(CONTROL_COLOUR)
        else:
            colours.append(PALETTE[k % len(PALETTE)])
            k += 1
    return {"domain": list(methods), "range": colours}


@dataclass
class Chart:
    """One chart on the page, with a stable id (no random ids: reports must be reproducible).

    Either ``spec`` holds the whole spec (data included), or ``template`` names a shared
    :class:`Template` and ``data`` the id of the JSON block with the chart's named datasets.
    """

    id: str
    label: str
    spec: dict[str, Any] | None = None
    template: str | None = None
    data: str | None = None
    css: str = ""


@dataclass
class Template:
    """A spec shared by many charts; each chart supplies ``datasets`` (see :func:`compose`)."""

    id: str
    spec: dict[str, Any]
    datasets: list[str] = field(default_factory=list)


def compose(spec: dict[str, Any], datasets: dict[str, Any]) -> dict[str, Any]:
    """The spec a template chart is drawn with (what report.js builds in the browser)."""
    return {**spec, "datasets": datasets}


# ----------------------------------------------------------------------------- numbers


def finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values become null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def sig(value: float | None, digits: int = 4) -> float | int | None:
    """``value`` rounded to ``digits`` significant digits for display; whole numbers as ints."""
    if value is None or not math.isfinite(value):
        return None
    rounded = float(f"{value:.{digits}g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def sigs(values: Sequence[float | None], digits: int = 4) -> list[float | int | None]:
    return [sig(v, digits) for v in values]


def normalise(scores: Sequence[float]) -> list[float | None]:
    """Scale to [-1, 1] by the largest absolute finite score (all zeros stay zeros)."""
    largest = max((abs(s) for s in scores if s is not None and math.isfinite(s)), default=0.0)
    return [finite(s / largest) if largest > 0 and s is not None else (0.0 if s is not None else None)
            for s in scores]


# ----------------------------------------------------------------------------- model performance


def confusion_heatmap(chart_id: str, rows: list[dict[str, Any]], n_classes: int) -> Chart:
    """True x predicted counts, coloured by the share of the true class."""
    values = [{"true": r["true"], "predicted": r["predicted"], "ti": r["true_id"], "pi": r["predicted_id"],
               "count": r["count"], "share": sig(r["share_of_true"], 3)} for r in rows]
    step = 70 if n_classes <= 6 else 40
    spec = {
        "data": {"values": values},
        "width": {"step": step},
        "height": {"step": max(30, step // 2)},
        "encoding": {
            "x": {"field": "predicted", "type": "nominal", "sort": {"field": "pi", "op": "min"},
                  "title": "predicted class", "axis": {"orient": "top", "labelAngle": 0, "labelLimit": 120}},
            "y": {"field": "true", "type": "nominal", "sort": {"field": "ti", "op": "min"},
                  "title": "true class", "axis": {"labelLimit": 120}},
        },
        "layer": [
            {
                "mark": {"type": "rect", "stroke": "#ffffff"},
                "encoding": {
                    "color": {"field": "share", "type": "quantitative",
                              "scale": {"scheme": "blues", "domain": [0, 1]},
                              "legend": {"title": "share of true class", "format": ".0%"}},
                    "tooltip": [
                        {"field": "true", "type": "nominal", "title": "true class"},
                        {"field": "predicted", "type": "nominal", "title": "predicted"},
                        {"field": "count", "type": "quantitative"},
                        {"field": "share", "type": "quantitative", "format": ".1%", "title": "share of true class"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontSize": 13},
                "encoding": {
                    "text": {"field": "count", "type": "quantitative"},
                    "color": {"condition": {"test": "datum.share > 0.55", "value": "#ffffff"}, "value": "#1d232a"},
                },
            },
        ],
        "config": NO_VIEW_STROKE,
    }
    return Chart(chart_id, f"confusion matrix heatmap of {n_classes} classes", spec)


def reliability_curve(chart_id: str, bins: list[dict[str, Any]]) -> Chart:
    """Accuracy against mean confidence per non-empty bin, with the diagonal of perfect calibration."""
    values = [{"bin": b["bin"], "lower": sig(b["lower"], 3), "upper": sig(b["upper"], 3), "count": b["count"],
               "accuracy": sig(b["accuracy"]), "confidence": sig(b["confidence"]), "gap": sig(b["gap"])}
              for b in bins if b["count"] and b["accuracy"] is not None]
    axis = {"field": "confidence", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": "mean confidence"}
    counts = sorted({v["count"] for v in values})
    # The legend shows bin sizes that occur (the smallest, a middle one, the largest), never an empty 0.
    sizes = sorted({counts[0], counts[len(counts) // 2], counts[-1]}) if counts else []
    spec = {
        "width": 300,
        "height": 300,
        "layer": [
            {
                "data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]},
                "mark": {"type": "line", "color": "#9aa5b1", "strokeDash": [4, 4]},
                "encoding": {"x": {"field": "x", "type": "quantitative", "scale": {"domain": [0, 1]}},
                             "y": {"field": "y", "type": "quantitative", "scale": {"domain": [0, 1]}}},
            },
            {
                "data": {"values": values},
                "mark": {"type": "line", "point": False, "color": "#2458a6"},
                "encoding": {"x": axis, "y": {"field": "accuracy", "type": "quantitative",
                                              "scale": {"domain": [0, 1]}, "title": "accuracy"}},
            },
            {
                "data": {"values": values},
                "mark": {"type": "circle", "color": "#2458a6", "opacity": 0.85},
                "encoding": {
                    "x": axis,
                    "y": {"field": "accuracy", "type": "quantitative"},
                    "size": {"field": "count", "type": "quantitative", "title": "examples in bin",
                             "scale": {"range": [30, 400]}, "legend": {"values": sizes}},
                    "tooltip": [
                        {"field": "lower", "type": "quantitative", "title": "bin from"},
                        {"field": "upper", "type": "quantitative", "title": "bin to"},
                        {"field": "count", "type": "quantitative", "title": "examples"},
                        {"field": "confidence", "type": "quantitative", "format": ".3f"},
                        {"field": "accuracy", "type": "quantitative", "format": ".3f"},
                        {"field": "gap", "type": "quantitative", "format": "+.3f", "title": "confidence - accuracy"},
                    ],
                },
            },
        ],
    }
    return Chart(chart_id, "reliability curve: accuracy against confidence per confidence bin", spec)


# ----------------------------------------------------------------------------- explainer quality


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


def cost_bars(chart_id: str, rows: list[dict[str, Any]]) -> Chart:
    """Seconds per explained example per method, on a log scale."""
    values = [{"method": r["method"], "o": i, "s": sig(r["seconds_per_example"]),
               "shown": sig(max(r["seconds_per_example"], 1e-6)), "evals": sig(r["evaluations_per_example"], 3)}
              for i, r in enumerate(rows) if r.get("seconds_per_example") is not None]
    floor = 10.0 ** math.floor(math.log10(min((v["shown"] for v in values), default=1e-3)))
    spec = {
        "data": {"values": values},
        "width": 360,
        "height": {"step": 18},
        "mark": {"type": "bar", "color": "#5b6673"},
        "encoding": {
            "y": {"field": "method", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
                  "axis": {"labelLimit": 200}},
            "x": {"field": "shown", "type": "quantitative", "scale": {"type": "log", "domainMin": floor},
                  "title": "seconds per example (log scale)"},
            "x2": {"datum": floor},
            "tooltip": [
                {"field": "method", "type": "nominal"},
                {"field": "s", "type": "quantitative", "format": ".4g", "title": "seconds per example"},
                {"field": "evals", "type": "quantitative", "title": "model evaluations per example"},
            ],
        },
    }
    return Chart(chart_id, "bar chart of seconds per example for each method", spec)


# ----------------------------------------------------------------------------- global explanations


def top_words_chart(chart_id: str, rows: list[dict[str, Any]], methods: list[str], classes: list[str]) -> Chart:
    """Top words per class for one method at a time: a select box picks the method (the first one at
    first) and a check box hides the rows flagged ``function_word`` (a flag computed in Python: the
    filter reads only numbers and booleans)."""
    index = {m: i for i, m in enumerate(methods)}
    values = [{"mi": index[r["method"]], "ci": r["class_id"], "word": r["word"], "mean": sig(r["mean"]),
               "count": r["count"], "examples": r["examples"], "rank": r["rank"],
               "fw": bool(r.get("function_word"))}
              for r in rows if r["method"] in index]
    present = sorted({r["class_id"] for r in rows})
    panels = []
    for ci in present:
        # Each method's x domain is fixed here (numbers only), so hiding words never leaves a panel
        # without a domain and the scale stays put when the box is ticked.
        domains = []
        for mi in range(len(methods)):
            means = [v["mean"] for v in values if v["mi"] == mi and v["ci"] == ci and v["mean"] is not None]
            domains.append([min([0, *means]), max([0, *means])] if means else [0, 1])
        panels.append({
            "title": classes[ci] if ci < len(classes) else str(ci),
            "width": 220,
            "height": {"step": 16},
            "transform": [{"filter": f"datum.mi == method && datum.ci == {int(ci)} && !(hide && datum.fw)"}],
            "mark": {"type": "bar", "color": "#2458a6"},
            "encoding": {
                "y": {"field": "word", "type": "nominal", "sort": {"field": "rank", "op": "min"}, "title": None,
                      "axis": {"labelLimit": 140}},
                "x": {"field": "mean", "type": "quantitative", "title": "mean word score", "stack": None,
                      "scale": {"domain": {"expr": f"{json.dumps(domains)}[method]"}}},
                "tooltip": [
                    {"field": "word", "type": "nominal"},
                    {"field": "rank", "type": "quantitative"},
                    {"field": "mean", "type": "quantitative", "format": ".4g", "title": "mean score"},
                    {"field": "count", "type": "quantitative", "title": "occurrences"},
                    {"field": "examples", "type": "quantitative"},
                ],
            },
        })
    spec = {
        "data": {"values": values},
        "params": [{"name": "method", "value": 0,
                    "bind": {"input": "select", "options": list(range(len(methods))), "labels": list(methods),
                             "name": "method "}},
                   {"name": "hide", "value": False,
                    "bind": {"input": "checkbox", "name": "hide function words (the, of, is, ...) "}}],
    }
    # Rows of three panels (the generic "concat" with "columns" draws nothing in the inlined bundle).
    rows = [panels[i: i + 3] for i in range(0, len(panels), 3)] or [[]]
    independent = {"scale": {"y": "independent", "x": "independent"}}
    if len(rows) == 1:
        spec.update(hconcat=rows[0], resolve=independent)
    else:
        spec["vconcat"] = [{"hconcat": row, "resolve": independent} for row in rows]
        spec["resolve"] = independent
    return Chart(chart_id, "bar charts of the top words per class for the selected method", spec)


# ----------------------------------------------------------------------------- attention atlas


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
    panels = []
    for measure, title, scheme, subtitle in ATLAS_PANELS:
        panels.append({
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
    spec = {"data": {"values": values}, "hconcat": panels, "resolve": {"scale": {"color": "independent"}},
            "config": NO_VIEW_STROKE}
    return Chart(chart_id, "attention atlas: layer by head heatmaps of entropy, distance and special-token share",
                 spec)


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


# ----------------------------------------------------------------------------- example explorer


def key_table(names: Sequence[str], prefix: str, labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Short field keys (m0, m1, ...) with the names they stand for and their order."""
    labels = list(labels) if labels is not None else list(names)
    return [{"k": f"{prefix}{i}", "name": label, "full": name, "o": i}
            for i, (name, label) in enumerate(zip(names, labels))]


def position_matrix_template(template_id: str, dataset: str, keys: list[dict[str, Any]], *, row_title: str,
                             unit: str, legend: str, per_row: bool, height_step: int = 16) -> Template:
    """Rows (methods or layers) x positions (tokens or words) heatmap from one compact data row.

    The data row holds ``t``, the tokens, ``w``, each token's word index (null for special tokens
    such as [CLS] and [SEP]), and one score array per key. Transforms flatten the arrays in
    parallel, number the positions, fold the key columns into rows, look up the row names and
    divide each score by the largest absolute score over the real (non-special) tokens of its row
    (``per_row``) or of the whole matrix; special tokens that exceed it are clamped to -1 or 1 (a
    row without real tokens is scaled by its largest score over all tokens).
    """
    fields = [k["k"] for k in keys]
    scale_group = {"groupby": ["k"]} if per_row else {}
    spec = {
        "data": {"name": dataset},
        "transform": [
            {"flatten": ["t", "w", *fields]},
            {"window": [{"op": "row_number", "as": "i"}]},
            {"fold": fields, "as": ["k", "s"]},
            {"filter": "isValid(datum.s)"},
            {"lookup": "k", "from": {"data": {"values": keys}, "key": "k", "fields": ["name", "full", "o"]}},
            {"calculate": "abs(datum.s)", "as": "size"},
            {"calculate": "isValid(datum.w) ? abs(datum.s) : 0", "as": "word_size"},
            {"joinaggregate": [{"op": "max", "field": "size", "as": "any_largest"},
                               {"op": "max", "field": "word_size", "as": "word_largest"}], **scale_group},
            {"calculate": "datum.word_largest > 0 ? datum.word_largest : datum.any_largest", "as": "largest"},
            {"calculate": "datum.largest > 0 ? clamp(datum.s / datum.largest, -1, 1) : 0", "as": "n"},
            {"calculate": "datum.size > datum.largest ? 'yes: beyond the scale of the real tokens' : 'no'",
             "as": "clamped"},
            {"calculate": "(datum.i - 1) + ' ' + datum.t", "as": "x"},
            {"calculate": "datum.i - 1", "as": "position"},
        ],
        "width": {"step": 22},
        "height": {"step": height_step},
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "x", "type": "nominal", "sort": {"field": "i", "op": "min"}, "title": None,
                  "axis": {"orient": "top", "labelAngle": -50, "labelLimit": 110, "labelExpr": LABEL_AFTER_SEPARATOR,
                           "labelFontSize": 11}},
            "y": {"field": "name", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": row_title,
                  "axis": {"labelLimit": 190}},
            "color": {"field": "n", "type": "quantitative", "scale": DIVERGING,
                      "legend": {"title": legend, "orient": "bottom", "gradientLength": 160, "titleLimit": 400}},
            "tooltip": [
                {"field": "t", "type": "nominal", "title": unit},
                {"field": "position", "type": "quantitative", "title": "position"},
                {"field": "full", "type": "nominal", "title": row_title.lower() if row_title else "row"},
                {"field": "s", "type": "quantitative", "format": ".4g", "title": "score"},
                {"field": "n", "type": "quantitative", "format": ".2f", "title": legend},
                {"field": "clamped", "type": "nominal", "title": "clamped"},
            ],
        },
        "config": NO_VIEW_STROKE,
    }
    return Template(template_id, spec, [dataset])


def word_matrix_template(template_id: str, keys: list[dict[str, Any]], overrides: Sequence[str] = ()) -> Template:
    """Methods x words heatmap folded from the token row of :func:`position_matrix_template`.

    The row also holds ``w`` (each token's word index, null for special tokens) and ``W`` (the
    words). Token scores are summed per word and method. A method whose word scores are not the
    sum of its token scores has, in the keys listed in ``overrides``, an extra array ``u<i>``
    with its word scores spread over the word's tokens (empty when the sum is right).
    """
    fields = [k["k"] for k in keys]
    sources = [f"u{f[1:]}" if f in overrides else f for f in fields]
    fill = [{"calculate": f"isValid(datum.u{f[1:]}) ? datum.u{f[1:]} : datum.{f}", "as": f"u{f[1:]}"}
            for f in fields if f in overrides]
    spec = {
        "data": {"name": "tok"},
        "transform": [
            {"flatten": ["t", "w", *fields, *(s for s in sources if s not in fields)]},
            *fill,
            {"fold": sources, "as": ["src", "s"]},
            {"filter": "isValid(datum.w) && isValid(datum.s)"},
            {"calculate": "datum.W[datum.w]", "as": "word"},
            {"calculate": "'m' + slice(datum.src, 1)", "as": "k"},
            {"aggregate": [{"op": "sum", "field": "s", "as": "s"}], "groupby": ["w", "word", "k"]},
            {"lookup": "k", "from": {"data": {"values": keys}, "key": "k", "fields": ["name", "full", "o"]}},
            {"calculate": "abs(datum.s)", "as": "size"},
            {"joinaggregate": [{"op": "max", "field": "size", "as": "largest"}], "groupby": ["k"]},
            {"calculate": "datum.largest > 0 ? datum.s / datum.largest : 0", "as": "n"},
            {"calculate": "datum.w + ' ' + datum.word", "as": "x"},
        ],
        "width": {"step": 26},
        "height": {"step": 16},
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "x", "type": "nominal", "sort": {"field": "w", "op": "min"}, "title": None,
                  "axis": {"orient": "top", "labelAngle": -50, "labelLimit": 110, "labelExpr": LABEL_AFTER_SEPARATOR,
                           "labelFontSize": 11}},
            "y": {"field": "name", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": "method",
                  "axis": {"labelLimit": 190}},
            "color": {"field": "n", "type": "quantitative", "scale": DIVERGING,
                      "legend": {"title": "score / max |score| of the row", "orient": "bottom", "gradientLength": 160}},
            "tooltip": [
                {"field": "word", "type": "nominal"},
                {"field": "w", "type": "quantitative", "title": "word position"},
                {"field": "full", "type": "nominal", "title": "method"},
                {"field": "s", "type": "quantitative", "format": ".4g", "title": "score"},
                {"field": "n", "type": "quantitative", "format": ".2f", "title": "score / max |score| of the row"},
            ],
        },
        "config": NO_VIEW_STROKE,
    }
    return Template(template_id, spec, ["tok"])


def attention_template(template_id: str, layers: int, heads: int) -> Template:
    """Query x key attention heatmap of one kept example, with layer and head select boxes.

    Data: ``att`` holds one row per (layer, head) with the n x n map flattened row by row as
    integers in thousandths (``a``) and ``n``; ``pos`` maps token positions to tokens. The
    boxes are Vega-Lite parameters; the filter reads only their values.
    """
    head_options = [-1, *range(heads)]
    head_labels = ["mean of heads", *(f"head {h}" for h in range(heads))]
    spec = {
        "data": {"name": "att"},
        "params": [
            {"name": "layer", "value": layers - 1,
             "bind": {"input": "select", "options": list(range(layers)),
                      "labels": [f"layer {i}" for i in range(layers)], "name": "layer "}},
            {"name": "head", "value": -1,
             "bind": {"input": "select", "options": head_options, "labels": head_labels, "name": "head "}},
        ],
        "transform": [
            {"filter": "datum.l == layer && (head < 0 || datum.h == head)"},
            {"flatten": ["a"]},
            {"window": [{"op": "row_number", "as": "k"}], "groupby": ["l", "h"]},
            {"aggregate": [{"op": "mean", "field": "a", "as": "v"}], "groupby": ["k", "n"]},
            {"calculate": "floor((datum.k - 1) / datum.n)", "as": "q"},
            {"calculate": "(datum.k - 1) % datum.n", "as": "c"},
            {"calculate": "datum.v / 1000", "as": "w"},
            {"lookup": "q", "from": {"data": {"name": "pos"}, "key": "i", "fields": ["t"]}, "as": ["qt"]},
            {"lookup": "c", "from": {"data": {"name": "pos"}, "key": "i", "fields": ["t"]}, "as": ["ct"]},
            {"calculate": "datum.q + ' ' + datum.qt", "as": "qx"},
            {"calculate": "datum.c + ' ' + datum.ct", "as": "cx"},
        ],
        "width": {"step": 16},
        "height": {"step": 14},
        "mark": {"type": "rect"},
        "encoding": {
            "x": {"field": "cx", "type": "nominal", "sort": {"field": "c", "op": "min"}, "title": "key (attended to)",
                  "axis": {"orient": "top", "labelAngle": -50, "labelLimit": 100, "labelExpr": LABEL_AFTER_SEPARATOR,
                           "labelFontSize": 10}},
            "y": {"field": "qx", "type": "nominal", "sort": {"field": "q", "op": "min"}, "title": "query (attending)",
                  "axis": {"labelLimit": 100, "labelExpr": LABEL_AFTER_SEPARATOR, "labelFontSize": 10}},
            "color": {"field": "w", "type": "quantitative",
                      "scale": {"scheme": "purples", "type": "sqrt", "zero": True},
                      "legend": {"title": "attention weight", "orient": "bottom", "gradientLength": 160}},
            "tooltip": [
                {"field": "qt", "type": "nominal", "title": "query token"},
                {"field": "q", "type": "quantitative", "title": "query position"},
                {"field": "ct", "type": "nominal", "title": "key token"},
                {"field": "c", "type": "quantitative", "title": "key position"},
                {"field": "w", "type": "quantitative", "format": ".3f", "title": "weight"},
            ],
        },
        "config": NO_VIEW_STROKE,
    }
    return Template(template_id, spec, ["att", "pos"])


def compact_row(strings: Sequence[str], arrays: dict[str, Sequence[float]], digits: int = 4) -> dict[str, Any]:
    """One data row for :func:`position_matrix_template`: the strings and each rounded score array."""
    row: dict[str, Any] = {"t": list(strings)}
    for key, scores in arrays.items():
        row[key] = sigs(scores, digits)
    return row


def attention_rows(maps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored attention maps (one row per layer and head, see :mod:`reportgen.maps`) as the page's rows:
    ``l``, ``h``, ``n`` and ``a``, the weights in thousandths."""
    rows = []
    for row in maps:
        weights = row_weights(row)
        if row["scale"] != 1000:
            weights = np.rint(weights * (1000 / row["scale"])).astype(np.int64)
        rows.append({"l": row["layer"], "h": row["head"], "n": row["n"], "a": weights.tolist()})
    return rows


def nested_maps_as_rows(maps: list[list[list[list[float]]]]) -> list[dict[str, Any]]:
    """Attention maps saved by older versions ([layer][head][query][key] weights) as stored rows."""
    return [{"layer": layer, "head": head, "n": len(matrix), "scale": 1000,
             "weights": [int(round(w * 1000)) if w is not None and math.isfinite(w) else 0
                         for query in matrix for w in query]}
            for layer, heads in enumerate(maps) for head, matrix in enumerate(heads)]
