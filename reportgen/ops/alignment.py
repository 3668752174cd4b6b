"""Word alignments: gold links in Pharaoh format, the argmax alignment of a source x target score matrix, and
the alignment error rate (AER, Och & Ney 2003) between them.

Pharaoh format: space-separated links ``i-j`` from source word i to target word j (whitespace words, numbered
from 0); ``i?j`` marks a link as possible rather than sure. Every sure link is also possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

LINK = re.compile(r"(\d+)([-?])(\d+)")


@dataclass(frozen=True)
class Gold:
    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]]  # the sure links and those marked possible


def parse_pharaoh(text: str) -> Gold:
    """The links of one Pharaoh line; ValueError naming the first piece that is not a link."""
    sure, possible = set(), set()
    for piece in text.split():
        found = LINK.fullmatch(piece)
        if found is None:
            raise ValueError(f"{piece[:40]!r} is not a Pharaoh link 'i-j' (or 'i?j')")
        link = (int(found.group(1)), int(found.group(3)))
        possible.add(link)
        if found.group(2) == "-":
            sure.add(link)
    return Gold(frozenset(sure), frozenset(possible))


def normalised_pharaoh(text: str) -> str:
    """One Pharaoh line with its links in order and single spaces (ValueError if it is not one)."""
    gold = parse_pharaoh(text)
    return " ".join(f"{i}{'-' if (i, j) in gold.sure else '?'}{j}" for i, j in sorted(gold.possible))


def whitespace_word_of_chars(text: str) -> list[int | None]:
    """Per character of ``text``, the number of its whitespace word (None for whitespace)."""
    owners: list[int | None] = []
    word, inside = -1, False
    for char in text:
        if char.isspace():
            owners.append(None)
            inside = False
            continue
        if not inside:
            word, inside = word + 1, True
        owners.append(word)
    return owners


def source_words(prompt: str, source_at: int, source: str, words: Sequence[str],
                 word_ids: Sequence[int | None]) -> list[int | None]:
    """Per token, the whitespace word of ``source`` it belongs to (None: a special token, or one of the text
    around the source). ``words`` are the tokenizer's words, substrings of ``prompt`` in order; the source
    starts at character ``source_at`` of the prompt."""
    owners = whitespace_word_of_chars(source)
    word_of: dict[int, int | None] = {}
    cursor = 0
    for w, word in enumerate(words):
        found = prompt.find(word, cursor) if word else -1
        if found < 0:
            word_of[w] = None
            continue
        cursor = found + len(word)
        inside = [owners[c - source_at] for c in range(found, cursor) if 0 <= c - source_at < len(owners)]
        word_of[w] = next((owner for owner in inside if owner is not None), None)
    return [None if w is None else word_of.get(w) for w in word_ids]


def output_words_of(pieces: Sequence[str], reference: str) -> list[int | None] | None:
    """Per output token, the whitespace word of ``reference`` it spells (None: it spells no character), from
    ``pieces``, the output decoded up to and with each token; None when the output does not spell the
    reference's characters (spaces aside)."""
    letters = [char for char in reference if not char.isspace()]
    owners = [owner for owner in whitespace_word_of_chars(reference) if owner is not None]
    spelled = ["".join(piece.split()) for piece in pieces]
    if not spelled or spelled[-1] != "".join(letters):
        return None
    words: list[int | None] = []
    before = 0
    for text in spelled:
        words.append(owners[before] if len(text) > before else None)
        before = max(before, len(text))
    return words


def word_matrix(scores: np.ndarray, source_of: Sequence[int | None], target_of: Sequence[int | None],
                sources: int, targets: int) -> np.ndarray:
    """A target x source matrix of absolute token scores over words: a source word's tokens are summed, a
    target word's tokens averaged (rows of ``scores``: output tokens; columns: source tokens)."""
    summed = np.zeros((len(scores), sources))
    for column, word in enumerate(source_of):
        if word is not None and word < sources:
            summed[:, word] += np.abs(scores[:, column])
    matrix = np.zeros((targets, sources))
    counts = np.zeros(targets)
    for row, word in enumerate(target_of):
        if word is not None and word < targets:
            matrix[word] += summed[row]
            counts[word] += 1
    return matrix / np.maximum(counts, 1)[:, None]


def argmax_links(matrix: np.ndarray) -> set[tuple[int, int]]:
    """Each target word linked to the source word of its largest score (a row of zeros links nothing)."""
    return {(int(row.argmax()), j) for j, row in enumerate(matrix) if row.max() > 0}


def aer_counts(links: set[tuple[int, int]], gold: Gold) -> np.ndarray:
    """|A & S|, |A & P|, |A| and |S| of one sentence: what the corpus AER sums."""
    return np.array([len(links & gold.sure), len(links & gold.possible), len(links), len(gold.sure)], dtype=float)


def aer(counts: np.ndarray) -> float | None:
    """AER = 1 - (|A & S| + |A & P|) / (|A| + |S|) of summed counts (None when both are empty)."""
    both, possible, predicted, sure = counts
    return None if predicted + sure == 0 else float(1 - (both + possible) / (predicted + sure))
