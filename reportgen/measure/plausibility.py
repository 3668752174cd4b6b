"""Plausibility (ERASER, DeYoung et al. 2020): how well each method's word scores pick out the words that people
marked as an example's evidence (human rationales, --rationale-column). It says nothing of whether the model
uses those words: that is faithfulness, shown beside it."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import printable
from ..ops.params import Flag
from ..ops.ranking import ranking
from ..ops.stats import mean, ratio, standard_error
from ..results.queries import class_names, explained, input_rows, methods_with_scores
from ..results.records import Example, RunResult
from .base import Column, Metric, Panel, Table, defined, metrics

MEASURES = ("precision", "recall", "f1", "iou", "auprc")
SHOWN_INVALID = 5  # rationales that could not be read, listed with their reasons (all are counted)
DEFINITIONS = {
    "rationale": (
        "A human rationale is the set R of an example's words (Example.words) that people marked as the evidence "
        "for its label, read from the data's rationale column as word indices, as character spans (each marks "
        "every word it overlaps) or as the text with [[...]] around the evidence. Only explained examples whose "
        "rationale marks at least one word count; each is scored for its explained class (the target)."
    ),
    "token_f1": (
        "Token-level F1 at the rationale's length: the method's top k words, k = |R|, ranked by word score "
        "(signed, unless the parameter absolute is true: then by absolute value), highest first, ties in word "
        "order, NaN last (as faithfulness ranks). precision = |top-k ∩ R| / k, recall = |top-k ∩ R| / |R|, F1 "
        "their harmonic mean (0 when both are 0); as the sizes are equal, precision = recall = F1."
    ),
    "iou": "IOU = |top-k ∩ R| / |top-k ∪ R|, with the same top k words.",
    "auprc": (
        "AUPRC: the average precision of the word scores as a ranking of R, as scikit-learn's "
        "average_precision_score computes it: the precision at each distinct score, highest first (tied words "
        "taken together), weighted by the recall it adds; NaN scores rank last. It reads every word's score, not "
        "only the top k; a random ranking scores about |R| / words."
    ),
    "aggregation": (
        "Each value is the mean over the examples, with its standard error (sample standard deviation / √n); "
        "by_class gives the same per explained class. Comprehensiveness is the faithfulness statistic's, over its "
        "own examples."
    ),
}
CAUTION = ("Plausibility asks whether a method points at the words people would point at; faithfulness "
           "(comprehensiveness) asks whether the model uses the words the method points at: they answer different "
           "questions, and a method can do well on one and badly on the other.")
NO_COLUMN = ("This run has no human rationales to compare the methods with: rerun with --rationale-column COL, a "
             "column that marks each example's evidence (word indices, character spans or [[marked]] text).")
NONE_USABLE = "No explained example has a rationale that marks at least one word, so no method could be compared."


@metrics.register
class Plausibility(Metric):
    name = "plausibility"
    order = 48  # after faithfulness, whose comprehensiveness it shows beside its own numbers
    description = ("Agreement of each method's top words with human rationales: token-level F1 and IOU at the "
                   "rationale's length, and AUPRC of the word scores (ERASER, DeYoung et al. 2020).")
    parameters = {"absolute": Flag(False)}
    section = "quality"
    title = "Plausibility: agreement with human rationales"

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        rows = input_rows(run)
        examples = [ex for ex in explained(run) if ex.target is not None and marks_words(ex)]
        names, faithfulness = class_names(run), comprehensiveness(run)
        methods, by_class = [], []
        for method in methods_with_scores(run):
            scored = {}
            for ex in examples:
                attribution = run.attributions[method].get(ex.index)
                if attribution is not None and len(attribution.words) == len(ex.words):
                    values = example_plausibility(self._scores(attribution.words), ex.rationale)
                    scored[ex.index] = (ex.target, values)
            if not scored:
                continue
            methods.append({"method": method, "examples": len(scored), **_means(v for _, v in scored.values()),
                            **faithfulness.get(method, {"comprehensiveness": None, "comprehensiveness_se": None})})
            for target in sorted({target for target, _ in scored.values()}):
                mine = [values for t, values in scored.values() if t == target]
                by_class.append({"method": method, "class": names[target] if target < len(names) else str(target),
                                 "class_id": target, "examples": len(mine), **_means(mine)})
        invalid = [ex for ex in rows if ex.rationale_error is not None]
        column = run.dataset.get("rationale_column")
        return {**defined(DEFINITIONS), "absolute": bool(self.params["absolute"]),
                "column": column if isinstance(column, str) else None,
                "rationales": sum(ex.rationale is not None for ex in rows),
                "empty_rationales": sum(ex.rationale == [] for ex in rows), "invalid_rationales": len(invalid),
                "invalid": [{"example": ex.row, "reason": ex.rationale_error} for ex in invalid[:SHOWN_INVALID]],
                "methods": methods, "by_class": by_class}

    def _scores(self, words: list[float]) -> np.ndarray:
        scores = np.asarray(words, dtype=np.float64)
        return np.abs(scores) if self.params["absolute"] else scores

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel | None:
        counted = counts_note(result)
        if result["methods"]:
            return Panel(Table(COLUMNS, result["methods"], css="plausibility"), definitions=dict(DEFINITIONS),
                         note=f"{counted} {CAUTION}".strip())
        given = counted or result["column"] is not None
        return Panel(note=f"{counted} {NONE_USABLE}".strip() if given else NO_COLUMN, definitions=dict(DEFINITIONS))


COLUMNS = [Column("method", "method", "name"), Column("examples", "examples", "count"),
           Column("token F1", "f1"), Column("± se", "f1_se"), Column("IOU", "iou"), Column("± se", "iou_se"),
           Column("AUPRC", "auprc"), Column("± se", "auprc_se"),
           Column("comprehensiveness (faithfulness)", "comprehensiveness"), Column("± se", "comprehensiveness_se")]


def marks_words(ex: Example) -> bool:
    """Whether the example's rationale marks at least one of its words (and only its words: results read back
    are not trusted to)."""
    return bool(ex.rationale) and all(0 <= word < len(ex.words) for word in ex.rationale)


def example_plausibility(scores: np.ndarray, rationale: Sequence[int]) -> dict[str, float]:
    """One example's precision, recall, F1 and IOU of the top k words (k = the rationale's size), and AUPRC."""
    marked = set(rationale)
    top = set(ranking(scores)[: len(marked)])
    hits = len(top & marked)
    precision, recall = ratio(hits, len(top)), ratio(hits, len(marked))
    return {"precision": precision, "recall": recall, "f1": ratio(2 * precision * recall, precision + recall),
            "iou": ratio(hits, len(top | marked)), "auprc": average_precision(scores, marked)}


def average_precision(scores: np.ndarray, marked: set[int]) -> float:
    """Average precision of ``scores`` as a ranking of the positions in ``marked``, as scikit-learn's
    average_precision_score: sum over the distinct scores, highest first, of (recall gained) x precision, words
    of one score counted together; NaN ranks last. 0 when nothing is marked."""
    keys = np.asarray(scores, dtype=np.float64)
    keys = np.where(np.isnan(keys), -np.inf, keys)
    order = np.argsort(-keys, kind="stable")
    keys, hits = keys[order], np.isin(order, sorted(marked))
    if not hits.any():
        return 0.0
    true_positives = np.cumsum(hits)
    last = np.append(np.flatnonzero(keys[1:] != keys[:-1]), len(keys) - 1)  # the last word of each score
    precision = true_positives[last] / (last + 1)
    recall = true_positives[last] / true_positives[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def comprehensiveness(run: RunResult) -> dict[str, dict[str, float | None]]:
    """Each method's comprehensiveness and its standard error, from the faithfulness statistic where it was
    computed."""
    entry = run.metrics.get("faithfulness")
    result = entry.get("result") if isinstance(entry, dict) else None
    rows = result.get("summary") if isinstance(result, dict) else None
    return {row["method"]: {"comprehensiveness": row.get("comprehensiveness"),
                            "comprehensiveness_se": row.get("comprehensiveness_se")}
            for row in rows or [] if isinstance(row, dict) and isinstance(row.get("method"), str)}


def counts_note(result: dict[str, Any]) -> str:
    """How many rows gave a rationale, how many of them mark no word, and how many could not be read (the first
    with why)."""
    given, empty, invalid = result["rationales"], result["empty_rationales"], result["invalid_rationales"]
    if not (given or invalid):
        return ""
    text = f"{given} {'row has' if given == 1 else 'rows have'} a human rationale"
    if empty:
        text += f" ({empty} marking no word, left out)"
    if invalid:
        reasons = [f"row {row['example']}: {printable(row['reason'], 300)}" for row in result["invalid"]]
        if invalid > len(reasons):
            reasons.append("...")
        text += (f"; {invalid} more {'was' if invalid == 1 else 'were'} not read, being malformed, and "
                 f"{'is' if invalid == 1 else 'are'} left out ({'; '.join(reasons)})")
    return text + "."


def _means(values) -> dict[str, float | None]:
    """The mean and standard error of each measure over examples' values."""
    values = list(values)
    found: dict[str, float | None] = {}
    for measure in MEASURES:
        found[measure] = mean(v[measure] for v in values)
        found[f"{measure}_se"] = standard_error(v[measure] for v in values)
    return found
