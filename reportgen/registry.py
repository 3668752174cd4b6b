"""Name -> class registries (explainers, metrics, tasks) and the automatic import that fills them."""

from __future__ import annotations

import importlib
import pkgutil
from contextlib import contextmanager
from typing import Any, Generic, Iterable, Iterator, TypeVar

from .errors import ReportgenError, UnknownNameError, UnknownParameterError

T = TypeVar("T")
DEFAULT_ORDER = 100


class Registry(Generic[T]):
    """Holds classes by their ``name`` attribute; unknown names fail loudly.

    Listings follow each class's ``order`` (lower first; ``DEFAULT_ORDER`` when it has none),
    then the order of registration, so where a built-in comes does not depend on which of
    its package's modules is imported first.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        name = getattr(cls, "name", None)
        if not name:
            raise ValueError(f"{cls!r} has no name to register a {self.kind} under")
        taken = self._items.get(name)
        if taken is not None and taken is not cls and _qualified(taken) != _qualified(cls):
            raise ValueError(f"the {self.kind} name {name!r} is taken by {_qualified(taken)}")
        self._items[name] = cls
        return cls

    def get(self, name: str) -> type[T]:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        arrival = {name: i for i, name in enumerate(self._items)}
        return sorted(self._items, key=lambda name: (getattr(self._items[name], "order", DEFAULT_ORDER), arrival[name]))

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[type[T]]:
        return iter([self._items[name] for name in self.names()])

    def resolve(self, spec: str | list[str] | None) -> list[str]:
        """Turn 'all', 'a,b' or a list into validated names, in order. A text or a list that names nothing
        (``""``, ``" , "``, ``[""]``) is refused; an empty list asks for none."""
        if spec is None or spec == "all" or spec == ["all"]:
            return self.names()
        given = spec.split(",") if isinstance(spec, str) else list(spec) if isinstance(spec, (list, tuple)) else None
        if given is None or not all(isinstance(name, str) for name in given):
            raise ReportgenError(f"{self.kind} names must be a comma-separated text or a list of texts, not {spec!r}")
        names = [n.strip() for n in given if n.strip()]
        if given and not names:
            raise ReportgenError(f"no {self.kind} named in {spec!r}; give 'all' or some of: {', '.join(self.names())}")
        for name in names:
            self.get(name)
        return list(dict.fromkeys(names))

    def snapshot(self) -> dict[str, type[T]]:
        """What is registered now, for :meth:`restore`."""
        return dict(self._items)

    def restore(self, saved: dict[str, type[T]]) -> None:
        """Register exactly what a :meth:`snapshot` held, dropping anything registered since."""
        self._items.clear()
        self._items.update(saved)

    @contextmanager
    def restored(self) -> Iterator["Registry[T]"]:
        """Within the block, registrations are allowed; afterwards the registry is as it was."""
        saved = self.snapshot()
        try:
            yield self
        finally:
            self.restore(saved)


def with_defaults(kind: str, name: str, defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``given``; a name that is not among the defaults fails in one line."""
    unknown = set(given) - set(defaults)
    if unknown:
        raise UnknownParameterError(kind, name, sorted(unknown), sorted(defaults))
    return {**defaults, **given}


def import_modules(package: str, path: Iterable[str], skip: tuple[str, ...] = ("base",)) -> list[str]:
    """Import every module of a package but ``skip`` and private ones: each registers what it defines.

    This is what makes a new method or metric one new file: nothing else needs to name it.
    """
    names = sorted(info.name for info in pkgutil.iter_modules(list(path))
                   if not info.name.startswith("_") and info.name not in skip)
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
