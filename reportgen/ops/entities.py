"""Entities of a token-classification model (NER, POS): grouped from its per-token tags the way transformers'
TokenClassificationPipeline groups them with ``aggregation_strategy="simple"``, read per word, and made from
character spans of the data.

The pipeline's "simple" grouping, which :func:`entities_from_tokens` follows: special tokens are skipped; a
token continues the entity before it when its tag is not a B- tag and has the entity's type (``I-PER`` after
``B-PER`` or ``I-PER``); anything else starts a new one (``B-PER`` after ``B-PER``, ``I-PER`` after ``O`` or
after ``I-LOC``). A tag without a B-/I- prefix is a continuation of its own type (``PER PER`` is one entity,
and so is ``B-PER PER``). Runs of ``O`` group like a type and are dropped. An entity is named after its
first tag with everything up to the first '-' cut off, and its score is the mean of its tokens' scores.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import printable
from .numbers import is_whole
from .names import label_key

OUTSIDE = "O"  # the tag of words outside every entity (the pipeline's default ignore label)
PREFIXES = ("B-", "I-")


@dataclass(frozen=True)
class Entity:
    """One entity the model tags: its type, its tokens ``start`` to ``end`` (exclusive), the mean of their
    scores, each token's tag id, its words ``(first, last + 1)`` and its tokens' positions."""

    type: str
    start: int
    end: int
    score: float
    tags: tuple[int, ...]
    words: tuple[int, int]
    positions: tuple[int, ...] = ()  # the position of each of its tokens (a skipped special token can sit inside)


def tag_parts(name: str) -> tuple[str, str]:
    """How the pipeline reads a tag: ('B' or 'I', its type); a tag without a B-/I- prefix continues its own type."""
    if name.startswith(PREFIXES):
        return name[0], name[2:]
    return "I", name


def continues(previous: str, current: str) -> bool:
    """Whether a token tagged ``current`` joins the group of the token tagged ``previous`` before it."""
    prefix, kind = tag_parts(current)
    return prefix != "B" and kind == tag_parts(previous)[1]


def entities_from_tokens(tag_names: Sequence[str], tag_ids: Sequence[int], scores: Sequence[float],
                         word_ids: Sequence[int | None]) -> list[Entity]:
    """The entities of one text from each token's predicted tag id and its score (the softmax probability of
    that tag); tokens whose word id is None (special tokens) are skipped, as the pipeline skips them."""
    _check_tokens(tag_names, tag_ids, scores, word_ids)
    groups: list[list[int]] = []
    for position, word in enumerate(word_ids):
        if word is None:
            continue
        name = tag_names[tag_ids[position]]
        if groups and continues(tag_names[tag_ids[groups[-1][-1]]], name):
            groups[-1].append(position)
        else:
            groups.append([position])
    entities = [_entity(group, tag_names, tag_ids, scores, word_ids) for group in groups]
    return [entity for entity in entities if entity.type != OUTSIDE]


def _check_tokens(tag_names: Sequence[str], tag_ids: Sequence[int], scores: Sequence[float],
                  word_ids: Sequence[int | None]) -> None:
    if not len(tag_ids) == len(scores) == len(word_ids):
        raise ValueError(f"{len(tag_ids)} tags and {len(scores)} scores for {len(word_ids)} tokens")
    for position, (tag, word) in enumerate(zip(tag_ids, word_ids)):
        if word is not None and not (is_whole(tag) and 0 <= tag < len(tag_names)):
            raise ValueError(f"token {position} has tag {printable(repr(tag), 40)}, not one of the "
                             f"{len(tag_names)} tag ids")


def _entity(group: list[int], tag_names: Sequence[str], tag_ids: Sequence[int], scores: Sequence[float],
            word_ids: Sequence[int | None]) -> Entity:
    words = [int(word_ids[p]) for p in group]  # type: ignore[arg-type] - special tokens are in no group
    return Entity(type=tag_names[tag_ids[group[0]]].split("-", 1)[-1], start=group[0], end=group[-1] + 1,
                  score=_nan_mean([float(scores[p]) for p in group]), tags=tuple(int(tag_ids[p]) for p in group),
                  words=(min(words), max(words) + 1), positions=tuple(group))


def _nan_mean(values: list[float]) -> float:
    """The mean of the values that are not NaN (NaN when all are), as numpy's nanmean, without its warning."""
    kept = [v for v in values if not np.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def word_tags(tag_ids_per_token: Sequence[int], word_ids: Sequence[int | None], n_words: int) -> list[int | None]:
    """Each word's tag: its first token's; None for a word without any token (truncated away)."""
    if len(tag_ids_per_token) != len(word_ids):
        raise ValueError(f"{len(tag_ids_per_token)} tags for {len(word_ids)} tokens")
    tags: list[int | None] = [None] * n_words
    for tag, word in zip(tag_ids_per_token, word_ids):
        if word is None:
            continue
        if not 0 <= word < n_words:
            raise ValueError(f"word id {word} is outside the text's {n_words} words")
        if tags[word] is None:
            tags[word] = int(tag)
    return tags


def word_offsets(text: str) -> list[tuple[int, int]]:
    """The character start and end of each of ``text.split()``'s words."""
    offsets, start = [], None
    for i, char in enumerate(text):
        if char.isspace():
            if start is not None:
                offsets.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None:
        offsets.append((start, len(text)))
    return offsets


def spans_to_word_tags(text: str, spans: Sequence[Mapping[str, Any]], tag_names: Sequence[str]) -> list[int]:
    """IOB2 tag ids of ``text.split()``'s words from character spans ``{"start", "end", "label"}`` (end
    exclusive, label an entity type such as "PER"): a word in a span (overlapping it) is tagged I-type, B-type
    the first word of each span, and O outside every span. A span that is malformed, out of the text, of a
    type without both a B- and an I- tag, covering no word or overlapping another raises ValueError."""
    tags = _TagIds(tag_names)
    outside = tags.find(OUTSIDE, "the model has no tag 'O' for the words outside the spans")
    offsets = word_offsets(text)
    starts, ends = [ws for ws, _ in offsets], [we for _, we in offsets]
    word_tag = [outside] * len(offsets)
    read = sorted((_read_span(i, span, len(text)) for i, span in enumerate(spans)), key=lambda s: (s[1], s[2]))
    last: tuple[int, int, int] | None = None  # the previous span's index, end and last word
    for index, start, end, label in read:
        first, stop = bisect_right(ends, start), bisect_left(starts, end)  # the words overlapping [start, end)
        if first >= stop:
            raise ValueError(f"span {index} ({start}-{end}) covers no word")
        if last is not None and (start < last[1] or first <= last[2]):
            raise ValueError(f"span {index} ({start}-{end}) overlaps span {last[0]}")
        unknown = (f"span {index} has type {printable(repr(label), 40)}, which has no B- and I- tag among the "
                   "model's tags")
        begin, inside = tags.find(f"B-{label}", unknown), tags.find(f"I-{label}", unknown)
        word_tag[first:stop] = [begin] + [inside] * (stop - first - 1)
        last = (index, end, stop - 1)
    return word_tag


def _read_span(index: int, span: Any, length: int) -> tuple[int, int, int, str]:
    """(index, start, end, label) of a span, checked: a mapping of whole offsets within the text and a label."""
    if not isinstance(span, Mapping) or not {"start", "end", "label"} <= set(span):
        raise ValueError(f"span {index} is not an object with start, end and label")
    start, end, label = span["start"], span["end"], span["label"]
    if not (is_whole(start) and is_whole(end)):
        raise ValueError(f"span {index} has start {printable(repr(start), 30)} and end "
                         f"{printable(repr(end), 30)}; both must be whole numbers")
    if not 0 <= start < end <= length:
        raise ValueError(f"span {index} ({start}-{end}) is not within the text's {length} characters")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"span {index} has label {printable(repr(label), 40)}, not an entity type")
    return index, int(start), int(end), label.strip()


class _TagIds:
    """Tag ids by name: the exact name first, then any case (as labels are matched)."""

    def __init__(self, tag_names: Sequence[str]):
        self.exact = {str(name): i for i, name in reversed(list(enumerate(tag_names)))}
        self.by_key = {label_key(name): i for i, name in reversed(list(enumerate(tag_names)))}

    def find(self, name: str, problem: str) -> int:
        found = self.exact.get(name, self.by_key.get(label_key(name)))
        if found is None:
            raise ValueError(problem)
        return found
