"""The height a chart will have once drawn, so that the page reserves it and does not grow under the reader
while the charts draw. Measured by drawing the chart's own spec once at render time, with the Vega and
Vega-Lite the page inlines (vl-convert): the SVG's height is the canvas height the browser draws.

The chart is measured with its data's text made plain (printable ASCII only): vl-convert aborts the whole
process on some text (a NUL character did), and a height depends on how many categories there are and how
long their labels are, not on their exact characters."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

SVG_HEIGHT = re.compile(r'<svg\b[^>]*?\bheight="([0-9.]+)"')
DATA_KEYS = ("values", "datasets")  # below these, every string is data
TEXT_KEYS = ("title", "subtitle", "text")  # a string here may be data (a class name as a panel's title)
LONGEST = 200  # characters kept of a text: axis labels are cut at their labelLimit long before


def neutral(spec: Any) -> Any:
    """``spec`` with every string of its data and titles made plain: printable ASCII kept (so labels keep their
    width), any other character an "x", cut at LONGEST; equal strings stay equal and different ones different,
    so categories, sorts and lookups stay as they were."""
    names: dict[str, str] = {}
    taken: set[str] = set()

    def placeholder(text: str) -> str:
        if text not in names:
            plain = "".join(ch if " " <= ch <= "~" else "x" for ch in text[:LONGEST])
            name, n = plain, 0
            while name in taken:  # two texts that differ only outside printable ASCII stay two categories
                n += 1
                name = f"{plain}~{n}"
            names[text] = name
            taken.add(name)
        return names[text]

    def walk(node: Any, key: str | None, in_data: bool) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k, in_data or k in DATA_KEYS) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key, in_data) for v in node]
        if isinstance(node, str) and (in_data or key in TEXT_KEYS):
            return placeholder(node)
        return node

    return walk(spec, None, False)


def drawn_height(spec: dict[str, Any] | None) -> int | None:
    """The drawn chart's height in px, or None where it cannot be known (the page then reserves nothing)."""
    if not spec:
        return None
    return _measured(json.dumps(neutral(spec), sort_keys=True, allow_nan=False, default=str))


@lru_cache(maxsize=256)  # a report rendered again (a rerender, a test) measures its charts once
def _measured(plain_spec: str) -> int | None:
    import vl_convert

    try:
        svg = vl_convert.vegalite_to_svg(json.loads(plain_spec))
    except Exception:  # vl-convert raises its own plain exceptions; a chart it cannot draw gets no reservation
        return None
    found = SVG_HEIGHT.search(svg)
    return math.ceil(float(found.group(1))) if found else None


def has_bindings(spec: dict[str, Any] | None) -> bool:
    """Whether the chart draws input boxes above itself (a parameter bound to a select or a check box)."""
    return any(isinstance(p, dict) and "bind" in p for p in (spec or {}).get("params", []))
