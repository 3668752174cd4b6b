"""Moving scores between the token axis and the word axis."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def fold_to_words(token_scores: np.ndarray, word_ids: Sequence[int | None], n_words: int) -> np.ndarray:
    """Sum the scores of each word's sub-word tokens; special tokens are dropped."""
    words = np.zeros(n_words, dtype=np.float64)
    for score, word in zip(token_scores, word_ids):
        if word is not None:
            words[word] += score
    return words


def spread_to_tokens(word_scores: np.ndarray, word_ids: Sequence[int | None]) -> np.ndarray:
    """Share each word's score equally among its tokens, so folding gives it back."""
    counts = np.bincount([w for w in word_ids if w is not None], minlength=len(word_scores))
    return np.array(
        [0.0 if w is None else word_scores[w] / counts[w] for w in word_ids], dtype=np.float64
    )
