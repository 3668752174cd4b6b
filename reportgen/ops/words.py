"""Moving scores between the token axis and the word axis."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def word_index(word_ids: Sequence[int | None]) -> np.ndarray:
    """Word id per token, -1 for special tokens."""
    return np.array([-1 if w is None else w for w in word_ids], dtype=np.int64)


def fold_to_words(token_scores: np.ndarray, word_ids: Sequence[int | None], n_words: int) -> np.ndarray:
    """Sum the scores of each word's sub-word tokens; special tokens are dropped."""
    index = word_index(word_ids)
    content = index >= 0
    scores = np.asarray(token_scores, dtype=np.float64)[: len(index)]
    return np.bincount(index[content], weights=scores[content], minlength=n_words).astype(np.float64)


def spread_to_tokens(word_scores: Sequence[float], word_ids: Sequence[int | None]) -> np.ndarray:
    """Share each word's score equally among its tokens, so folding gives it back.

    Special tokens, and tokens of a word id beyond ``word_scores`` (a damaged results folder), get 0.
    """
    words = np.asarray(word_scores, dtype=np.float64)
    index = word_index(word_ids)
    content = (index >= 0) & (index < len(words))
    counts = np.bincount(index[content], minlength=len(words))
    tokens = np.zeros(len(index), dtype=np.float64)
    tokens[content] = words[index[content]] / counts[index[content]]
    return tokens


def is_spread(token_scores: np.ndarray, word_scores: np.ndarray, word_ids: Sequence[int | None],
              rtol: float = 1e-9) -> bool:
    """True when the token scores are the word scores shared out by :func:`spread_to_tokens`.

    That is how the engine stores a method that scores words only (its tokens carry no
    scores of their own), so this tells word-level attributions from token-level ones.
    """
    tokens = np.asarray(token_scores, dtype=np.float64)
    words = np.asarray(word_scores, dtype=np.float64)
    index = word_index(word_ids)
    highest = int(index.max()) if len(index) else -1
    if len(tokens) != len(index) or len(words) <= highest:
        return False
    return bool(np.allclose(tokens, spread_to_tokens(words, word_ids), rtol=rtol, atol=0.0, equal_nan=True))


def word_starts(text: str, words: Sequence[str]) -> list[int]:
    """Where each word begins in ``text`` (words are cut from the text in order)."""
    starts, position = [], 0
    for word in words:
        found = text.find(word, position)
        if found < 0:
            raise ValueError(f"the word {word!r} is not in the text where the words before it end")
        starts.append(found)
        position = found + len(word)
    return starts


def without_words(text: str, words: Sequence[str], removed: set[int]) -> str:
    """``text`` with the characters of the words numbered in ``removed`` deleted (the space around them kept)."""
    starts = word_starts(text, words)
    pieces, at = [], 0
    for word in sorted(removed):
        pieces.append(text[at: starts[word]])
        at = starts[word] + len(words[word])
    return "".join(pieces) + text[at:]


APOSTROPHES = ("'", "\u2019")
CLITICS = frozenset({"t", "s", "re", "ve", "ll", "d", "m"})  # what follows the apostrophe of an English contraction


def joined_contractions(words: Sequence[str]) -> list[tuple[str, list[int]]]:
    """The words as a reader counts them, each with the positions it covers: a contraction that the tokenizer
    split at its apostrophe ("don", "'", "t") is one word again ("don't"); every other word is itself."""
    joined: list[tuple[str, list[int]]] = []
    i = 0
    while i < len(words):
        if (i + 2 < len(words) and words[i + 1].strip() in APOSTROPHES and words[i + 2].strip().lower() in CLITICS
                and words[i].strip()[-1:].isalpha()):
            joined.append((words[i].strip() + "'" + words[i + 2].strip(), [i, i + 1, i + 2]))
            i += 3
        else:
            joined.append((words[i], [i]))
            i += 1
    return joined
