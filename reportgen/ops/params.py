"""Declared parameters of methods and metrics: each one's default, the values it takes, and the check that
refuses anything else in one line before any work.

A class lists its parameters as ``parameters = {"layer": Whole(-1, model_range=layer_index), ...}``; its
``defaults`` (the name -> default mapping the rest of reportgen and plug-ins read) follow from them. A class
that declares only ``defaults`` still works: its values are then unchecked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..errors import ReportgenError
from .numbers import is_whole

# What a model allows of a whole-number parameter: (lowest, highest, why), or None where the model does not say.
ModelRange = Callable[[Any], "tuple[int, int, str] | None"]
MAX_WORDS = 100_000  # the bound of a count or rank of words: more words than any model reads
SHOWN_CHARACTERS = 60  # a refused value is quoted up to this length, so the error stays one short line


class ParameterError(ReportgenError, ValueError):
    """A value that a method's or a metric's parameter does not take."""


@dataclass(frozen=True)
class Param:
    """One parameter: its default, and ``also`` the literal values it takes besides its kind's, with what
    each means (``{None: "all words"}``)."""

    default: Any
    also: Mapping[Any, str] = field(default_factory=dict)

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` does not fit, in words that name the parameter, or None."""
        if self.takes(value):
            return None
        return f"{name} must be {self.wanted()}, not {brief(value)}"

    def takes(self, value: Any) -> bool:
        return self.is_literal(value) or self.fits(value)

    def is_literal(self, value: Any) -> bool:
        return any(same(value, literal) for literal in self.also)

    def fits(self, value: Any) -> bool:
        raise NotImplementedError

    def described(self) -> str:
        raise NotImplementedError

    def wanted(self) -> str:
        alternatives = [f"{spelled(literal)} ({meaning})" if meaning else spelled(literal)
                        for literal, meaning in self.also.items()]
        return " or ".join([self.described(), *alternatives])

    def model_problem(self, name: str, value: Any, model: Any) -> str | None:
        """Why ``value`` does not fit ``model`` (a classifier), or None; only some kinds depend on the model."""
        return None


@dataclass(frozen=True)
class Whole(Param):
    """A whole number (never a bool) from ``low`` to ``high``; ``model_range`` narrows it once the model is known."""

    low: int | None = None
    high: int | None = None
    model_range: ModelRange | None = None

    def fits(self, value: Any) -> bool:
        return is_whole(value) and within(value, self.low, self.high)

    def described(self) -> str:
        return "a whole number" + range_words(self.low, self.high)

    def model_problem(self, name: str, value: Any, model: Any) -> str | None:
        limits = self.model_range(model) if self.model_range and self.fits(value) else None
        if limits is None or limits[0] <= value <= limits[1]:
            return None
        low, high, why = limits
        return f"{name} must be a whole number from {low} to {high} ({why}), not {brief(value)}"


@dataclass(frozen=True)
class Number(Param):
    """A finite real number (never a bool) between ``low`` and ``high``, each end excluded where ``*_open``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def fits(self, value: Any) -> bool:
        return is_real(value) and within(value, self.low, self.high, self.low_open, self.high_open)

    def described(self) -> str:
        return "a finite number" + range_words(self.low, self.high, self.low_open, self.high_open)


@dataclass(frozen=True)
class Numbers(Number):
    """A list of ``min_items`` to ``max_items`` numbers, each one that a :class:`Number` of the same bounds takes."""

    min_items: int = 1
    max_items: int = 100

    def fits(self, value: Any) -> bool:
        number = super().fits
        return (isinstance(value, (list, tuple)) and self.min_items <= len(value) <= self.max_items
                and all(number(item) for item in value))

    def described(self) -> str:
        numbers = range_words(self.low, self.high, self.low_open, self.high_open)
        return f"a list of {self.min_items} to {self.max_items} finite numbers{numbers}"


@dataclass(frozen=True)
class Flag(Param):
    """true or false (not 0, 1 or a text)."""

    def fits(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def described(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices``, compared with its type (``1`` is not ``true``); ``what`` names the kind of thing
    chosen, for the message (``unknown integration method 'simpson'; ...``)."""

    choices: tuple[Any, ...] = ()
    what: str = ""

    def fits(self, value: Any) -> bool:
        return any(same(value, choice) for choice in self.choices)

    def described(self) -> str:
        return "one of " + ", ".join(spelled(choice) for choice in self.choices)

    def problem(self, name: str, value: Any) -> str | None:
        found = super().problem(name, value)
        if found is None or not self.what:
            return found
        return f"unknown {self.what} {brief(value)}; {name} must be {self.wanted()}"


@dataclass(frozen=True)
class Text(Param):
    """A text of at most ``max_characters``."""

    max_characters: int = 100

    def fits(self, value: Any) -> bool:
        return isinstance(value, str) and len(value) <= self.max_characters

    def described(self) -> str:
        return f"a text of at most {self.max_characters} characters"


class Parameterised:
    """What methods and metrics share: ``parameters`` declared, ``defaults`` derived from them, and the checks
    of ``self.params`` (the defaults updated with what was given) in one line, prefixed with ``name``."""

    name: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Param]] = {}
    defaults: ClassVar[dict[str, Any]] = {}
    params: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "parameters" in vars(cls) and "defaults" not in vars(cls):
            cls.defaults = {key: param.default for key, param in cls.parameters.items()}

    def check_params(self) -> None:
        """Refuse the first parameter that does not fit its declaration."""
        self.refuse(first([param.problem(key, self.params[key]) for key, param in self.declared()]))

    def check_model(self, model: Any) -> None:
        """Refuse, once the model (a classifier) is known and before any example is explained, the first
        parameter that does not fit it, such as a layer it does not have."""
        self.refuse(first([param.model_problem(key, self.params[key], model) for key, param in self.declared()]))

    def declared(self) -> list[tuple[str, Param]]:
        """The declarations of the parameters this object has (a plug-in's own names stay unchecked)."""
        return [(key, param) for key, param in self.parameters.items() if key in self.params]

    def refuse(self, problem: str | None) -> None:
        if problem:
            raise ParameterError(f"{self.name}: {problem}")


def first(problems: list[str | None]) -> str | None:
    return next((problem for problem in problems if problem), None)


def layer_index(model: Any) -> tuple[int, int, str] | None:
    """A layer of the model: -n (the first) to n - 1, for a model whose config says it has n hidden layers."""
    config = getattr(getattr(model, "model", None), "config", None)
    count = getattr(config, "num_hidden_layers", None)
    if not is_whole(count) or count < 1:
        return None
    return -count, count - 1, f"the model has {count} layer{'' if count == 1 else 's'}"


def token_position(model: Any) -> tuple[int, int, str] | None:
    """A token position the model can read: 0 to its longest input - 1."""
    length = getattr(model, "max_length", None)
    if not is_whole(length) or length < 1:
        return None
    return 0, length - 1, f"the model reads at most {length} tokens"


def is_real(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float is no number a parameter takes
        return False


def within(value: Any, low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def range_words(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        if not (low_open or high_open):
            return f" from {low} to {high}"
        return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def same(value: Any, literal: Any) -> bool:
    """``value`` is ``literal`` with its type: True is not 1, 0 is not False, 1.0 is not 1."""
    if literal is None or isinstance(literal, bool):
        return value is literal or (isinstance(value, np.bool_) and bool(value) is literal)
    return type(value) is type(literal) and value == literal


def spelled(value: Any) -> str:
    """A literal as it is written after --param: texts bare, None as null, booleans as true or false."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def brief(value: Any) -> str:
    """A refused value quoted on one short line, whatever its size."""
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python converts to text
        return "a number too long to show"
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."
