"""Vega-Lite specs as plain dicts.

Dataset text (texts, tokens, words, class names) only ever appears as data values, never inside
a Vega expression string, a custom sort array (Vega-Lite compiles those into expressions) or a
field name. Order comes from numeric fields; method and layer names are looked up by short keys.

Per-example charts of the explorer share one spec (a :class:`Template`) and carry only their
data, as named ``datasets``: the page holds each template once and report.js joins it with the
example's data block when the chart is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

DIVERGING = {"scheme": "redblue", "reverse": True, "domain": [-1, 1], "domainMid": 0}
SEPARATOR = " "  # between a position and its token in axis keys; the label shows what follows it
LABEL_AFTER_SEPARATOR = "slice(datum.label, indexof(datum.label, ' ') + 1)"
NO_VIEW_STROKE = {"view": {"stroke": None}}
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#2f4b7c", "#a05195", "#d45087", "#7f7f00", "#00876c", "#c7522a", "#5d5d9c")
CONTROL_COLOUR = "#4a4a4a"
OTHER_CLASSES = "other"  # the explorer's filter value of the classes its boxes do not list one by one


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
    opens: str = ""  # "filter:field ...": a click on a mark lists the explorer's examples whose filters equal its fields


@dataclass
class Template:
    """A spec shared by many charts; each chart supplies ``datasets`` (see :func:`compose`)."""

    id: str
    spec: dict[str, Any]
    datasets: list[str] = field(default_factory=list)


def compose(spec: dict[str, Any], datasets: dict[str, Any]) -> dict[str, Any]:
    """The spec a template chart is drawn with (what report.js builds in the browser)."""
    return {**spec, "datasets": datasets}
