"""Generation: how probable the model finds the outputs it is explained on (the reference under teacher
forcing, or its own greedy output), per token and per row."""

from __future__ import annotations

import math
from typing import Any

from ..ops.stats import mean, standard_error
from ..results.queries import input_rows
from ..results.records import Example, RunResult
from ..tasks.generation import GENERATION_TASKS
from .base import Column, Metric, Panel, Table, defined, metrics

DEFINITIONS = {
    "log_probability": (
        "An output token's log-probability is the natural logarithm of the probability the model gives it after "
        "the prompt and the output before it (teacher forcing: the tokens fed are the output's own, whether the "
        "output is the reference or the model's greedy continuation)."
    ),
    "rows": (
        "Per row: its output tokens, the sum of their log-probabilities (the output's log-probability) and "
        "their mean. The mean per row is averaged over the rows, with its standard error over the rows."
    ),
    "perplexity": (
        "Perplexity = exp(-(sum of every output token's log-probability) / (number of output tokens)), over the "
        "tokens of every row together; a row's own perplexity is exp(-its mean)."
    ),
}


@metrics.register
class GenerationQuality(Metric):
    name = "generation"
    order = 10
    description = ("The log-probability of each output token given the tokens before it: per row and per token, "
                   "and the perplexity over every output token.")
    defaults: dict[str, Any] = {}
    section = "performance"
    title = "Output log-probability and perplexity"
    tasks = GENERATION_TASKS

    def compute(self, run: RunResult, runner: Any) -> dict[str, Any]:
        rows = [ex for ex in input_rows(run) if ex.ok and ex.generated is not None]
        per_row = [row_figures(ex) for ex in rows]
        tokens = sum(row["tokens"] for row in per_row)
        total = sum(row["log_probability"] for row in per_row)
        means = [row["mean_log_probability"] for row in per_row]
        return {**defined(DEFINITIONS), "rows": len(rows), "tokens": tokens,
                "references": sum(ex.generated.get("from") == "reference" for ex in rows),
                "mean_tokens": mean(row["tokens"] for row in per_row),
                "mean_log_probability": mean(means), "mean_log_probability_se": standard_error(means),
                "perplexity": math.exp(-total / tokens) if tokens else None, "per_row": per_row}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        rows = [{"figure": "rows with an output", "value": result["rows"]},
                {"figure": "output tokens", "value": result["tokens"]},
                {"figure": "output tokens per row (mean)", "value": result["mean_tokens"]},
                {"figure": "log-probability per token (mean over rows)", "value": result["mean_log_probability"],
                 "se": result["mean_log_probability_se"]},
                {"figure": "perplexity over every output token", "value": result["perplexity"]}]
        return Panel(Table(COLUMNS, rows, css="generation"), None, "", dict(result["definitions"]))


COLUMNS = [Column("figure", "figure", "name"), Column("value", "value", "number", 3),
           Column("standard error", "se", "number", 3)]


def row_figures(ex: Example) -> dict[str, Any]:
    log_probs = [float(p) for p in ex.generated["log_probs"]]
    total = sum(log_probs)
    return {"row": ex.row, "tokens": len(log_probs), "log_probability": total,
            "mean_log_probability": total / len(log_probs), "perplexity": math.exp(-total / len(log_probs))}
