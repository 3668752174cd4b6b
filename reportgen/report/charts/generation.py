"""The output explorer's chart: per row, the tokens it reads x the output tokens it explains, for one method
at a time (a select box)."""

from __future__ import annotations

from typing import Any, Sequence

from . import DIVERGING, LABEL_AFTER_SEPARATOR, NO_VIEW_STROKE, Template


PAGE = 40  # output tokens per page of a long output's matrix


def alignment_template(template_id: str, methods: Sequence[str], heads: tuple[int, int] | None = None,
                       pages: int = 1) -> Template:
    """Source x target heatmap of one row: rows are the positions of the prompt and the output, columns the
    output tokens, and a cell the score the selected method gives the row's token for the column's token.

    Data: ``gen`` holds one record per method (``m``, its index) and output token (``k``) with ``v``, the scores
    of the positions before that token; ``pos`` maps positions to tokens (``i``, ``t``); ``out`` maps output
    tokens to their position, token and log-probability (``k``, ``i``, ``t``, ``lp``). Each column is divided by
    its largest absolute score. ``heads`` (layers, heads): one more entry of the method box, a single attention
    head chosen in a layer and a head box (its records also hold ``l`` and ``h``). ``pages`` above 1: a page box
    shows PAGE output tokens at a time. The boxes are Vega-Lite parameters; the filters read only their values.
    """
    options = list(range(len(methods) + (heads is not None)))
    labels = list(methods) + (["attention of one head (the layer and head boxes)"] if heads is not None else [])
    params: list[dict[str, Any]] = [{"name": "method", "value": 0, "bind": {
        "input": "select", "options": options, "labels": labels, "name": "method "}}]
    chosen = "datum.m == method"
    if heads is not None:
        for name, count in (("layer", heads[0]), ("head", heads[1])):
            params.append({"name": name, "value": 0, "bind": {"input": "select", "options": list(range(count)),
                                                              "name": f"{name} "}})
        chosen += f" && (datum.m != {len(methods)} || (datum.l == layer && datum.h == head))"
    if pages > 1:
        params.append({"name": "page", "value": 0, "bind": {
            "input": "select", "options": list(range(pages)), "name": "output tokens ",
            "labels": [f"{page * PAGE} to {page * PAGE + PAGE - 1}" for page in range(pages - 1)]
            + [f"{(pages - 1) * PAGE} on"]}})
        chosen += f" && datum.k >= page * {PAGE} && datum.k < (page + 1) * {PAGE}"
    spec = {
        "data": {"name": "gen"},
        "params": params,
        "transform": [
            {"filter": chosen},
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


def head_rows(entry: int, heads: Sequence[Sequence[Sequence[Sequence[float]]]]) -> list[dict[str, Any]]:
    """Per layer, head and output token, the record ``gen`` holds for method box entry ``entry``."""
    return [{"m": entry, "l": layer, "h": head, "k": k, "v": list(scores)}
            for layer, per_layer in enumerate(heads) for head, per_head in enumerate(per_layer)
            for k, scores in enumerate(per_head)]
