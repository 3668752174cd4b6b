"""The explorer's highlighted text: which methods the highlight box offers, and an error's contrast (its words
coloured for the class it was not explained for, from ``extra["contrast"]``, see explain/contrast.py)."""

from __future__ import annotations

import math
from typing import Any

from ...ops.numbers import sigs
from ...ops.words import spread_to_tokens
from ...results.records import Example, RunResult
from ..format import label_name
from .global_words import faithfulness_order

CONTROL = "random"  # offered last in the highlight box, and left out of the methods' disagreement


def highlight_choices(run: RunResult, methods: list[str]) -> list[dict[str, Any]]:
    """The methods the text can be highlighted by (their keys in the data rows, m0, m1, ...), the most faithful
    first; the random control is offered last. The first is the one shown at first."""
    keys = {method: f"m{i}" for i, method in enumerate(methods)}
    chosen = faithfulness_order(run, [m for m in methods if m != CONTROL]) + [m for m in methods if m == CONTROL]
    return [{"key": keys[m], "name": m} for m in chosen]


def contrast_scores(ex: Example, contrast: Any, spread: bool) -> list[float] | None:
    """One method's token scores of an error's contrast class, or None where the stored contrast does not fit
    the example (a damaged or hostile results folder). A word-level method's word scores are spread."""
    if not isinstance(contrast, dict):
        return None
    values = contrast.get("words") if spread else contrast.get("tokens")
    wanted = len(ex.words) if spread else len(ex.tokens)
    if not isinstance(values, list) or len(values) != wanted:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    if spread:
        return spread_to_tokens([v if math.isfinite(v) else 0.0 for v in values], ex.word_ids).tolist()
    return [float(v) for v in values]


def contrast_fields(run: RunResult, ex: Example, methods: list[str], overrides: frozenset[str],
                    row: dict[str, Any], digits: int) -> dict[str, Any]:
    """Adds each method's contrast scores to the example's data row (c0, c1, ...) and returns what the article
    says of the contrast class: its name and whether it is the true class (empty without a contrast)."""
    target = None
    for i, method in enumerate(methods):
        attribution = run.attributions[method].get(ex.index)
        contrast = attribution.extra.get("contrast") if attribution is not None else None
        scores = contrast_scores(ex, contrast, f"m{i}" in overrides)
        if scores is not None and isinstance(contrast.get("target"), int):
            row[f"c{i}"] = sigs(scores, digits)
            target = contrast["target"]
    if target is None:
        return {}
    return {"contrast": label_name(run, target), "contrast_is_true": target == ex.label}
