"""The output explorer's chart: per row, the tokens it reads x the output tokens it explains, for one method
at a time (a select box)."""

from __future__ import annotations

from typing import Any, Sequence

from . import DIVERGING, LABEL_AFTER_SEPARATOR, NO_VIEW_STROKE, Template


def alignment_template(template_id: str, methods: Sequence[str]) -> Template:
    """Source x target heatmap of one row: rows are the positions of the prompt and the output, columns the
    output tokens, and a cell the score the selected method gives the row's token for the column's token.

    Data: ``gen`` holds one record per method (``m``, its index) and output token (``k``) with ``v``, the scores
    of the positions before that token; ``pos`` maps positions to tokens (``i``, ``t``); ``out`` maps output
    tokens to their position, token and log-probability (``k``, ``i``, ``t``, ``lp``). Each column is divided by
    its largest absolute score. The method box is a Vega-Lite parameter; the filter reads only its value.
    """
    spec = {
        "data": {"name": "gen"},
        "params": [{"name": "method", "value": 0,
                    "bind": {"input": "select", "options": list(range(len(methods))), "labels": list(methods),
                             "name": "method "}}],
        "transform": [
            {"filter": "datum.m == method"},
            {"flatten": ["v"]},
            {"window": [{"op": "row_number", "as": "row"}], "groupby": ["m", "k"]},
            {"calculate": "datum.row - 1", "as": "p"},
            {"filter": "isValid(datum.v)"},
            {"lookup": "p", "from": {"data": {"name": "pos"}, "key": "i", "fields": ["t"]}, "as": ["st"]},
            {"lookup": "k", "from": {"data": {"name": "out"}, "key": "k", "fields": ["t", "lp", "i"]},
             "as": ["ot", "lp", "oi"]},
            {"calculate": "abs(datum.v)", "as": "size"},
            {"joinaggregate": [{"op": "max", "field": "size", "as": "largest"}], "groupby": ["k"]},
            {"calculate": "datum.largest > 0 ? datum.v / datum.largest : 0", "as": "n"},
            {"calculate": "datum.p + ' ' + datum.st", "as": "y"},
            {"calculate": "datum.k + ' ' + datum.ot", "as": "x"},
        ],
        "width": {"step": 20},
        "height": {"step": 14},
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "x", "type": "nominal", "sort": {"field": "k", "op": "min"}, "title": "output token explained",
                  "axis": {"orient": "top", "labelAngle": -50, "labelLimit": 110, "labelExpr": LABEL_AFTER_SEPARATOR,
                           "labelFontSize": 11}},
            "y": {"field": "y", "type": "nominal", "sort": {"field": "p", "op": "min"}, "title": "token read",
                  "axis": {"labelLimit": 140, "labelExpr": LABEL_AFTER_SEPARATOR, "labelFontSize": 11}},
            "color": {"field": "n", "type": "quantitative", "scale": DIVERGING,
                      "legend": {"title": "score / max |score| of the output token", "orient": "bottom",
                                 "gradientLength": 160, "titleLimit": 400}},
            "tooltip": [
                {"field": "st", "type": "nominal", "title": "token read"},
                {"field": "p", "type": "quantitative", "title": "its position"},
                {"field": "ot", "type": "nominal", "title": "output token"},
                {"field": "oi", "type": "quantitative", "title": "its position"},
                {"field": "lp", "type": "quantitative", "format": ".3f", "title": "its log-probability"},
                {"field": "v", "type": "quantitative", "format": ".4g", "title": "score"},
                {"field": "n", "type": "quantitative", "format": ".2f", "title": "score / max |score|"},
            ],
        },
        "config": NO_VIEW_STROKE,
    }
    return Template(template_id, spec, ["gen", "pos", "out"])


def alignment_rows(method_scores: Sequence[Sequence[Sequence[float] | None]]) -> list[dict[str, Any]]:
    """Per method and output token, the record ``gen`` holds (a unit without scores of a method: no record)."""
    return [{"m": m, "k": k, "v": list(scores)} for m, per_step in enumerate(method_scores)
            for k, scores in enumerate(per_step) if scores is not None]
