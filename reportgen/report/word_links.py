"""The words a finding names (the top words and the error words that stand out), each a key the explorer's
word filter lists: a click on the word lists the examples that contain it.

Keys (w0, w1, ...) follow the words' sorted order, so the global explanations and the explorer, which compute
them apart, agree; the page's filter reads only keys and example ids, never a word."""

from __future__ import annotations

from typing import Any

from ..measure.global_words import normal_word
from ..ops.words import joined_contractions
from ..results.records import RunResult
from .figures import metric
from .format import shown


def linked_words(run: RunResult) -> dict[str, str]:
    """word (as the statistics count it) -> its key, for the words the global explanations list."""
    words = {str(r["word"]) for r in (metric(run, "top_words") or {}).get("words", []) if "word" in r}
    errors = metric(run, "error_words") or {}
    tested = "threshold_z" in errors
    words |= {str(r["word"]) for r in errors.get("words", []) if "word" in r and r.get("stands_out", not tested)}
    return {word: f"w{i}" for i, word in enumerate(sorted(words))}


def word_examples(run: RunResult, keys: dict[str, str]) -> dict[str, list[int]]:
    """key -> the dataset indices of the explained examples that contain the word, ascending."""
    found: dict[str, list[int]] = {key: [] for key in keys.values()}
    for ex in sorted(run.examples, key=lambda ex: ex.index):
        if not ex.ok:
            continue
        for word in {normal_word(w) for w, _ in joined_contractions(ex.words)}:
            if word in keys:
                found[keys[word]].append(ex.index)
    return found


def gaps(indices: list[int]) -> list[int]:
    """Ascending indices as the page stores them: the first, then each one's distance from the one before (a
    word most examples hold costs a digit or two per example)."""
    return [b - a for a, b in zip([0, *indices], indices)]


def word_choices(keys: dict[str, str], examples: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The word filter's choices: key, the word as shown and how many examples hold it, alphabetical."""
    return [{"key": key, "word": shown(word), "count": len(examples.get(key, []))} for word, key in keys.items()]


def word_filter(run: RunResult) -> dict[str, Any]:
    """What the explorer's word filter needs: its choices, and which examples hold each word."""
    keys = linked_words(run)
    holders = word_examples(run, keys)
    return {"words": word_choices(keys, holders), "word_index": {key: gaps(found) for key, found in holders.items()}}
