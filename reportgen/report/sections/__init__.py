"""The report's sections, in page order: each module builds its template's context from a saved run only.

Contexts hold plain values (strings already formatted for display, rows, :class:`Chart` objects);
the templates decide the markup. Nothing here builds HTML. A metric that carries its own
presentation (``Metric.section`` and ``Metric.present``) adds a panel at the end of its section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ...measure import Panel, applies_to, metrics
from ...results.records import RunResult
from ...tasks import task_of
from ...tasks.generation import GENERATION_TASKS
from ..charts import Chart
from ..figures import metric, metric_error
from ..format import cell
from . import atlas, examples, global_words, methodology, outputs, performance, quality, summary


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    template: str
    build: Callable[[RunResult], dict[str, Any]]
    tasks: tuple[str, ...] | None = None  # the tasks whose reports hold it (None: every task's that lists it)

    def applies(self, task: Any) -> bool:
        return (self.tasks is None or task.name in self.tasks) and task.applies("section", self.anchor)


SECTIONS = (
    Section("summary", "Summary", "summary/section.html.j2", summary.summary),
    Section("performance", "Model performance", "performance/section.html.j2", performance.performance),
    Section("quality", "Explainer quality", "quality/section.html.j2", quality.quality),
    Section("global", "Global explanations", "global_words/section.html.j2", global_words.global_explanations),
    Section("atlas", "Attention atlas", "atlas/section.html.j2", atlas.attention_atlas),
    Section("examples", "Example explorer", "examples/section.html.j2", examples.explorer),
    Section("outputs", "Output explorer", "outputs/section.html.j2", outputs.output_explorer,
            GENERATION_TASKS),
    Section("methodology", "Methodology", "methodology/section.html.j2", methodology.methodology),
)


def context(section: Section, run: RunResult) -> dict[str, Any]:
    """The section's own context, and the panels of the metrics that present themselves in it."""
    return {**section.build(run), "panels": panels(run, section.anchor)}


def panels(run: RunResult, anchor: str) -> list[dict[str, Any]]:
    """For each registered metric that shows in section ``anchor``: its title and its panel, or why it has none
    (a metric that does not apply to the run's task is not shown)."""
    shown = []
    task = task_of(run)
    for cls in metrics:
        if cls.section != anchor or not applies_to(cls, task):
            continue
        result = metric(run, cls.name)
        panel = cls.present(result) if result is not None else None
        shown.append({"title": cls.title, "missing": metric_error(run, cls.name),
                      "panel": _displayed(cls.name, panel) if panel is not None else None})
    return shown


def _displayed(name: str, panel: Panel) -> dict[str, Any]:
    """A metric's panel with its table cells formatted and its chart given its page id."""
    table = None
    if panel.table is not None:
        columns = panel.table.columns
        rows = [[{"text": cell(row.get(c.key), c.kind, c.digits), "kind": c.kind} for c in columns]
                for row in panel.table.rows]
        table = {"css": panel.table.css, "headings": [c.title for c in columns], "rows": rows}
    chart = Chart(f"chart-{name}", panel.chart_label, panel.chart) if panel.chart is not None else None
    return {"table": table, "chart": chart, "definitions": panel.definitions, "note": panel.note}
