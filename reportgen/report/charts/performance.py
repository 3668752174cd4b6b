"""Model performance charts: the confusion matrix and the reliability curve."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...ops.numbers import sig
from . import NO_VIEW_STROKE, OTHER_CLASSES, Chart


def confusion_heatmap(chart_id: str, cells: list[dict[str, Any]], classes: list[tuple[Any, str]]) -> Chart:
    """True x predicted counts, coloured by the share of the true class, on the grid of ``classes``
    ((class id, displayed name) in order; the id None is the folded "other" row and column). The saved
    cells are only those that occur: the others are drawn as 0."""
    position = {class_id: i for i, (class_id, _) in enumerate(classes)}
    counts = {(position[c["true_id"]], position[c["predicted_id"]]): c for c in cells
              if c["true_id"] in position and c["predicted_id"] in position}
    support = Counter()
    for (row, _), cell in counts.items():
        support[row] += cell["count"]
    values = []
    for ti, (true_id, true_name) in enumerate(classes):
        for pi, (predicted_id, predicted_name) in enumerate(classes):
            count = counts[(ti, pi)]["count"] if (ti, pi) in counts else 0
            share = count / support[ti] if support[ti] else None
            values.append({"true": true_name, "predicted": predicted_name, "ti": ti, "pi": pi, "count": count,
                           "share": sig(share, 3), "tf": _filter_value(true_id), "pf": _filter_value(predicted_id)})
    n_classes = len(classes)
    step = 70 if n_classes <= 6 else 40
    spec = {
        "data": {"values": values},
        "width": {"step": step},
        "height": {"step": max(30, step // 2)},
        "encoding": {
            "x": {"field": "predicted", "type": "nominal", "sort": {"field": "pi", "op": "min"},
                  "title": "predicted class",
                  "axis": {"orient": "top", "labelAngle": 0 if n_classes <= 6 else -45, "labelLimit": 120}},
            "y": {"field": "true", "type": "nominal", "sort": {"field": "ti", "op": "min"},
                  "title": "true class", "axis": {"labelLimit": 120}},
        },
        "layer": [
            {
                "mark": {"type": "rect", "stroke": "#ffffff", "cursor": "pointer"},
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
    folded = " (the last one: the other classes, folded)" if None in position else ""
    return Chart(chart_id, f"confusion matrix heatmap of {n_classes} classes{folded}", spec,
                 opens="label:tf prediction:pf")


def _filter_value(class_id: Any) -> str:
    """The explorer's filter value of a class (the folded "other" classes: OTHER_CLASSES)."""
    return OTHER_CLASSES if class_id is None else str(class_id)


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
