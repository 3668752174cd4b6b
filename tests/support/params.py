"""What the parameter tests of methods and metrics share: every (class, parameter) of a registry, and the
values a declared parameter must refuse, worked out here from what it declares (not asked of it)."""

from __future__ import annotations

from typing import Any

import pytest

from reportgen.errors import ReportgenError
from reportgen.ops.params import Choice, Flag, Number, Numbers, Param, Text, Whole
from reportgen.registry import Registry

# No parameter of any kind takes these: NaN and infinities, a mapping, a nested list.
NEVER = [float("nan"), float("inf"), float("-inf"), {"a": 1}, [[]]]
TOO_LARGE_FOR_A_FLOAT = 10**400


def parameters_of(registry: Registry) -> list[tuple[str, str]]:
    """(name, parameter) for every parameter of every registered class, declared or not."""
    return [(cls.name, key) for cls in registry for key in cls.defaults]


def refusals(registry: Registry) -> list[tuple[str, str, Any]]:
    """(name, parameter, value) for every value that a declared parameter of a registered class must refuse."""
    return [(cls.name, key, value) for cls in registry for key, param in cls.parameters.items()
            if key in cls.defaults for value in refused(param)]


def case_id(case: tuple[str, str, Any]) -> str:
    name, key, value = case
    return f"{name}.{key}={value!r:.20}"


def assert_declared(cls: type, key: str) -> None:
    """``key`` is declared, with the default the class gives it."""
    assert key in cls.parameters, f"{cls.name} declares no check for {key!r}: add it to {cls.__name__}.parameters"
    assert cls.parameters[key].default == cls.defaults[key]


def assert_refused(cls: type, key: str, value: Any) -> str:
    """Making ``cls`` with ``key=value`` fails in one line that names the class and the parameter; the line."""
    with pytest.raises(ReportgenError) as caught:
        cls(**{key: value})
    message = str(caught.value)
    assert message.startswith(f"{cls.name}: ") and f"{key} must be" in message, message
    assert len(message.splitlines()) == 1 and len(message) < 400, message
    return message


def refused(param: Param) -> list[Any]:
    """Values outside ``param``'s declaration: the wrong types for its kind and the values just past its range."""
    for kind, values in ((Whole, whole), (Numbers, numbers), (Number, number), (Flag, flag), (Choice, choice),
                         (Text, text)):
        if isinstance(param, kind):
            return NEVER + [value for value in values(param) if not param.is_literal(value)]
    raise AssertionError(f"no refused values known for a {type(param).__name__}")


def whole(param: Whole) -> list[Any]:
    return ["abc", "10**12", "", 1.5, 2.0, True, False, [1], *past(param.low, param.high, step=1)]


def number(param: Number) -> list[Any]:
    below = [param.low] if param.low_open else []
    above = [param.high] if param.high_open else []
    return ["abc", "0.5", True, [0.5], *below, *above, *past(param.low, param.high, step=0.5),
            *([] if param.high is not None else [TOO_LARGE_FOR_A_FLOAT])]


def numbers(param: Numbers) -> list[Any]:
    inside = param.default[0]
    too_few = [[inside] * (param.min_items - 1)] if param.min_items else []
    ends = ([[param.low]] if param.low_open else []) + ([[param.high]] if param.high_open else [])
    return ["0.5", 0.5, [True], ["0.5"], [float("nan")], [inside] * (param.max_items + 1), *too_few, *ends,
            *[[value] for value in past(param.low, param.high, step=0.5)]]


def flag(param: Flag) -> list[Any]:
    return [0, 1, "true", "yes", None, 0.0]


def choice(param: Choice) -> list[Any]:
    return ["no such choice", 2.5, [next(iter(param.choices))], " ".join(map(str, param.choices))]


def text(param: Text) -> list[Any]:
    return [1, 0.5, True, ["a"], "x" * (param.max_characters + 1)]


def past(low: Any, high: Any, step: float) -> list[Any]:
    """The values one ``step`` below ``low`` and above ``high`` (where they are set)."""
    return ([low - step] if low is not None else []) + ([high + step] if high is not None else [])
