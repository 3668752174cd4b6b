"""What the engine asks of an attribution method, and the registry the methods join."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import ReportgenError
from ..ops.numbers import is_whole
from ..registry import Registry, with_defaults
from .batch import Batch


@dataclass
class Explanation:
    """Scores for one example: one per token, optionally one per word, plus extras."""

    tokens: np.ndarray
    words: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Explainer:
    """One attribution method: a name, its parameters and one ``attribute`` call."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    needs_attentions: ClassVar[bool] = False
    order: ClassVar[int] = 100  # where it comes in listings and the report, lower first

    def __init__(self, seed: int = 0, **params: Any):
        self.seed = seed
        self.params = with_defaults("method", self.name, self.defaults, params)
        found = [problem for problem in self.problems() if problem]
        if found:
            raise ReportgenError(f"{self.name}: {found[0]}")

    def attribute(self, batch: Batch) -> list[Explanation]:
        raise NotImplementedError

    def problems(self) -> list[str | None]:
        """What is wrong with the parameters, one entry per check (None where it passed); the first
        problem stops the run before any work, in one line."""
        return []


def whole_number_problem(name: str, value: Any, minimum: int) -> str | None:
    """Why ``value`` is not a whole number of at least ``minimum``, or None."""
    if is_whole(value) and value >= minimum:
        return None
    return f"{name} must be a whole number >= {minimum}, not {value!r}"


explainers: Registry[Explainer] = Registry("explainer")
