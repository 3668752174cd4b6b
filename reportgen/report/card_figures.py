"""The model card's figures: some of the report's own charts, drawn from the same Vega-Lite specs to SVG and PNG
(vl-convert), so that a card shows them where scripts do not run (the Hugging Face page).

They are written to a ``figures/`` folder beside the card, with a list of what reportgen wrote there
(``FIGURE_LIST``): a later card replaces or removes only files on that list and unchanged since, so a file of
the user's in that folder is never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import ReportgenError
from ..results.files import sha256_of, write_bytes, write_json
from ..results.records import RunResult
from ..tasks import task_of
from .charts import Chart

FIGURES = "figures"
FIGURE_LIST = "reportgen-figures.json"  # in the figures folder: the files reportgen wrote there, with their sha256
PNG_SCALE = 2  # twice the page's pixels, sharp on a high-density screen
# The charts a card shows, by the report's chart id: its file name and what it shows (the image's alt text).
CARD_CHARTS = (
    ("chart-summary-lift", "faithfulness-lift", "Comprehensiveness lift of each method over the random control"),
    ("chart-aopc", "faithfulness-curves", "Probability lost as each method's top tokens are masked"),
    ("chart-confusion", "confusion", "Confusion matrix of the explained examples"),
    ("chart-reliability", "calibration", "Reliability diagram: accuracy against confidence"),
    ("chart-top-words", "top-words", "Top words per class by mean attribution"),
)
SECTIONS_WITH_CHARTS = ("summary", "performance", "quality", "global")


@dataclass(frozen=True)
class CardFigure:
    name: str  # the file name without its extension
    title: str
    spec: dict[str, Any]

    @property
    def files(self) -> tuple[str, str]:
        return f"{self.name}.svg", f"{self.name}.png"


def card_figures(run: RunResult) -> list[CardFigure]:
    """The card's figures the run has data for, in CARD_CHARTS order."""
    from .sections import SECTIONS, context  # the sections import this package's modules

    task = task_of(run)
    charts = {chart.id: chart for section in SECTIONS
              if section.anchor in SECTIONS_WITH_CHARTS and section.applies(task)
              for chart in _charts_in(context(section, run)) if chart.spec}
    return [CardFigure(name, title + _shown_method(charts[chart_id].spec), charts[chart_id].spec)
            for chart_id, name, title in CARD_CHARTS if chart_id in charts and _has_data(charts[chart_id].spec)]


def _has_data(spec: dict[str, Any]) -> bool:
    """Whether the chart has something to draw: its top-level data is not empty (a run of the random control
    alone has no lift to show); a chart whose layers hold their own data is drawn."""
    data = spec.get("data")
    return not isinstance(data, dict) or not isinstance(data.get("values"), list) or bool(data["values"])


def _shown_method(spec: dict[str, Any]) -> str:
    """", for METHOD" where the chart shows one method at a time (a select box, drawn at its first value)."""
    for param in spec.get("params", []):
        labels = (param.get("bind") or {}).get("labels")
        if param.get("name") == "method" and isinstance(labels, list) and 0 <= param.get("value", -1) < len(labels):
            return f", for {labels[param['value']]}"
    return ""


def _charts_in(value: Any) -> Iterator[Chart]:
    if isinstance(value, Chart):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _charts_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _charts_in(item)


def drawable(spec: Any) -> Any:
    """``spec`` with what vl-convert cannot take out of its strings: control characters (a NUL aborts the whole
    process) and lone surrogates (not UTF-8). Every other character is drawn as it is and escaped in the SVG."""
    if isinstance(spec, dict):
        return {drawable(k): drawable(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [drawable(v) for v in spec]
    if isinstance(spec, str):
        text = spec.encode("utf-8", errors="replace").decode("utf-8")
        return "".join(ch if ch >= " " or ch in "\t\n" else " " for ch in text).replace("\x7f", " ")
    return spec


def drawn(figure: CardFigure) -> dict[str, bytes]:
    """The figure's SVG and PNG, by file name; ReportgenError where vl-convert cannot draw it."""
    import vl_convert

    spec = drawable(figure.spec)
    svg_name, png_name = figure.files
    try:
        return {svg_name: vl_convert.vegalite_to_svg(spec).encode("utf-8"),
                png_name: bytes(vl_convert.vegalite_to_png(spec, scale=PNG_SCALE))}
    except Exception as err:  # vl-convert raises plain exceptions of its own
        raise ReportgenError(f"cannot draw the model card's figure {figure.name}: {err}") from None


def check_figures_folder(folder: Path, names: list[str] | None = None) -> None:
    """Refuse a figures folder in which reportgen would replace a file it did not write (or one changed since).
    ``names``: the files it would write; None: every name it may write."""
    if not folder.exists():
        return
    if not folder.is_dir() or folder.is_symlink():
        raise ReportgenError(f"{folder} is not a folder of figures reportgen wrote; move it or write the card elsewhere")
    written = _written(folder)
    candidates = names if names is not None else [file for _, name, _ in CARD_CHARTS
                                                  for file in (f"{name}.svg", f"{name}.png")]
    for name in candidates:
        path = folder / name
        if (path.exists() or path.is_symlink()) and not _unchanged(path, written.get(name)):
            raise ReportgenError(f"{path} was not written by reportgen (or was changed since); "
                                 "move it, or write the card elsewhere")


def write_figures(run: RunResult, card: Path) -> tuple[list[CardFigure], list[str]]:
    """Draw the card's figures into ``figures/`` beside ``card``; remove the ones an earlier card of reportgen's
    wrote there and this one has not. Returns the figures drawn, and why any other could not be (a figure
    that cannot be drawn is left out: the card and the run stand without it)."""
    folder = card.parent / FIGURES
    figures, problems, files = [], [], {}
    for figure in card_figures(run):
        try:
            files.update(drawn(figure))
        except ReportgenError as err:
            problems.append(str(err))
            continue
        figures.append(figure)
    check_figures_folder(folder, list(files))
    folder.mkdir(parents=True, exist_ok=True)
    earlier = _written(folder)
    for name, data in files.items():
        write_bytes(folder / name, data)
    for name, sha in earlier.items():
        if name not in files and _unchanged(folder / name, sha):
            (folder / name).unlink()
    write_json(folder / FIGURE_LIST, {"written_by": "reportgen",
                                      "files": {name: sha256_of(folder / name) for name in files}}, indent=1)
    return figures, problems


def _written(folder: Path) -> dict[str, str]:
    """The files reportgen's list says it wrote in ``folder``, with their sha256; {} for a missing or foreign list."""
    try:
        listed = json.loads((folder / FIGURE_LIST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = listed.get("files") if isinstance(listed, dict) else None
    if not isinstance(files, dict):
        return {}
    known = {file for _, name, _ in CARD_CHARTS for file in (f"{name}.svg", f"{name}.png")}
    return {name: sha for name, sha in files.items() if name in known and isinstance(sha, str)}


def _unchanged(path: Path, sha: str | None) -> bool:
    return sha is not None and path.is_file() and not path.is_symlink() and sha256_of(path) == sha
