"""User code named on the command line: ``module:attr`` or ``path/to/file.py:attr`` (--plugin, --predict)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ReportgenError, reason

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def imported(spec: str, what: str, needs_attr: bool = False) -> Any:
    """What ``spec`` names: the attribute of a module or file, or (without ``:attr``) the module itself;
    ``what`` ('plugin', '--predict') names it in the one-line errors."""
    source, attr = split_spec(spec, what)
    if needs_attr and attr is None:
        raise ReportgenError(f"bad {what} spec {spec!r}: use module:function or path/to/file.py:function")
    target: Any = import_file(source, what) if is_path(source) else import_module(source, what)
    for part in attr.split(".") if attr else []:
        if not hasattr(target, part):
            raise ReportgenError(f"{what} {spec!r}: {source} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


def split_spec(spec: str, what: str) -> tuple[str, str | None]:
    text = (spec or "").strip()
    source, colon, attr = text.rpartition(":")
    if not colon or is_path(attr):  # no attribute, or the colon belongs to a drive letter
        source, attr = text, ""
    if not source or (colon and not attr and text.endswith(":")):
        raise ReportgenError(f"bad {what} spec {spec!r}: use module:attr or path/to/file.py:attr")
    if attr and not _DOTTED.match(attr):
        raise ReportgenError(f"bad {what} spec {spec!r}: {attr!r} is not a Python attribute name")
    if not is_path(source) and not _DOTTED.match(source):
        raise ReportgenError(f"bad {what} spec {spec!r}: {source!r} is neither a module name nor a .py file")
    return source, attr or None


def is_path(text: str) -> bool:
    return text.endswith(".py") or "/" in text or "\\" in text


def import_module(name: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and (name == err.name or name.startswith(err.name + ".")):
            raise ReportgenError(f"{what} module {name!r} not found (is it installed or on PYTHONPATH?)") from None
        raise ReportgenError(f"{what} module {name!r} failed to import: {reason(err)}") from None
    except Exception as err:  # noqa: BLE001
        raise ReportgenError(f"{what} module {name!r} failed to import: {reason(err)}") from None


def import_file(source: str, what: str) -> ModuleType:
    path = Path(source).expanduser().resolve()
    if not path.is_file():
        raise ReportgenError(f"{what} file {source} does not exist")
    if path.suffix != ".py":
        raise ReportgenError(f"{what} file {source} is not a .py file")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"reportgen_plugin_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    if name in sys.modules:  # the same file loaded twice gives the same classes
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ReportgenError(f"{what} file {source} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001
        del sys.modules[name]
        raise ReportgenError(f"{what} file {source} failed to import: {reason(err)}") from None
    return module
