"""Generation: how each method's source x target matrix spreads over the source, per method (the seed's local
against global patterns): entropy, distance from the monotone diagonal, share on special tokens, coverage."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.alignment import aer, aer_counts, argmax_links, parse_pharaoh, word_matrix
from ..ops.stats import mean, standard_error
from ..results.queries import methods_with_scores
from ..results.records import Example, RunResult
from ..tasks.generation import GENERATION_TASKS
from .base import Column, Metric, Panel, Table, defined, metrics

DEFINITIONS = {
    "source": (
        "The source of a row is what its output is read from: an encoder-decoder's source tokens, a language "
        "model's prompt (the output before a token is not counted). Its real tokens are those of its words; the "
        "special tokens (start, end-of-sequence, separators) are counted apart."
    ),
    "weights": (
        "Per output token, a method's absolute scores over the real source tokens, divided by their sum (an output "
        "token whose scores there are all 0 is left out)."
    ),
    "entropy": "Entropy: -sum w log w of those weights, divided by log(n) for n real source tokens (0: all on one "
               "token, 1: spread evenly).",
    "diagonal": (
        "Distance from the diagonal: sum over source tokens of w x |(i + 0.5)/n - (j + 0.5)/m| for source token i "
        "of n and output token j of m (0: each output token draws on the source in step with its own place)."
    ),
    "special": "Special share: the absolute scores on the source's special tokens over those on all its tokens.",
    "coverage": "Coverage: the share of real source tokens that get the largest weight of at least one output token.",
    "averages": "Each figure is averaged over a row's output tokens, then over the rows, with its standard error.",
    "aer": (
        "AER (with --alignment-column): each reference word is linked to the source word of its largest score "
        "(a source word's tokens summed, a reference word's output tokens averaged; whitespace words, as the gold "
        "links number them), and the alignment error rate 1 - (|A & S| + |A & P|) / (|A| + |S|) (Och & Ney "
        "2003; A the links, S the sure gold links, P the sure and possible ones) is taken over all rows with "
        "gold links at once (0: every link right). A row whose output does not spell its reference (a cut "
        "reference) is left out and counted."
    ),
}
FIGURES = ("entropy", "diagonal", "special", "coverage")


@metrics.register
class Alignment(Metric):
    name = "alignment"
    order = 42
    description = ("Per method, how its source x target matrices spread over the source: normalised entropy, "
                   "distance from the monotone diagonal, share on special tokens and source coverage.")
    defaults: dict[str, Any] = {}
    section = "quality"
    title = "Alignment: how each method's matrices spread over the source"
    tasks = GENERATION_TASKS

    def compute(self, run: RunResult, runner: Any) -> dict[str, Any]:
        rows: dict[int, list[Example]] = {}
        for ex in run.examples:
            if ex.ok and ex.step is not None:
                rows.setdefault(ex.row, []).append(ex)
        methods = []
        gold = [units for units in rows.values() if gold_of(units[0]) is not None]
        for method in methods_with_scores(run):
            figures = [row_figures(run, method, units) for units in rows.values()]
            figures = [f for f in figures if f is not None]
            counts = [gold_counts(matrix, units[0]) for units in gold
                      if (matrix := row_matrix(run, method, units)) is not None]
            counts = [c for c in counts if c is not None]
            methods.append({"method": method, "rows": len(figures),
                            **{key: mean(f[key] for f in figures) for key in FIGURES},
                            **{f"{key}_se": standard_error(f[key] for f in figures) for key in FIGURES},
                            "aer": aer(sum(counts)) if counts else None})
        unmatched = sum(gold_of(units[0])["target"] is None for units in gold)
        return {**defined(DEFINITIONS), "methods": methods, "gold_rows": len(gold) - unmatched,
                "gold_unmatched": unmatched}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        columns = COLUMNS + ([Column("AER", "aer", "number", 3)] if result.get("gold_rows") else [])
        definitions = {key: text for key, text in result["definitions"].items()
                       if key != "aer" or result.get("gold_rows")}
        return Panel(Table(columns, result["methods"], css="alignment"), None, "", definitions)


COLUMNS = [Column("method", "method", "name"), Column("rows", "rows", "count"),
           Column("entropy", "entropy"), Column("distance from the diagonal", "diagonal"),
           Column("special share", "special", "percent", 1), Column("coverage", "coverage", "percent", 1)]


def row_figures(run: RunResult, method: str, units: list[Example]) -> dict[str, float] | None:
    """One row's figures for one method, from its units' scores over the source (None: nothing to measure)."""
    matrix = row_matrix(run, method, units)
    return None if matrix is None else matrix_figures(matrix, real_source(units[0]))


def row_matrix(run: RunResult, method: str, units: list[Example]) -> np.ndarray | None:
    """A row's output x source matrix of a method's absolute scores (None: a unit has none)."""
    scored = run.attributions.get(method, {})
    if not all(unit.index in scored for unit in units):
        return None
    width = source_width(units[0])
    return np.abs(np.array([scored[unit.index].tokens[:width] for unit in units], dtype=np.float64))


def source_width(unit: Example) -> int:
    """How many of a row's first tokens are its source: an encoder's tokens, or the prompt's."""
    start = unit.generated.get("start")
    return len(unit.tokens) if start is None else start


def real_source(unit: Example) -> np.ndarray:
    return np.array([w is not None for w in unit.word_ids[: source_width(unit)]])


def gold_of(unit: Example) -> dict[str, Any] | None:
    """The row's gold words (the words of each source and output token) when it has a gold alignment."""
    if unit.alignment is None or not unit.generated:
        return None
    return unit.generated.get("gold_words")


def gold_counts(matrix: np.ndarray, unit: Example) -> np.ndarray | None:
    """The AER counts of a row's argmax word alignment from ``matrix`` (output x source tokens) against its
    gold links (None: its output does not spell the reference)."""
    words = gold_of(unit)
    if words is None or words["target"] is None:
        return None
    sources, targets = len(unit.text.split()), len((unit.text_pair or "").split())
    links = argmax_links(word_matrix(matrix, words["source"], words["target"], sources, targets))
    return aer_counts(links, parse_pharaoh(unit.alignment))


def matrix_figures(matrix: np.ndarray, real: np.ndarray) -> dict[str, float] | None:
    """The four figures of an output x source matrix of absolute scores; ``real``: which source tokens are real."""
    total = matrix.sum(axis=1)
    source = matrix[:, real]
    mass = source.sum(axis=1)
    kept = mass > 0
    n, m = int(real.sum()), len(matrix)
    if n == 0 or not kept.any():
        return None
    weights = source[kept] / mass[kept, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(weights > 0, weights * np.log(weights), 0.0).sum(axis=1)
    spread = entropy / math.log(n) if n > 1 else np.zeros_like(entropy)
    places = (np.arange(n) + 0.5) / n
    steps = (np.flatnonzero(kept) + 0.5) / m
    diagonal = (weights * np.abs(places[None, :] - steps[:, None])).sum(axis=1)
    special = np.where(total > 0, matrix[:, ~real].sum(axis=1) / np.where(total > 0, total, 1), 0.0)
    return {"entropy": float(spread.mean()), "diagonal": float(diagonal.mean()), "special": float(special.mean()),
            "coverage": len(set(weights.argmax(axis=1).tolist())) / n}
