"""The global explanations' chart: the top words per class, one method at a time."""

from __future__ import annotations

import json
from typing import Any

from ...ops.numbers import sig
from . import Chart


def top_words_chart(chart_id: str, rows: list[dict[str, Any]], methods: list[str], classes: list[str],
                    class_filter: str = "") -> Chart:
    """Top words per class for one method at a time: a select box picks the method (the first one at
    first) and a check box hides the rows flagged ``function_word`` (a flag computed in Python: the
    filter reads only numbers and booleans). A click on a bar lists the examples that hold its word (its
    ``key``), of its class where ``class_filter`` names the explorer's filter for it."""
    index = {m: i for i, m in enumerate(methods)}
    values = [{"mi": index[r["method"]], "ci": r["class_id"], "word": r["word"], "mean": sig(r["mean"]),
               "count": r["count"], "examples": r["examples"], "rank": r["rank"],
               "fw": bool(r.get("function_word")), "wk": r.get("key", "")}
              for r in rows if r["method"] in index]
    present = sorted({r["class_id"] for r in rows})
    # Each method's x domain is fixed here (numbers only) and shared by every class's panel, so the classes
    # compare on one scale, hiding words never leaves a panel without a domain, and the scale stays put.
    domains = []
    for mi in range(len(methods)):
        means = [v["mean"] for v in values if v["mi"] == mi and v["mean"] is not None]
        domains.append([min([0, *means]), max([0, *means])] if means else [0, 1])
    panels = []
    for ci in present:
        panels.append({
            "title": classes[ci] if ci < len(classes) else str(ci),
            "width": 220,
            "height": {"step": 16},
            "transform": [{"filter": f"datum.mi == method && datum.ci == {int(ci)} && !(hide && datum.fw)"}],
            "encoding": {
                "y": {"field": "word", "type": "nominal", "sort": {"field": "rank", "op": "min"}, "title": None,
                      "axis": {"labelLimit": 140, "labelFontSize": 11}},
                "x": {"field": "mean", "type": "quantitative", "title": "mean word score (n: occurrences)",
                      "stack": None, "scale": {"domain": {"expr": f"{json.dumps(domains)}[method]"}}},
                "tooltip": [
                    {"field": "word", "type": "nominal"},
                    {"field": "rank", "type": "quantitative"},
                    {"field": "mean", "type": "quantitative", "format": ".4g", "title": "mean score"},
                    {"field": "count", "type": "quantitative", "title": "occurrences"},
                    {"field": "examples", "type": "quantitative"},
                ],
            },
            "layer": [{"mark": {"type": "bar", "color": "#2458a6"}},
                      {"mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 11, "color": "#5b6673"},
                       "encoding": {"text": {"field": "count", "type": "quantitative"}}}],
        })
    spec = {
        "data": {"values": values},
        "params": [{"name": "method", "value": 0,
                    "bind": {"input": "select", "options": list(range(len(methods))), "labels": list(methods),
                             "name": "method "}},
                   {"name": "hide", "value": False, "bind": {"input": "checkbox", "name": "hide function words "}}],
    }
    # Rows of three panels (the generic "concat" with "columns" draws nothing in the inlined bundle).
    rows = [panels[i: i + 3] for i in range(0, len(panels), 3)] or [[]]
    independent = {"scale": {"y": "independent", "x": "independent"}}
    if len(rows) == 1:
        spec.update(hconcat=rows[0], resolve=independent)
    else:
        spec["vconcat"] = [{"hconcat": row, "resolve": independent} for row in rows]
        spec["resolve"] = independent
    opens = "word:wk" + (f" {class_filter}:ci" if class_filter else "")
    return Chart(chart_id, "bar charts of the top words per class for the selected method", spec, opens=opens)
