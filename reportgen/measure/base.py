"""What every metric shares: a name, parameters, one ``compute`` call over a run, and what it shows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ReportgenError, first_line
from ..ops.numbers import jsonable
from ..ops.params import Parameterised
from ..registry import Registry, with_defaults
from ..results.records import RunResult
from ..tasks import task_of


@dataclass(frozen=True)
class Column:
    """One column of a metric's table: its heading, the key of its value in each row, and how the report
    formats that value ('name': a method or other identifier; 'count'; 'number' or 'percent' with
    ``digits`` decimals; 'seconds')."""

    title: str
    key: str
    kind: str = "number"
    digits: int = 3


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict[str, Any]]
    css: str = ""


@dataclass
class Panel:
    """What a metric shows in its report section: a table, a Vega-Lite chart (dataset text only ever
    as data values, never inside an expression) and the definitions behind them."""

    table: Table | None = None
    chart: dict[str, Any] | None = None
    chart_label: str = ""
    definitions: dict[str, str] = field(default_factory=dict)
    note: str = ""  # a sentence shown above them (e.g. why there is nothing to show)


class Metric(Parameterised):
    """One statistic over a finished run; its result is JSON-ready and stored in ``run.metrics``.

    Metrics that need model calls (faithfulness) receive the run's model runner
    (:class:`reportgen.explain.batching.ModelRunner`); the others must work from the saved run
    alone (``runner`` is then None). A metric with a ``section`` and a :meth:`present` shows up
    in that section of the report under its ``title``; every metric's description, parameters
    and definitions are in the report's methodology. ``parameters`` declares each parameter
    (:mod:`reportgen.ops.params`) and gives ``defaults``; every value is checked here, before any use.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    needs_model: ClassVar[bool] = False
    order: ClassVar[int] = 100  # where it comes in the computation and the report, lower first
    section: ClassVar[str | None] = None  # the report section that shows its panel
    title: ClassVar[str] = ""  # the heading of its panel
    tasks: ClassVar[tuple[str, ...] | None] = None  # the tasks whose runs it applies to (None: every task)

    def __init__(self, **params: Any):
        self.params = with_defaults("metric", self.name, self.defaults, params)
        self.check_params()

    def compute(self, run: RunResult, runner: Any) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel | None:
        """What the report shows of a computed ``result`` (None: the section shows it in its own way)."""
        return None


metrics: Registry[Metric] = Registry("metric")


def defined(definitions: dict[str, str]) -> dict[str, Any]:
    """The start of a result whose definition comes in parts: all of it in one text, then part by part."""
    return {"definition": " ".join(definitions.values()), "definitions": definitions}


def applies_to(cls: type[Metric], task: Any) -> bool:
    """Whether metric ``cls`` is computed and shown for runs of ``task``: the metric names its tasks and the
    task its metrics (either may say all)."""
    return (cls.tasks is None or task.name in cls.tasks) and task.applies("metric", cls.name)


def check_metric_params(names: list[str] | str | None, params: dict[str, dict[str, Any]] | None) -> None:
    """Refuse, before any work, parameters for a metric that is not computed and values a metric does not take."""
    chosen = metrics.resolve(names)
    for name, given in (params or {}).items():
        if name not in chosen:
            raise ReportgenError(f"parameters given for metric {name!r}, which is not among the statistics computed")
        metrics.get(name)(**given)


def compute_metrics(run: RunResult, runner: Any, names: list[str] | str | None = None,
                    params: dict[str, dict[str, Any]] | None = None, store: Any = None) -> None:
    """Compute each named metric (all by default) that applies to the run's task into ``run.metrics``.

    Each entry is ``{"description", "params", "result", "seconds"}``; the result is made
    JSON-ready (numpy values as Python numbers, NaN and infinities as None). A metric that
    raises gets ``"result": None`` and ``"error": "<one line>"`` so the run and the other
    metrics are kept. With a ``store`` (the run's checkpoint), each finished entry is kept there keyed by
    its inputs, and a resumed run reads it back instead of computing it again.
    """
    params = params or {}
    task = task_of(run)
    for name in metrics.resolve(names):
        cls = metrics.get(name)
        if (cls.needs_model and runner is None) or not applies_to(cls, task):
            continue
        metric = cls(**params.get(name, {}))
        inputs = {"metric": f"{cls.__module__}.{cls.__qualname__}", "params": jsonable(metric.params)}
        stored = store.metric(name, inputs) if store is not None else None
        run.metrics[name] = stored if stored is not None else _computed(metric, run, runner)
        if store is not None and stored is None and "error" not in run.metrics[name]:
            store.save_metric(name, inputs, run.metrics[name])


def _computed(metric: Metric, run: RunResult, runner: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"description": metric.description, "params": jsonable(metric.params)}
    started = time.perf_counter()
    try:
        entry["result"] = jsonable(metric.compute(run, runner))
    except Exception as err:  # noqa: BLE001 - one failing statistic must not lose the run
        entry["result"] = None
        entry["error"] = f"{type(err).__name__}: {first_line(err)}"
    entry["seconds"] = time.perf_counter() - started
    return entry
