"""Turns a saved RunResult into one self-contained HTML report. Reads results only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..results.files import refuse_foreign, write_text
from ..results.records import RunResult
from ..tasks import task_of
from .assets import asset_dir, page_assets
from .heights import drawn_height, has_bindings
from .pages import gzip_base64
from .sections import SECTIONS, context

REPORT_MARK = b'<meta name="generator" content="reportgen'  # in the head of every report (partials/head.html.j2)


def render_html(run: RunResult) -> str:
    """The whole report page as a string: the sections that apply to the run's task, in order."""
    task = task_of(run)
    sections = [section for section in SECTIONS if section.applies(task)]
    page = {
        "run": run,
        "sections": sections,
        "contexts": {section.anchor: context(section, run) for section in sections},
        "assets": page_assets(),
    }
    return environment().get_template("report.html.j2").render(page)


def write_report(run: RunResult, out: str | Path) -> Path:
    """Write the report to ``out``, replacing only a report reportgen wrote, in one step."""
    out = Path(out)
    refuse_foreign(out, REPORT_MARK, "report")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, render_html(run))
    return out


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(asset_dir("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False, "allow_nan": False,
                                        "separators": (",", ":")}
    env.filters["gzip_base64"] = gzip_base64
    env.filters["drawn_height"] = drawn_height
    env.filters["has_bindings"] = has_bindings
    return env
