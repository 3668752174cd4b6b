"""reportgen: offline HTML audit reports that explain a transformer model over a whole dataset."""

from importlib import metadata

try:
    __version__ = metadata.version("reportgen")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

from .api import demo, explain, write_card, write_outputs  # noqa: E402
from .errors import ReportgenError  # noqa: E402
from .options import RunConfig  # noqa: E402
from .report.notebook import Report, show  # noqa: E402
from .report.render import render_html, write_report  # noqa: E402
from .results import RunResult, load, save  # noqa: E402

__all__ = ["Report", "ReportgenError", "RunConfig", "RunResult", "demo", "explain", "load", "render_html", "save",
           "show", "write_card", "write_outputs", "write_report", "__version__"]
