"""User explainers: ``--plugin module:attr`` / ``path/to/file.py:attr`` and Python entry points.

``attr`` may be an :class:`~reportgen.explainers.Explainer` subclass, a list or tuple of
them, or a module (every Explainer subclass defined in it). Without ``:attr`` the whole
module or file is scanned the same way. Entry points in the group ``reportgen.explainers``
are loaded the same way, e.g. in a plugin package's ``pyproject.toml``::

    [project.entry-points."reportgen.explainers"]
    embedding_norm = "my_package.explainers:EmbeddingNorm"
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import ReportgenError, first_line, reason
from .explainers import Explainer, explainers

ENTRY_POINT_GROUP = "reportgen.explainers"
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_METHOD_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def load_plugin(spec: str) -> list[str]:
    """Import ``module:attr`` (or ``file.py:attr``) and register its explainers; returns their names."""
    source, attr = _split(spec)
    module = _import_file(source) if _is_path(source) else _import_module(source)
    target: Any = module
    for part in attr.split(".") if attr else []:
        if not hasattr(target, part):
            raise ReportgenError(f"plugin {spec!r}: {source} has no attribute {attr!r}")
        target = getattr(target, part)
    return _register_all(target, f"plugin {spec!r}")


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


def _split(spec: str) -> tuple[str, str | None]:
    text = (spec or "").strip()
    source, colon, attr = text.rpartition(":")
    if not colon or _is_path(attr):  # no attribute, or the colon belongs to a drive letter
        source, attr = text, ""
    if not source or (colon and not attr and text.endswith(":")):
        raise ReportgenError(f"bad plugin spec {spec!r}: use module:attr or path/to/file.py:attr")
    if attr and not _DOTTED.match(attr):
        raise ReportgenError(f"bad plugin spec {spec!r}: {attr!r} is not a Python attribute name")
    if not _is_path(source) and not _DOTTED.match(source):
        raise ReportgenError(f"bad plugin spec {spec!r}: {source!r} is neither a module name nor a .py file")
    return source, attr or None


def _is_path(text: str) -> bool:
    return text.endswith(".py") or "/" in text or "\\" in text


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and (name == err.name or name.startswith(err.name + ".")):
            raise ReportgenError(f"plugin module {name!r} not found (is it installed or on PYTHONPATH?)") from None
        raise ReportgenError(f"plugin module {name!r} failed to import: {reason(err)}") from None
    except Exception as err:  # noqa: BLE001
        raise ReportgenError(f"plugin module {name!r} failed to import: {reason(err)}") from None


def _import_file(source: str) -> ModuleType:
    path = Path(source).expanduser().resolve()
    if not path.is_file():
        raise ReportgenError(f"plugin file {source} does not exist")
    if path.suffix != ".py":
        raise ReportgenError(f"plugin file {source} is not a .py file")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"reportgen_plugin_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    if name in sys.modules:  # the same file loaded twice gives the same classes
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ReportgenError(f"plugin file {source} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001
        del sys.modules[name]
        raise ReportgenError(f"plugin file {source} failed to import: {reason(err)}") from None
    return module


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
