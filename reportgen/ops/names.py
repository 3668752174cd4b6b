"""How names given by people (class names in a config, labels in a data file) are matched."""

from __future__ import annotations

from typing import Any


def label_key(name: Any) -> str:
    """How a class name is matched to a label of the data: stripped, any case."""
    return str(name).strip().lower()
