"""What the explorer's heatmaps show, said once: in the explorer's definitions and in the methodology; and what an
example shows of its human rationale."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...measure.plausibility import marks_words
from ...ops.ranking import ranking
from ...results.records import Example, RunResult
from ..format import shown

_TOKEN_NOTE = (
    "Each row is one method's scores for the target class (the predicted class unless the run used the "
    "labels), divided by the largest absolute score that method gives a real token of this example (special "
    "tokens such as [CLS] and [SEP] left out), so colours compare positions within a method, not methods with "
    "each other: red supports the target class, blue speaks against it, white is 0. A special token scored "
    "beyond that largest value is clamped to full colour (attention and rollout often park most of their "
    "weight on them, which would otherwise leave every word near white); its tooltip says so. Methods that "
    "only give non-negative scores (attention, rollout, saliency) can only be red. Hover a cell for the raw "
    "score (rounded to {digits} significant digits)."
)
WORD_NOTE = (
    "The same scores summed over each word's sub-word tokens, each row again divided by its largest absolute "
    "value. Word-level methods (LIME) score words directly; their token scores share each word's score "
    "equally, so the sum gives the word score back."
)
HIGHLIGHT_NOTE = (
    "An opened example shows its words coloured by one method's word scores (as in words x methods: summed "
    "over each word's tokens, divided by the largest absolute word score of the example): red supports the "
    "target class, blue speaks against it, the stronger the colour the larger the share. The \"highlight\" "
    "box picks the method for every example; it starts on the most faithful one (largest comprehensiveness "
    "lift over the random control). Hover a word for its score. A misclassified example also shows its words "
    "coloured for the other of its true and predicted classes, by the same method (why this class and not "
    "that); attention, rollout and the random control give every class the same scores and have no such line."
)
PAIR_NOTE = (
    "Each example reads two texts, shown as \"Text\" and \"Pair\". The heatmaps hold the tokens and words of "
    "both, the text's first; a dashed vertical line marks where the pair begins, and a cell's tooltip names "
    "its segment. Separator and other special tokens belong to neither text's words and are never removed."
)
LAYER_NOTE = (
    "Attribution mass of every layer's output per token (integrated gradients with each layer's output "
    "as the input, summed over the hidden dimension), divided by the largest absolute value over the real "
    "tokens of the whole matrix; special tokens beyond it are clamped to full colour, as above."
)
ATTENTION_NOTE = (
    "Query x key attention weights (each row sums to 1) of the selected layer and head, or their mean over "
    "heads; the colour scale runs from 0 to the largest weight shown, on a square root so small weights stay "
    "visible. Weights are stored rounded to 0.001, as whole thousandths in one row per layer and head. Below "
    "it, every head of the chosen layer as small multiples on one colour scale (a static grid, as bertviz's "
    "head view): a head that attends sharply stands out from one that spreads its weight."
)

RATIONALE_NOTE = (
    "An example with a human rationale (--rationale-column) lists the words people marked as its evidence, in "
    "text order, and under them each method's top k words for the explained class, k the rationale's size, "
    "highest score first (ranked as the plausibility statistic ranks them); a top word that people marked too is "
    "in bold. An example whose rationale could not be read says why."
)


def rationale_fields(run: RunResult, ex: Example, methods: list[str]) -> dict[str, Any] | None:
    """What the explorer shows of an example's human rationale: its words and each method's top k words (each
    with whether it is marked), or why the rationale could not be read; None for an example without one."""
    if ex.rationale_error is not None:
        return {"error": shown(ex.rationale_error), "words": [], "methods": []}
    if not marks_words(ex):
        return None
    marked = set(ex.rationale)
    entry = run.metrics.get("plausibility")
    absolute = isinstance(entry, dict) and isinstance(entry.get("params"), dict) and entry["params"].get(
        "absolute") is True
    tops = []
    for method in methods:
        attribution = run.attributions[method].get(ex.index)
        if attribution is None or len(attribution.words) != len(ex.words):
            continue
        scores = np.asarray(attribution.words, dtype=np.float64)
        top = ranking(np.abs(scores) if absolute else scores)[: len(marked)]
        tops.append({"method": method, "words": [(shown(ex.words[word]), word in marked) for word in top]})
    return {"error": None, "words": [shown(ex.words[word]) for word in ex.rationale], "methods": tops}


def token_note(digits: int) -> str:
    """The tokens x methods note, with the significant digits its tooltips show (report.pages.score_digits)."""
    return _TOKEN_NOTE.format(digits=digits)


def kept_maps_note(run: Any, kept: int) -> str:
    """Which examples have full attention maps, within which bounds, and how many were passed over for size
    (explain/maps.py); '' for a run that keeps none by design."""
    limit, budget = (_whole(run.config.get(key)) for key in ("attention_maps", "attention_budget"))
    if limit is None:
        return ""
    passed = sum(1 for a in run.attributions.get("attention", {}).values() if "maps_too_large" in a.extra)
    bounds = f"at most {limit} examples (RunConfig.attention_maps)"
    if budget is not None:
        bounds += (f" and at most {budget:,} attention weights in all (RunConfig.attention_budget; an example "
                   "holds layers x heads x n² of them for n tokens)")
    passed_text = "" if not passed else (
        f" {passed} example{'s were' if passed != 1 else ' was'} passed over: {'their' if passed != 1 else 'its'} "
        "maps did not fit in what was left of the budget.")
    return (f"Full attention maps (every layer and head) are kept for {kept} examples: the first in the explorer's "
            "review order (misclassified examples, the most confident first, then the least confident), each read "
            f"whole, {bounds}.{passed_text} Other examples have no attention heatmap in the explorer.")


def _whole(value: Any) -> int | None:
    """A setting read back from the results as the whole number it must be, else None (a tampered folder)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
