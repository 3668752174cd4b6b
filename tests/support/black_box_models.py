"""Black-box models for --predict: plain functions from texts to class probabilities, no torch."""

import numpy as np

POSITIVE = ("good", "great", "fine")
NEGATIVE = ("bad", "awful", "dull")


def keyword_probabilities(texts):
    """[negative, positive] from sigmoid(positive words - negative words), words split at whitespace."""
    rows = []
    for text in texts:
        words = [word.strip(".,!?").lower() for word in text.split()]
        score = sum(word in POSITIVE for word in words) - sum(word in NEGATIVE for word in words)
        positive = 1 / (1 + np.exp(-score))
        rows.append([1 - positive, positive])
    return np.array(rows)


def fails_on_boom(texts):
    if any("boom" in text for text in texts):
        raise RuntimeError("cannot score a boom")
    return keyword_probabilities(texts)


def one_column(texts):
    return np.ones((len(texts), 1))


def not_probabilities(texts):
    return np.full((len(texts), 2), 0.9)


def raises(texts):
    raise ConnectionError("the server is down")


NOT_A_FUNCTION = 3
