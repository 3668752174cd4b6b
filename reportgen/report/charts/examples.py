"""The explorer's shared chart templates, and the attention rows the page draws from."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...results.maps import row_weights
from . import DIVERGING, LABEL_AFTER_SEPARATOR, NO_VIEW_STROKE, Template


def key_table(names: Sequence[str], prefix: str, labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Short field keys (m0, m1, ...) with the names they stand for and their order."""
    labels = list(labels) if labels is not None else list(names)
    return [{"k": f"{prefix}{i}", "name": label, "full": name, "o": i}
            for i, (name, label) in enumerate(zip(names, labels))]


BOUNDARY_RULE = {"type": "rule", "color": "#111111", "strokeWidth": 2.5, "strokeDash": [5, 2]}


def with_boundary(spec: dict[str, Any], first_of_pair: str, segment_of: str) -> dict[str, Any]:
    """``spec``'s heatmap with a rule on the left edge of the pair's first cell, where the filter expression
    ``first_of_pair`` holds, and each cell's segment (expression ``segment_of``) in its tooltip."""
    mark, encoding = spec["mark"], dict(spec["encoding"])
    encoding["tooltip"] = [*encoding["tooltip"], {"field": "segment", "type": "nominal", "title": "segment"}]
    rule_x = {key: value for key, value in encoding["x"].items() if key != "axis"}
    rule = {"transform": [{"filter": first_of_pair}], "mark": BOUNDARY_RULE,
            "encoding": {"x": {**rule_x, "bandPosition": 0}}}
    layered = {key: value for key, value in spec.items() if key not in ("mark", "encoding")}
    layered["transform"] = [*spec["transform"], {"calculate": segment_of, "as": "segment"}]
    layered["layer"] = [{"mark": mark, "encoding": encoding}, rule]
    return layered


def position_matrix_template(template_id: str, dataset: str, keys: list[dict[str, Any]], *, row_title: str,
                             unit: str, legend: str, per_row: bool, height_step: int = 16,
                             pairs: bool = False) -> Template:
    """Rows (methods or layers) x positions (tokens or words) heatmap from one compact data row.

    The data row holds ``t``, the tokens, ``w``, each token's word index (null for special tokens
    such as [CLS] and [SEP]), and one score array per key. Transforms flatten the arrays in
    parallel, number the positions, fold the key columns into rows, look up the row names and
    divide each score by the largest absolute score over the real (non-special) tokens of its row
    (``per_row``) or of the whole matrix; special tokens that exceed it are clamped to -1 or 1 (a
    row without real tokens is scaled by its largest score over all tokens). With ``pairs``, the row also
    holds ``b``, the position of the pair's first token, and a rule marks where the pair begins.
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
    if pairs:
        spec = with_boundary(spec, "datum.position == datum.b",
                             "isValid(datum.w) ? (datum.position >= datum.b ? 'pair' : 'text') : 'special'")
    return Template(template_id, spec, [dataset])


def word_matrix_template(template_id: str, keys: list[dict[str, Any]], overrides: Sequence[str] = (),
                         pairs: bool = False) -> Template:
    """Methods x words heatmap folded from the token row of :func:`position_matrix_template`.

    The row also holds ``w`` (each token's word index, null for special tokens) and ``W`` (the
    words). Token scores are summed per word and method. A method whose word scores are not the
    sum of its token scores has, in the keys listed in ``overrides``, an extra array ``u<i>``
    with its word scores spread over the word's tokens (empty when the sum is right). With ``pairs``, the
    row also holds ``B``, the index of the pair's first word, and a rule marks where the pair begins.
    """
    fields = [k["k"] for k in keys]
    extra_groups = ["B"] if pairs else []  # kept through the sum per word, for the boundary rule
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
            {"aggregate": [{"op": "sum", "field": "s", "as": "s"}], "groupby": ["w", "word", "k", *extra_groups]},
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
    if pairs:
        spec = with_boundary(spec, "datum.w == datum.B", "datum.w >= datum.B ? 'pair' : 'text'")
    return Template(template_id, spec, ["tok"])


# Attention weights, 0 to the largest shown, on a square root so that small weights stay visible.
ATTENTION_COLOUR = {"field": "w", "type": "quantitative", "scale": {"scheme": "purples", "type": "sqrt", "zero": True},
                    "legend": {"title": "attention weight", "orient": "bottom", "gradientLength": 160}}


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
            "color": ATTENTION_COLOUR,
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


HEADS_PER_ROW = 4  # small multiples of a layer's heads: this many to a row
HEAD_SIZE = 150  # px: each head's map, whatever the example's length


def heads_template(template_id: str, layers: int, heads: int) -> Template:
    """Every head of one layer of a kept example as small multiples (a static grid like bertviz's head
    view), each a query x key map of HEAD_SIZE px; a select box picks the layer (the last at first).

    Data as :func:`attention_template`'s; the heads share one colour scale, so a head that attends sharply
    stands out from one that spreads its weight."""
    spec = {
        "data": {"name": "att"},
        "params": [{"name": "layer", "value": layers - 1,
                    "bind": {"input": "select", "options": list(range(layers)),
                             "labels": [f"layer {i}" for i in range(layers)], "name": "layer "}}],
        "transform": [
            {"filter": "datum.l == layer"},
            {"flatten": ["a"]},
            {"window": [{"op": "row_number", "as": "k"}], "groupby": ["l", "h"]},
            {"calculate": "floor((datum.k - 1) / datum.n)", "as": "q"},
            {"calculate": "(datum.k - 1) % datum.n", "as": "c"},
            {"calculate": "datum.a / 1000", "as": "w"},
            {"calculate": "'head ' + datum.h", "as": "head"},
        ],
        "facet": {"field": "h", "type": "ordinal", "title": None,
                  "header": {"labelExpr": "'head ' + datum.value", "labelFontSize": 11, "labelPadding": 2}},
        "columns": HEADS_PER_ROW,
        "spacing": 8,
        "spec": {
            "width": HEAD_SIZE,
            "height": HEAD_SIZE,
            "mark": {"type": "rect"},
            "encoding": {
                "x": {"field": "c", "type": "ordinal", "title": None, "axis": None},
                "y": {"field": "q", "type": "ordinal", "title": None, "axis": None},
                "color": ATTENTION_COLOUR,
                "tooltip": [
                    {"field": "head", "type": "nominal"},
                    {"field": "q", "type": "quantitative", "title": "query position"},
                    {"field": "c", "type": "quantitative", "title": "key position"},
                    {"field": "w", "type": "quantitative", "format": ".3f", "title": "weight"},
                ],
            },
        },
        "config": NO_VIEW_STROKE,
    }
    return Template(template_id, spec, ["att"])


def attention_rows(maps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored attention maps (one row per layer and head, see :mod:`reportgen.results.maps`) as the page's rows:
    ``l``, ``h``, ``n`` and ``a``, the weights in thousandths."""
    rows = []
    for row in maps:
        weights = row_weights(row)
        if row["scale"] != 1000:
            weights = np.rint(weights * (1000 / row["scale"])).astype(np.int64)
        rows.append({"l": row["layer"], "h": row["head"], "n": row["n"], "a": weights.tolist()})
    return rows
