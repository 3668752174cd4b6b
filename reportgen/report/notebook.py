"""The report in a notebook or a script, as ydata-profiling's ProfileReport is used: ``Report(run)`` as a cell's
last expression shows it inline in Jupyter, ``Report(run).to_file(path)`` writes the page, and
``reportgen.show(run)`` displays it from anywhere in a cell."""

from __future__ import annotations

from pathlib import Path

from ..errors import ReportgenError
from ..results import store
from ..results.records import RunResult
from .render import environment, render_html, write_report

FRAME_HEIGHT = 800  # px: the notebook's frame; the report scrolls inside it


class Report:
    """A run's report: ``run`` is a RunResult or a saved results folder (loaded and checked as
    ``reportgen render`` does)."""

    def __init__(self, run: RunResult | str | Path, height: int = FRAME_HEIGHT):
        if isinstance(height, bool) or not isinstance(height, int) or height < 100:
            raise ReportgenError(f"height must be a whole number of pixels of at least 100, not {height!r}")
        self.run = run if isinstance(run, RunResult) else store.load(run)
        self.height = height
        self._page: str | None = None

    def to_html(self) -> str:
        """The self-contained page (rendered once)."""
        if self._page is None:
            self._page = render_html(self.run)
        return self._page

    def to_file(self, path: str | Path) -> Path:
        """Writes the page to ``path`` (replacing only a report reportgen wrote) and returns the path."""
        return write_report(self.run, path)

    def _repr_html_(self) -> str:
        return environment().get_template("notebook/frame.html.j2").render(page=self.to_html(), height=self.height)


def show(run: RunResult | str | Path, height: int = FRAME_HEIGHT) -> None:
    """Displays the report inline in a Jupyter notebook (IPython's display)."""
    report = Report(run, height)
    try:
        from IPython.display import display
    except ImportError:
        raise ReportgenError("reportgen.show needs IPython (a Jupyter notebook); "
                             "Report(run).to_file(path) writes the page instead") from None
    display(report)
