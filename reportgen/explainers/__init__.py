"""Registered attribution methods. Importing this package registers the built-in ones."""

from . import attention, gradients, integrated, occlusion, lime_explainer, shap_explainer, control  # noqa: F401
from .base import Batch, Explainer, Explanation, explainers

__all__ = ["Batch", "Explainer", "Explanation", "explainers"]
