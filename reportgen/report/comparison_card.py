"""The comparison's outputs: compare.html (one offline page under the report's rules) and compare.md (its figures
as Markdown for a model card, escaped like the card's cells), each replacing only a file reportgen wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..results.files import refuse_foreign, write_text
from ..results.records import RunResult
from .assets import page_assets
from .comparison import comparison
from .model_card import _cell, link_target
from .render import REPORT_MARK, environment

COMPARE_MARK = b"<!-- written by reportgen compare: a rerun replaces this file -->"


def comparison_html(c: dict[str, Any], version: str) -> str:
    return environment().get_template("compare.html.j2").render(c=c, assets=page_assets(), version=version)


def write_comparison(a: RunResult, b: RunResult, out: str | Path, markdown: str | Path | None = None,
                     seed: int = 0) -> dict[str, Path]:
    """Write compare.html to ``out`` and compare.md beside it (or to ``markdown``); refuses files of others
    before writing anything."""
    out = Path(out)
    markdown = Path(markdown) if markdown is not None else out.parent / "compare.md"
    refuse_foreign(out, REPORT_MARK, "--out")
    refuse_foreign(markdown, COMPARE_MARK, "--markdown")
    c = comparison(a, b, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, comparison_html(c, a.versions.get("reportgen", "")))
    write_text(markdown, COMPARE_MARK.decode("ascii") + "\n" + comparison_markdown(c, link_target(out.name)))
    return {"comparison": out, "markdown": markdown}


def comparison_markdown(c: dict[str, Any], page: str = "compare.html") -> str:
    flips = c["flips"]
    lines = [
        f"## Comparison (reportgen): {_cell(c['a']['label'])} (A) and {_cell(c['b']['label'])} (B)", "",
        f"On {c['answered']} rows of {_cell(c['a']['data'])} that both answered with a label; A ran in "
        f"{_cell(c['a']['precision'])}, B in {_cell(c['b']['precision'])}.", "",
        "| figure | A | B | B - A | test |", "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {row['label']} | {row['shown']['a']} | {row['shown']['b']} | {row['shown']['delta']} | "
              f"{_cell(row['test'])} |" for row in c["models"]]
    lines += ["", f"{flips['total']} predictions changed: {flips['counts']['broken']} right in A and wrong in B, "
              f"{flips['counts']['fixed']} wrong in A and right in B, {flips['counts']['changed']} wrong in both.", ""]
    if c["shift"]:
        lines += ["| method | rows | mean Spearman of A's and B's word scores | ± se |", "|---|---:|---:|---:|"]
        lines += [f"| {_cell(row['method'])} | {row['rows']} | {row['shown']['spearman']} | "
                  f"{row['shown']['spearman_se']} |" for row in c["shift"]]
        lines.append("")
    if c["faithfulness"]:
        lines += ["| method | comprehensiveness B - A | reading | sufficiency B - A | reading |",
                  "|---|---:|---|---:|---|"]
        lines += [f"| {_cell(row['method'])} | {row['shown']['comprehensiveness_delta']} | "
                  f"{row['shown']['comprehensiveness_reading']} | {row['shown']['sufficiency_delta']} | "
                  f"{row['shown']['sufficiency_reading']} |" for row in c["faithfulness"]]
        lines.append("")
    lines += ["The whole comparison, with every flipped prediction and the top words that entered or left, is "
              f"[compare.html]({page}).", ""]
    return "\n".join(lines)
