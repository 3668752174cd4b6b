"""User explainers: ``--plugin module:attr`` / ``path/to/file.py:attr`` and Python entry points.

``attr`` may be an :class:`~reportgen.explainers.Explainer` subclass, a list or tuple of
them, or a module (every Explainer subclass defined in it). Without ``:attr`` the whole
module or file is scanned the same way. Entry points in the group ``reportgen.explainers``
are loaded the same way, e.g. in a plugin package's ``pyproject.toml``::

    [project.entry-points."reportgen.explainers"]
    embedding_norm = "my_package.explainers:EmbeddingNorm"
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from .errors import ReportgenError, first_line
from .explainers import Explainer, explainers
from .ops.imports import imported

ENTRY_POINT_GROUP = "reportgen.explainers"
_METHOD_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def load_plugin(spec: str) -> list[str]:
    """Import ``module:attr`` (or ``file.py:attr``) and register its explainers; returns their names."""
    return _register_all(imported(spec, "plugin"), f"plugin {spec!r}")


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register every explainer advertised by installed packages under ``group``; returns their names."""
    names: list[str] = []
    for point in entry_points(group=group):
        try:
            target = point.load()
        except Exception as err:  # noqa: BLE001 - a broken plugin is reported in one line
            raise ReportgenError(
                f"entry point {point.name!r} ({point.value}) failed to load: {type(err).__name__}: {first_line(err)}"
            ) from None
        names += _register_all(target, f"entry point {point.name!r} ({point.value})")
    return names


def _register_all(target: Any, origin: str) -> list[str]:
    classes = _explainer_classes(target, origin)
    for cls in classes:
        _check(cls, origin)
    for cls in classes:
        explainers.register(cls)
    return [cls.name for cls in classes]


def _explainer_classes(target: Any, origin: str) -> list[type[Explainer]]:
    if isinstance(target, ModuleType):
        found = [
            value for value in vars(target).values()
            if inspect.isclass(value) and issubclass(value, Explainer) and value is not Explainer
            and value.__module__ == target.__name__ and getattr(value, "name", "")
        ]
        if not found:
            raise ReportgenError(f"{origin}: module {target.__name__} defines no Explainer subclass with a name")
        return found
    if isinstance(target, (list, tuple)):
        if not target:
            raise ReportgenError(f"{origin}: the list of explainers is empty")
        for item in target:
            _explainer_classes(item, origin)
        return list(target)
    if inspect.isclass(target) and issubclass(target, Explainer) and target is not Explainer:
        return [target]
    if target is Explainer:
        raise ReportgenError(f"{origin}: give a subclass of Explainer, not the Explainer base class")
    what = getattr(target, "__qualname__", None) or repr(target)[:60]
    raise ReportgenError(f"{origin}: {what} ({type(target).__name__}) is not an Explainer subclass")


def _check(cls: type[Explainer], origin: str) -> None:
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not _METHOD_NAME.match(name) or name == "all":
        raise ReportgenError(f"{origin}: {cls.__name__}.name must be a word like 'my_method', not {name!r}")
    if cls.attribute is Explainer.attribute:
        raise ReportgenError(f"{origin}: {cls.__name__} does not implement attribute(batch)")
    if name in explainers:
        current = explainers.get(name)
        same = (current.__module__, current.__qualname__) == (cls.__module__, cls.__qualname__)
        if not same:
            raise ReportgenError(
                f"{origin}: explainer name {name!r} is already taken by {current.__module__}.{current.__qualname__}"
            )
