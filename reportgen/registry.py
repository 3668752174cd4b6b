"""Name -> class registries for explainers and metrics."""

from __future__ import annotations

from typing import Generic, Iterator, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Holds classes by their ``name`` attribute; unknown names fail loudly."""

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
        return list(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[type[T]]:
        return iter(self._items.values())

    def resolve(self, spec: str | list[str] | None) -> list[str]:
        """Turn 'all', 'a,b' or a list into validated names, in order."""
        if spec is None or spec == "all" or spec == ["all"]:
            return self.names()
        names = spec.split(",") if isinstance(spec, str) else list(spec)
        names = [n.strip() for n in names if n.strip()]
        for name in names:
            self.get(name)
        return list(dict.fromkeys(names))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
