"""Turns a saved RunResult into one self-contained HTML report. Reads results only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..results.records import RunResult
from ..tasks import task_of
from .assets import asset_dir, page_assets
from .sections import SECTIONS, context


def render_html(run: RunResult) -> str:
    """The whole report page as a string: the sections that apply to the run's task, in order."""
    task = task_of(run)
    sections = [section for section in SECTIONS if task.applies("section", section.anchor)]
    page = {
        "run": run,
        "sections": sections,
        "contexts": {section.anchor: context(section, run) for section in sections},
        "assets": page_assets(),
    }
    return _environment().get_template("report.html.j2").render(page)


def write_report(run: RunResult, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # errors="replace": a lone surrogate in a dataset string must not stop the report.
    out.write_text(render_html(run), encoding="utf-8", errors="replace")
    return out


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(asset_dir("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False, "allow_nan": False,
                                        "separators": (",", ":")}
    return env
