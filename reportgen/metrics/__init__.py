"""Registered statistics. Importing this package registers the built-in ones."""

from .base import Metric, compute_metrics, metrics

__all__ = ["Metric", "compute_metrics", "metrics"]
