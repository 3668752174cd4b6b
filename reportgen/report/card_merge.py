"""``reportgen card --merge``: the audit written into a model card someone else wrote (a Hub repo's README.md).

Only two parts of that file change: its front matter, where reportgen's metadata is merged in (tags and
datasets added, the card's own values kept, reportgen's evaluation results replaced), and the audit section
between reportgen's begin and end marks (appended at the end the first time). Every other byte stays as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ReportgenError
from ..results.files import write_text
from ..results.records import RunResult
from .card_figures import write_figures
from .card_metadata import SOURCE, as_front_matter, card_data
from .model_card import SECTION_BEGIN, SECTION_END, CardLinks, audit_section

# A front matter block as huggingface_hub reads one: "---" lines around YAML, at the very start of the file.
FRONT_MATTER = re.compile(r"\A(\s*---[\r\n]+)([\s\S]*?)([\r\n]+---(\r\n|\n|$))")
KEPT_FIELDS = ("library_name", "pipeline_tag", "base_model")  # the card's own value wins; reportgen's fills a gap
LIST_FIELDS = ("tags", "datasets")  # the card's entries first, then reportgen's it lacks


def merge_card(run: RunResult, card: str | Path, links: CardLinks = CardLinks()) -> Path:
    """Write the audit into the model card ``card`` (created if missing), with its figures beside it."""
    card = Path(card)
    existing = _read(card)
    figures, not_drawn = write_figures(run, card)
    section = audit_section(run, CardLinks(links.report, links.results, tuple(figures), tuple(not_drawn)))
    write_text(card, merged_text(run, existing, section, links.report, str(card)))
    return card


def merged_text(run: RunResult, existing: str, section: str, report: str, name: str) -> str:
    """``existing`` with reportgen's metadata merged into its front matter and ``section`` in place of the old one."""
    found = FRONT_MATTER.match(existing)
    yaml_text, body = (found.group(2), existing[found.end():]) if found else ("", existing)
    newline = "\r\n" if "\r\n" in body else "\n"
    if newline != "\n":
        section = section.replace("\n", newline)
    metadata = as_front_matter(merged_data(_parsed_yaml(yaml_text, name), card_data(run, report)))
    return metadata.replace("\n", newline) + replaced_section(body, section, newline, name)


def replaced_section(body: str, section: str, newline: str, name: str) -> str:
    """``body`` with the text from reportgen's begin mark to its end mark replaced by ``section``; without the
    marks, ``section`` appended after a blank line."""
    begins, ends = body.count(SECTION_BEGIN), body.count(SECTION_END)
    if begins == ends == 0:
        ending = "" if not body or body.endswith(newline) else newline
        return body + ending + (newline if body.strip() else "") + section
    if begins != 1 or ends != 1 or body.index(SECTION_BEGIN) > body.index(SECTION_END):
        raise ReportgenError(f"{name} holds {begins} begin and {ends} end marks of reportgen's audit section; "
                             "it needs one of each, in order (or neither), to merge")
    start = body.index(SECTION_BEGIN)
    stop = body.index(SECTION_END) + len(SECTION_END)
    if body.startswith(newline, stop):
        stop += len(newline)  # the section ends with its own newline
    return body[:start] + section + body[stop:]


def merged_data(theirs: dict, ours):
    """The card's metadata with reportgen's merged in: see KEPT_FIELDS and LIST_FIELDS; the card's evaluation
    results kept except reportgen's earlier ones, reportgen's added under the card's model name."""
    from huggingface_hub import ModelCardData

    try:
        data = ModelCardData(**theirs)
        for field in KEPT_FIELDS:
            if getattr(data, field, None) in (None, "", []):
                setattr(data, field, getattr(ours, field))
        for field in LIST_FIELDS:
            present = _as_list(getattr(data, field, None))
            added = [item for item in _as_list(getattr(ours, field)) if item not in present]
            setattr(data, field, present + added or None)
        kept = [result for result in data.eval_results or [] if result.source_name != SOURCE]
        data.eval_results = kept + list(ours.eval_results or []) or None
        data.model_name = data.model_name or ours.model_name
        data.to_yaml()  # the Hub's checks of model-index run here
    except (TypeError, ValueError, KeyError) as err:
        raise ReportgenError(f"the card's front matter cannot be merged with reportgen's: {err}") from None
    return data


def _as_list(value) -> list:
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _parsed_yaml(text: str, name: str) -> dict:
    import yaml

    try:
        parsed = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as err:
        problem = " ".join(str(err).split())
        raise ReportgenError(f"{name}: its front matter is not YAML: {problem}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ReportgenError(f"{name}: its front matter is not a YAML mapping")
    return parsed


def _read(card: Path) -> str:
    """The card's text exactly as stored (no newline translation); "" for a card not written yet."""
    if not card.exists():
        return ""
    if not card.is_file():
        raise ReportgenError(f"{card} is not a file")
    try:
        return card.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReportgenError(f"{card} is not UTF-8 text (byte {err.start}); reportgen merges only UTF-8 cards") from None
