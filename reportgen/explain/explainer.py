"""What the engine asks of an attribution method, and the registry the methods join."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..ops.params import Parameterised, first
from ..registry import Registry, with_defaults
from .batch import Batch


@dataclass
class Explanation:
    """Scores for one example: one per token, optionally one per word, plus extras."""

    tokens: np.ndarray
    words: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Explainer(Parameterised):
    """One attribution method: a name, its parameters and one ``attribute`` call.

    ``parameters`` declares each parameter (:mod:`reportgen.ops.params`) and gives ``defaults``; every value is
    checked here, before any use, and :meth:`check_model` checks those that depend on the model (a layer index)
    once it is known, before any example is explained.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    needs_attentions: ClassVar[bool] = False
    reads_target: ClassVar[bool] = True  # whether the scores depend on the class explained (explain.contrast)
    order: ClassVar[int] = 100  # where it comes in listings and the report, lower first

    def __init__(self, seed: int = 0, **params: Any):
        self.seed = seed
        self.params = with_defaults("method", self.name, self.defaults, params)
        self.check_params()
        self.refuse(first(self.problems()))

    def attribute(self, batch: Batch) -> list[Explanation]:
        raise NotImplementedError

    def problems(self) -> list[str | None]:
        """What is wrong with the parameters taken together, one entry per check (None where it passed), once
        each fits its declaration; the first problem stops the run before any work, in one line."""
        return []


explainers: Registry[Explainer] = Registry("explainer")
