"""Package versions and timestamps recorded with every run."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib import metadata

PACKAGES = (
    "reportgen", "torch", "transformers", "tokenizers", "numpy", "shap", "lime",
    "captum", "scikit-learn", "jinja2", "altair", "vl-convert-python", "click", "pandas",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def timestamp() -> str:
    """Now in UTC, or the time SOURCE_DATE_EPOCH names (for reproducible reports)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat()
