"""Questions every stage after explaining asks of a run: which examples count, the class names, the methods."""

from __future__ import annotations

from typing import Any, Iterable

from .records import Example, RunResult

MISSING_GROUP = "(missing)"


def explained(run: RunResult) -> list[Example]:
    """Examples (for a per-label task: units) the model answered: no error and a prediction."""
    return [ex for ex in run.examples if ex.error is None and ex.answered]


def input_rows(run: RunResult) -> list[Example]:
    """One example per input row, in order: the examples themselves, or for a per-label task (whose
    examples are units, several to a row) each row's first unit, which holds what its units share."""
    seen: set[int] = set()
    first = []
    for ex in run.examples:
        if ex.row not in seen:
            seen.add(ex.row)
            first.append(ex)
    return first


def scored(run: RunResult) -> list[Example]:
    """Examples with both a label and a prediction: the ones model metrics count."""
    return [ex for ex in explained(run) if ex.label is not None]


def pair_start(ex: Example) -> tuple[int, int] | None:
    """Where an example's second text begins: the index of its first word and the position of its first
    token; None for an example of one text, or whose second text has no word or token left."""
    segments = ex.word_segments or []
    first_word = next((w for w, segment in enumerate(segments) if segment == 1), None)
    first_token = next((i for i, w in enumerate(ex.word_ids) if w == first_word), None)
    if first_word is None or first_token is None:
        return None
    return first_word, first_token


def example_counts(run: RunResult) -> dict[str, int]:
    """How many input rows the run holds, failed, lack a label, and are scored."""
    rows = input_rows(run)
    return {
        "examples": len(rows),
        "failed": sum(ex.error is not None for ex in rows),
        "unlabeled": sum(ex.error is None and not ex.has_label for ex in rows),
        "scored": sum(ex.error is None and ex.answered and ex.has_label for ex in rows),
    }


def class_names(run: RunResult) -> list[str]:
    """The model's class names, extended with ids as names if examples use ids beyond them."""
    names = [str(name) for name in run.labels]
    ids = [v for ex in run.examples for v in (ex.label, ex.prediction, ex.target) if v is not None]
    for i in range(len(names), (max(ids) + 1) if ids else 0):
        names.append(str(i))
    return names


def methods_with_scores(run: RunResult) -> list[str]:
    """Methods with attributions, in the run's method order (then any others, sorted)."""
    known = [name for name in run.methods if run.attributions.get(name)]
    extra = sorted(name for name in run.attributions if name not in run.methods and run.attributions[name])
    return known + extra


def groups_of(examples: Iterable[Example]) -> list[str] | None:
    """The sorted group names when any example has a group, else None."""
    names = {ex.group for ex in examples}
    if names == {None} or not names:
        return None
    return sorted(group_name(name) for name in names)


def group_name(group: Any) -> str:
    return MISSING_GROUP if group is None else str(group)


def review_key(ex: Example) -> tuple[int, float, int]:
    """Sort key: misclassified examples first, most confident first; then every other explained example, least
    confident first; failed examples last; ties by dataset index."""
    confidence = max(ex.probabilities) if ex.probabilities else None
    if confidence is None or not ex.ok:
        return (2, 0.0, ex.index)
    if ex.correct is False:
        return (0, -confidence, ex.index)
    return (1, confidence, ex.index)
