"""Tags of token-classification data: per row, one tag per whitespace-separated word of its text, given as a
list of tag names or ids, or as character spans of entities turned into IOB2 tags."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np

from ..errors import ReportgenError, printable
from ..ops.names import label_key
from ..ops.entities import spans_to_word_tags
from .labels import label_id_of, listed_labels, is_missing

NOT_LISTED = ("the tags hold one label per row, and token classification needs a list of tags per word: a JSON "
              "list of tag names or ids, one per whitespace-separated word, or a JSON list of character spans "
              '{"start", "end", "label"}')


def read_tag_lists(values: Sequence[Any], texts: Sequence[Any],
                   tag_names: Sequence[str]) -> tuple[list[list[int] | None], dict[int, str]]:
    """Per row, the tag id of each of its text's words (None: no tags given), and the rows whose tags cannot be
    read, with why. A cell is a JSON list (or a list cell of JSONL or Parquet) of tag names or ids, one per
    word of ``text.split()``, or of character spans ``{"start", "end", "label"}`` (an empty list: no entity).
    Data in which no row is a list (one label per row) is refused in one line, as is data in which no row's
    tags can be read."""
    if len(values) != len(texts):
        raise ValueError(f"{len(values)} tag cells for {len(texts)} texts")
    reader = _TagReader(tag_names)
    tags: list[list[int] | None] = []
    problems: dict[int, str] = {}
    listed = False
    for row, (value, text) in enumerate(zip(values, texts)):
        if is_missing(value):
            tags.append(None)
            continue
        items, as_list, problem = cell_items(value)
        listed = listed or as_list
        row_tags = None
        if problem is None:
            row_tags, problem = reader.row(items, text if isinstance(text, str) else "")
        tags.append(row_tags)
        if problem is not None:
            problems[row] = problem
    given = sum(row_tags is not None for row_tags in tags) + len(problems)
    if given and not listed:
        raise ReportgenError(NOT_LISTED)
    if given and len(problems) == given:
        row, problem = next(iter(problems.items()))
        raise ReportgenError(f"no row's tag list can be read; row {row}: {problem}")
    return tags, problems


def cell_items(value: Any) -> tuple[list[Any], bool, str | None]:
    """The items of one cell (numpy scalars as Python values), whether it was given as a list, and why it
    cannot be read (or None)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [item.item() if isinstance(item, np.generic) else item for item in value], True, None
    if isinstance(value, str) and value.strip().startswith("["):
        text = value.strip()
        try:
            parsed = json.loads(text)
        except ValueError as err:
            return [], True, f"tag list {printable(repr(text), 60)} does not parse as JSON: {err.msg}"
        if not isinstance(parsed, list):
            return [], True, f"tag list {printable(repr(text), 60)} is not a JSON list"
        return parsed, True, None
    return [], False, f"tags {printable(repr(value), 60)} are not a list of tags per word"


class _TagReader:
    """Reads one row's items as tag ids of its words: tag names (the exact name, else any case) or ids, or spans."""

    def __init__(self, tag_names: Sequence[str]):
        self.names = list(tag_names)
        self.exact = {str(name): i for i, name in reversed(list(enumerate(self.names)))}
        self.by_key = {label_key(name): i for i, name in reversed(list(enumerate(self.names)))}

    def row(self, items: list[Any], text: str) -> tuple[list[int] | None, str | None]:
        if not items and not text.split():
            return [], None
        spans = [isinstance(item, Mapping) for item in items]
        if all(spans):  # an empty list too: a row without any entity
            return self.from_spans(items, text)
        if any(spans):
            return None, "the tag list mixes character spans with tags"
        return self.from_tags(items, len(text.split()))

    def from_spans(self, items: list[Any], text: str) -> tuple[list[int] | None, str | None]:
        try:
            return spans_to_word_tags(text, items, self.names), None
        except ValueError as err:
            return None, str(err)

    def from_tags(self, items: list[Any], n_words: int) -> tuple[list[int] | None, str | None]:
        if any(isinstance(item, (list, tuple, np.ndarray)) for item in items):
            return None, "the tag list is not a flat list of tags"
        if len(items) != n_words:
            return None, f"the tag list holds {_count(len(items), 'tag')} for the {_count(n_words, 'word')}"
        ids = [self.tag_id(item) for item in items]
        unknown = [item for item, tag in zip(items, ids) if tag is None]
        if unknown:
            return None, (f"tag {printable(repr(unknown[0]), 60)} is not one of the model's tags: "
                          f"{listed_labels(self.names)} (or ids 0-{len(self.names) - 1})")
        return ids, None  # type: ignore[return-value] - no id is None here

    def tag_id(self, item: Any) -> int | None:
        if isinstance(item, str) and item in self.exact:
            return self.exact[item]
        return label_id_of(item, self.by_key, len(self.names))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
