"""The measure stage: statistics over a run. Importing this package registers every module in it."""

from ..registry import import_modules
from .base import Column, Metric, Panel, Table, applies_to, check_metric_params, compute_metrics, metrics

import_modules(__name__, __path__)

__all__ = ["Column", "Metric", "Panel", "Table", "applies_to", "check_metric_params", "compute_metrics", "metrics"]
