"""Human rationales (--rationale-column): the words of each example that people marked as its evidence.

A cell gives them in one of three forms, told apart cell by cell: word indices, a JSON list of whole numbers such
as ``[0, 3, 4]`` (or a real list, in JSONL or Parquet), into the example's words as reportgen splits them
(Example.words); character spans, a JSON list of ``[start, end)`` pairs such as ``[[0, 5], [10, 14]]``, into the
example's text; or the text itself with the evidence between double brackets, ``the [[very good]] film``, which
without its brackets must be the example's text. A missing or blank cell is no rationale. A cell that fits none of
these is the row's rationale error: the example is still explained, and the plausibility statistic counts it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..ops.numbers import is_whole
from .labels import is_missing

OPEN, CLOSE = "[[", "]]"
MARKS = re.compile(r"(\[\[|\]\])")
FORMS = "a JSON list of word indices or of [start, end] character spans, or the text with [[...]] around the evidence"


@dataclass(frozen=True)
class Rationale:
    """One row's rationale as its cell gives it: word indices (``words``), or character spans of the text
    (``spans``, given as spans or as marked text); or, for a cell that cannot be read, why (``error``)."""

    words: tuple[int, ...] | None = None
    spans: tuple[tuple[int, int], ...] | None = None
    error: str | None = None


def read_rationales(cells: Sequence[Any], texts: Sequence[str]) -> list[Rationale | None]:
    """Each cell as the rationale of its row's text (None: the row has none)."""
    return [read_rationale(cell, text) for cell, text in zip(cells, texts)]


def read_rationale(cell: Any, text: str) -> Rationale | None:
    """A cell as the rationale of ``text``: None for a missing or blank cell, else a Rationale (holding its error
    when the cell fits none of the forms)."""
    if isinstance(cell, (list, tuple, np.ndarray)):
        return _from_list(_plain(cell), text)
    if is_missing(cell):
        return None
    if not isinstance(cell, str):
        return Rationale(error=f"the rationale is of type {type(cell).__name__}, not {FORMS}")
    if not cell.strip():
        return None
    if cell.lstrip().startswith("["):
        try:
            value = json.loads(cell)
        except (ValueError, RecursionError):  # not JSON: marked text that starts with its evidence
            value = None
        if isinstance(value, list):
            return _from_list(value, text)
    return _from_marks(cell, text)


def word_rationale(rationale: Rationale | None, text: str, words: Sequence[str],
                   segments: Sequence[int] | None = None) -> tuple[list[int] | None, str | None]:
    """A rationale as the sorted indices of the example's ``words`` it marks, and why it cannot be (None, reason).
    A character span marks every word of the text (segment 0) it overlaps."""
    if rationale is None:
        return None, None
    if rationale.error is not None:
        return None, rationale.error
    if rationale.words is not None:
        outside = [index for index in rationale.words if index >= len(words)]
        if outside:
            return None, (f"the rationale's word index {outside[0]} is beyond the example's {len(words)} words "
                          "(the first is 0)")
        return list(rationale.words), None
    spans = word_spans(text, words, segments)
    marked = {word for word, span in enumerate(spans) if span is not None
              and any(span[0] < end and start < span[1] for start, end in rationale.spans)}
    return sorted(marked), None


def word_spans(text: str, words: Sequence[str], segments: Sequence[int] | None = None) -> list[tuple[int, int] | None]:
    """Where each word stands in ``text``, [start, end) (None for a word of the second text, or one the text does
    not spell): the tokenizer's words are pieces of the text in order, found one after the other."""
    spans: list[tuple[int, int] | None] = []
    position = 0
    for index, word in enumerate(words):
        start = text.find(word, position) if word and (segments is None or segments[index] == 0) else -1
        if start < 0:
            spans.append(None)
            continue
        position = start + len(word)
        spans.append((start, position))
    return spans


def _plain(value: Any) -> Any:
    """Arrays and tuples (Parquet's and JSONL's lists), nested ones too, as lists; anything else as it is."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _from_list(value: list, text: str) -> Rationale:
    """A list of word indices (an empty list: nothing marked) or of character spans of ``text``."""
    if all(is_whole(item) for item in value):
        negative = next((item for item in value if item < 0), None)
        if negative is not None:
            return Rationale(error=f"the rationale's word index {negative} is negative")
        return Rationale(words=tuple(sorted({int(item) for item in value})))
    if not all(isinstance(item, list) and len(item) == 2 and all(map(is_whole, item)) for item in value):
        return Rationale(error="the rationale's list holds neither word indices (whole numbers) nor [start, end] "
                               "character spans")
    for start, end in value:
        if not 0 <= start <= end <= len(text):
            return Rationale(error=f"the rationale's span [{start}, {end}] is not within the text's {len(text)} "
                                   "characters")
    return Rationale(spans=tuple((int(start), int(end)) for start, end in value))


def _from_marks(cell: str, text: str) -> Rationale:
    """Text with [[...]] around its evidence: the marked parts as spans of the text without the marks, which must
    be the example's text."""
    pieces, spans, opened, length, position = [], [], None, 0, 0
    for part in MARKS.split(cell):
        if part == OPEN and opened is None:
            opened = length
        elif part == CLOSE and opened is not None:
            spans.append((opened, length))
            opened = None
        elif part in (OPEN, CLOSE):
            return Rationale(error=f"the rationale's {OPEN} and {CLOSE} marks do not pair up: {part} at character "
                                   f"{position} of the cell")
        else:
            pieces.append(part)
            length += len(part)
        position += len(part)
    if opened is not None:
        return Rationale(error=f"the rationale's last {OPEN} is never closed by {CLOSE}")
    unmarked = "".join(pieces)
    if unmarked != text:
        return Rationale(error=f"the rationale is not {FORMS}: without its marks it differs from the example's "
                               f"text at character {_first_difference(unmarked, text)}")
    return Rationale(spans=tuple(spans))


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
