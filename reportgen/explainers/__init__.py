"""The attribution methods. Importing this package registers every module in it, one family of methods each.

A plug-in subclasses :class:`Explainer` (see ``examples/custom_explainer.py``).
"""

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..registry import import_modules

import_modules(__name__, __path__)

__all__ = ["Batch", "Explainer", "Explanation", "explainers"]
