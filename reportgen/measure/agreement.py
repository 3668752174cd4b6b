"""How much the methods agree with each other, word by word."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from ..ops.params import MAX_WORDS, Flag, Whole
from ..ops.ranking import average_ranks, ranking
from ..ops.stats import mean, standard_error
from ..results.queries import explained, methods_with_scores
from ..results.records import RunResult
from .base import Metric, defined, metrics

DEFINITIONS = {
    "level": (
        "Word level: each method's word scores (Attribution.words; token scores summed per word, "
        "or the word scores of word-level methods), for the target class, signed unless the "
        "parameter absolute is true (then absolute values are compared)."
    ),
    "spearman": (
        "Per example, Spearman's rank correlation between the two methods' word scores (Pearson "
        "correlation of the ranks; tied scores get their average rank). The pair's value is the "
        "mean over examples. Spearman is undefined when either vector is constant (all scores "
        "equal, e.g. all zero; a vector holding NaN or infinity is treated the same) or the example has fewer than two words: such examples are left "
        "out of the mean and counted in spearman_undefined."
    ),
    "top_k_overlap": (
        "Per example, |top-k words of A intersected with top-k words of B| / k, with words ranked "
        "by score, highest first, ties in word order (stable). Only examples with more than k "
        "words count (otherwise the overlap is trivially 1), and, as for Spearman, examples where "
        "either vector is constant (no ranking) are left out. The pair's value is the mean over "
        "the examples that count (top_k_examples)."
    ),
}


@metrics.register
class Agreement(Metric):
    name = "agreement"
    order = 40
    description = "Mean Spearman rank correlation and top-k word overlap between every pair of methods."
    parameters = {"k": Whole(5, low=1, high=MAX_WORDS), "absolute": Flag(False)}

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        k = int(self.params["k"])
        methods = methods_with_scores(run)
        examples = explained(run)
        prepared: dict[str, dict[int, _Prepared]] = {m: {} for m in methods}
        constant = []
        for method in methods:
            for ex in examples:
                attribution = run.attributions[method].get(ex.index)
                if attribution is None or len(attribution.words) != len(ex.words):
                    continue
                scores = np.asarray(attribution.words, dtype=np.float64)
                if self.params["absolute"]:
                    scores = np.abs(scores)
                prepared[method][ex.index] = _Prepared.of(scores, k)
            n_constant = sum(p.ranks is None and p.size >= 2 for p in prepared[method].values())
            constant.append({"method": method, "examples": len(prepared[method]), "constant": n_constant})
        pairs, matrix = [], []
        for a, b in combinations(methods, 2):
            row = _pair(prepared[a], prepared[b], k)
            pairs.append({"method_a": a, "method_b": b, **row})
            for x, y in ((a, b), (b, a)):
                matrix.append({"method_a": x, "method_b": y, "spearman": row["spearman"],
                               "top_k_overlap": row["top_k_overlap"]})
        for m in methods:
            ranked = [p for p in prepared[m].values() if p.ranks is not None]
            matrix.append({"method_a": m, "method_b": m, "spearman": 1.0 if ranked else None,
                           "top_k_overlap": 1.0 if any(p.size > k for p in ranked) else None})
        return {**defined(DEFINITIONS), "k": k, "level": "words",
                "absolute": bool(self.params["absolute"]), "methods": methods, "pairs": pairs,
                "matrix": matrix, "constant_vectors": constant}


class _Prepared:
    """One score vector, ranked once: centred unit-length ranks (None: no ranking) and its top-k."""

    __slots__ = ("size", "ranks", "top")

    def __init__(self, size: int, ranks: np.ndarray | None, top: frozenset[int]):
        self.size, self.ranks, self.top = size, ranks, top

    @classmethod
    def of(cls, scores: np.ndarray, k: int) -> "_Prepared":
        if len(scores) < 2 or _no_ranking(scores):
            return cls(len(scores), None, frozenset())
        ranks = average_ranks(scores)
        ranks = ranks - ranks.mean()
        return cls(len(scores), ranks / np.sqrt((ranks * ranks).sum()), frozenset(ranking(scores)[:k]))


def _pair(a: dict[int, _Prepared], b: dict[int, _Prepared], k: int) -> dict[str, Any]:
    shared = sorted(set(a) & set(b))
    rhos, overlaps, undefined = [], [], 0
    for index in shared:
        x, y = a[index], b[index]
        if x.size != y.size:
            continue
        if x.ranks is None or y.ranks is None:
            undefined += 1
            continue
        rhos.append(float(np.clip(x.ranks @ y.ranks, -1.0, 1.0)))
        if x.size > k:
            overlaps.append(len(x.top & y.top) / k)
    return {
        "examples": len(shared),
        "spearman": mean(rhos),
        "spearman_se": standard_error(rhos),
        "spearman_examples": len(rhos),
        "spearman_undefined": undefined,
        "top_k_overlap": mean(overlaps),
        "top_k_examples": len(overlaps),
    }


def ranking_agreement(a: dict[int, np.ndarray], b: dict[int, np.ndarray], k: int) -> dict[str, Any]:
    """Spearman and top-k overlap of two sets of score vectors by example, as a pair of methods is compared."""
    return _pair({i: _Prepared.of(v, k) for i, v in a.items()}, {i: _Prepared.of(v, k) for i, v in b.items()}, k)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties; undefined (NaN) for constant vectors."""
    px, py = _Prepared.of(np.asarray(x, dtype=np.float64), 1), _Prepared.of(np.asarray(y, dtype=np.float64), 1)
    if px.ranks is None or py.ranks is None:
        return float("nan")
    return float(np.clip(px.ranks @ py.ranks, -1.0, 1.0))


def top_k_overlap(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """Share of the k highest-scoring positions (stable ties) that both vectors have in common."""
    return len(set(ranking(x)[:k]) & set(ranking(y)[:k])) / k


def _no_ranking(values: np.ndarray) -> bool:
    """True for an empty or constant vector, or one holding NaN/inf: it has no usable ranking."""
    finite = values[np.isfinite(values)]
    return len(finite) < len(values) or len(values) == 0 or bool(np.all(finite == finite[0]))
