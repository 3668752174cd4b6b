"""Registered statistics. Importing this package registers the built-in ones (in report order)."""

from . import performance, calibration, faithfulness, agreement, cost, global_words, attention_atlas  # noqa: F401,I001
from .base import Metric, compute_metrics, metrics

__all__ = ["Metric", "compute_metrics", "metrics"]
