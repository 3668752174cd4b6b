"""What every metric shares: a name, parameters and one ``compute`` call over a run."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ..errors import first_line
from ..records import RunResult
from ..registry import Registry
from ..runner import ModelRunner
from .common import jsonable


class Metric:
    """One statistic over a finished run; its result is JSON-ready and stored in ``run.metrics``.

    Metrics that need model calls (faithfulness) receive the run's :class:`ModelRunner`;
    the others must work from the saved run alone (``runner`` is then None).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    needs_model: ClassVar[bool] = False

    def __init__(self, **params: Any):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name} takes no parameter {', '.join(sorted(unknown))}")
        self.params = {**self.defaults, **params}

    def compute(self, run: RunResult, runner: ModelRunner | None) -> dict[str, Any]:
        raise NotImplementedError


metrics: Registry[Metric] = Registry("metric")


def compute_metrics(run: RunResult, runner: ModelRunner | None, names: list[str] | None = None,
                    params: dict[str, dict[str, Any]] | None = None) -> None:
    """Compute each named metric (all by default) into ``run.metrics``, with its definition.

    Each entry is ``{"description", "params", "result", "seconds"}``; the result is made
    JSON-ready (numpy values as Python numbers, NaN and infinities as None). A metric that
    raises gets ``"result": None`` and ``"error": "<one line>"`` so the run and the other
    metrics are kept.
    """
    params = params or {}
    for name in metrics.resolve(names):
        cls = metrics.get(name)
        if cls.needs_model and runner is None:
            continue
        metric = cls(**params.get(name, {}))
        entry: dict[str, Any] = {"description": cls.description, "params": jsonable(metric.params)}
        started = time.perf_counter()
        try:
            entry["result"] = jsonable(metric.compute(run, runner))
        except Exception as err:  # noqa: BLE001 - one failing statistic must not lose the run
            entry["result"] = None
            entry["error"] = f"{type(err).__name__}: {first_line(err)}"
        entry["seconds"] = time.perf_counter() - started
        run.metrics[name] = entry
