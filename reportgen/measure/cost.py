"""What each method cost: wall time and model evaluations per explained example."""

from __future__ import annotations

from typing import Any

from ..records import RunResult
from .base import Metric, metrics

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
    description = "Seconds and model evaluations per explained example, per method."
    defaults: dict[str, Any] = {}

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
