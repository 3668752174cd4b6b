"""How values read on the page: numbers, durations, shares, configuration values and dataset text.

Every string a template shows goes through here or through Jinja's autoescape: nothing builds HTML.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ..results.queries import class_names
from ..results.records import RunResult

# Bidirectional formatting characters: embeddings, overrides and isolates, the marks LRM, RLM and ALM.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def fmt(value: Any, digits: int = 3) -> str:
    """A number for display with ``digits`` decimals; '-' for missing values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_se(value: float | None, se: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f} ± {se:.{digits}f}" if se is not None else f"{value:.{digits}f}"


def pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def shown(text: Any) -> str:
    """Dataset text as displayed: each bidi control character as a visible marker such as ⟨U+202E⟩,
    so a right-to-left override in one token cannot reorder the text after it. The saved results keep
    the text as it was."""
    return BIDI_CONTROLS.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", str(text))


def label_name(run: RunResult, label_id: int | None) -> str:
    labels = run.labels
    if label_id is None:
        return "-"
    return shown(labels[label_id]) if 0 <= label_id < len(labels) else str(label_id)


def shown_class_names(run: RunResult) -> list[str]:
    """The class names as displayed, extended with ids for ids used beyond the model's classes."""
    return [shown(name) for name in class_names(run)]


def value_text(value: Any, separator: str = "; ") -> str:
    """A configuration value as readable text: lists comma-separated, dicts as ``key=value`` pairs."""
    if isinstance(value, dict):
        if not value:
            return "none"
        return separator.join(f"{key}: {value_text(item, ', ')}" if isinstance(item, dict)
                              else f"{key}={value_text(item)}"
                              for key, item in sorted(value.items(), key=lambda pair: str(pair[0])))
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(item) for item in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return shown(value)


def cell(value: Any, kind: str, digits: int = 3) -> str:
    """A table cell of a metric's panel, formatted by its column's kind (see measure.base.Column)."""
    if kind == "name":
        return shown(value)
    if kind == "seconds":
        return seconds(value)
    if kind == "percent":
        return pct(value, digits)
    if kind == "count":
        return fmt(value)
    return fmt(value, digits)


def short_path(value: Any) -> str:
    """A file or folder as a reader needs it: relative to the working folder when under it, else its last two
    parts (the full path stays in run.json); anything that is not an absolute path as it is."""
    text = str(value)
    path = Path(text)
    if not path.is_absolute():
        return text
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return "…/" + "/".join(path.parts[-2:])
