"""What each method cost: wall time and model evaluations per explained example."""

from __future__ import annotations

import math
from typing import Any

from ..ops.numbers import sig
from ..results.records import RunResult
from .base import Column, Metric, Panel, Table, metrics

DEFINITION = (
    "From the run's bookkeeping per method: seconds = wall-clock time spent inside the method's "
    "attribute calls, model_evaluations = sequences the model evaluated during them (a batch of b "
    "inputs counts b; forward and backward passes each count), examples = examples it explained. "
    "seconds_per_example = seconds / examples, evaluations_per_example = model_evaluations / "
    "examples (null when no example was explained). Work shared inside a batch (the forward pass "
    "with attention weights, the embedding gradients) is charged to the first method that asks "
    "for it, so cheap methods that reuse it can show zero evaluations. share_of_seconds = the "
    "method's seconds / the sum over methods."
)


@metrics.register
class Cost(Metric):
    name = "cost"
    order = 50
    description = "Seconds and model evaluations per explained example, per method."
    defaults: dict[str, Any] = {}
    section = "quality"
    title = "Cost"

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        total = sum(info.seconds for info in run.methods.values())
        rows = []
        for name, info in run.methods.items():
            n = info.examples
            rows.append({
                "method": name,
                "examples": n,
                "seconds": info.seconds,
                "model_evaluations": info.model_evaluations,
                "seconds_per_example": info.seconds / n if n else None,
                "evaluations_per_example": info.model_evaluations / n if n else None,
                "share_of_seconds": info.seconds / total if total > 0 else None,
            })
        timings = {k: v for k, v in run.timings.items() if isinstance(v, (int, float))}
        return {"definition": DEFINITION, "methods": rows, "total_seconds": total, "run_timings": timings}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        table = Table(COLUMNS, result["methods"], css="cost")
        chart = seconds_chart(result["methods"]) if result["methods"] else None
        return Panel(table, chart, "bar chart of seconds per example for each method", {"cost": result["definition"]})


COLUMNS = [
    Column("method", "method", "name"),
    Column("examples", "examples", "count"),
    Column("total", "seconds", "seconds"),
    Column("per example", "seconds_per_example", "seconds"),
    Column("model evaluations per example", "evaluations_per_example", "number", 1),
    Column("share of time", "share_of_seconds", "percent", 1),
]


def seconds_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Seconds per explained example per method, on a log scale."""
    values = [{"method": r["method"], "o": i, "s": sig(r["seconds_per_example"]),
               "shown": sig(max(r["seconds_per_example"], 1e-6)), "evals": sig(r["evaluations_per_example"], 3)}
              for i, r in enumerate(rows) if r.get("seconds_per_example") is not None]
    floor = 10.0 ** math.floor(math.log10(min((v["shown"] for v in values), default=1e-3)))
    return {
        "data": {"values": values},
        "width": 360,
        "height": {"step": 18},
        "mark": {"type": "bar", "color": "#5b6673"},
        "encoding": {
            "y": {"field": "method", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
                  "axis": {"labelLimit": 200}},
            "x": {"field": "shown", "type": "quantitative", "scale": {"type": "log", "domainMin": floor},
                  "title": "seconds per example (log scale)"},
            "x2": {"datum": floor},
            "tooltip": [
                {"field": "method", "type": "nominal"},
                {"field": "s", "type": "quantitative", "format": ".4g", "title": "seconds per example"},
                {"field": "evals", "type": "quantitative", "title": "model evaluations per example"},
            ],
        },
    }
