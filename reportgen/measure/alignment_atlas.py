"""Generation: what every attention head does between output and source, over the whole dataset: the alignment
statistics per layer x head (cross-attention for encoder-decoders, self-attention onto the prompt for language
models) and, with gold links, each head's alignment error rate."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..ops.alignment import aer
from ..ops.numbers import sig
from ..ops.params import Whole
from ..ops.stats import mean
from ..results.records import Example, RunResult
from ..tasks.generation import GENERATION_TASKS
from .alignment import FIGURES, gold_counts, gold_of, matrix_figures, real_source, source_width
from .base import Metric, defined, metrics

DEFINITIONS = {
    "heads": (
        "Per row, one teacher-forced model call with attention weights gives each head's attention from the "
        "position that predicts each output token: an encoder-decoder's cross-attention over the source, a "
        "language model's self-attention over the prompt (the output before the token is not counted). Layers "
        "and heads are numbered from 0."
    ),
    "figures": (
        "Each head's output x source matrix is measured as the methods' are (Alignment: entropy, distance from "
        "the diagonal, special share, coverage), and each figure averaged over the rows."
    ),
    "aer": (
        "With gold links, each head's argmax alignment is scored by AER over all rows with gold links, as the "
        "methods' are."
    ),
    "kept": "The matrices of every head are kept for the first rows_with_heads rows, for the output explorer.",
}
STATISTICS = (*FIGURES, "aer")


@metrics.register
class AlignmentAtlas(Metric):
    name = "alignment_atlas"
    order = 72
    description = ("Per layer x head: the alignment statistics of its attention between output and source (entropy, "
                   "distance from the diagonal, special share, coverage) and, with gold links, its AER.")
    parameters = {"max_rows": Whole(None, low=1, also={None: "all"}),
                  "rows_with_heads": Whole(4, low=0)}
    needs_model = True  # its section is the attention atlas (report.sections.atlas)
    tasks = GENERATION_TASKS

    def compute(self, run: RunResult, runner: Any) -> dict[str, Any]:
        started, evaluations = time.perf_counter(), runner.evaluations
        rows = explained_rows(run)
        if self.params["max_rows"] is not None:
            rows = rows[: int(self.params["max_rows"])]
        figures: dict[tuple[int, int], list[dict[str, float]]] = {}
        counts: dict[tuple[int, int], np.ndarray] = {}
        kept = []
        shape = (0, 0)
        for number, units in enumerate(rows):
            unit = units[0]
            width = source_width(unit)
            attention = runner.task.output_attention(runner, unit.input_ids[:width], unit.generated["ids"])
            heads = attention.cpu().numpy().astype(np.float64)  # [layers, heads, outputs, source]
            shape = heads.shape[:2]
            self._measure(heads, unit, figures, counts)
            if number < int(self.params["rows_with_heads"]):
                kept.append({"row": unit.row, "heads": [[[[sig(v, 2) for v in out] for out in head]
                                                        for head in layer] for layer in heads.tolist()]})
        per_head = [{"layer": layer, "head": head,
                     **{key: mean(f[key] for f in figures.get((layer, head), [])) for key in FIGURES},
                     "aer": aer(counts[layer, head]) if (layer, head) in counts else None}
                    for layer in range(shape[0]) for head in range(shape[1])]
        return {**defined(DEFINITIONS), "rows": len(rows), "n_layers": int(shape[0]), "n_heads": int(shape[1]),
                "gold_rows": sum(gold_of(units[0]) is not None for units in rows), "per_head": per_head,
                "head_rows": kept, "model_evaluations": runner.evaluations - evaluations,
                "seconds": time.perf_counter() - started}

    @staticmethod
    def _measure(heads: np.ndarray, unit: Example, figures: dict, counts: dict) -> None:
        """Add one row's figures and AER counts of every head."""
        real = real_source(unit)
        for layer, per_layer in enumerate(heads):
            for head, matrix in enumerate(per_layer):
                found = matrix_figures(matrix, real)
                if found is not None:
                    figures.setdefault((layer, head), []).append(found)
                row_counts = gold_counts(matrix, unit)
                if row_counts is not None:
                    counts[layer, head] = counts.get((layer, head), 0) + row_counts


def explained_rows(run: RunResult) -> list[list[Example]]:
    """Each explained row's units, in row order."""
    rows: dict[int, list[Example]] = {}
    for ex in run.examples:
        if ex.ok and ex.step is not None:
            rows.setdefault(ex.row, []).append(ex)
    return list(rows.values())
