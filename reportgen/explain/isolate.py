"""Finding the one input that makes a batched call fail, so that it fails alone and the others go on."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def isolate(items: Sequence[Item], work: Callable[[Sequence[Item]], Sequence[Result]],
            failed: Callable[[Item, Exception], Result]) -> list[Result]:
    """``work(items)``: one result per item. If it raises, every item is tried again on its own, and an
    item that fails alone gets ``failed(item, error)`` as its result; the others keep theirs."""
    try:
        return list(work(items))
    except Exception as err:  # noqa: BLE001 - find the item at fault, keep the others
        if len(items) == 1:
            return [failed(items[0], err)]
    results: list[Result] = []
    for item in items:
        try:
            results.extend(work([item]))
        except Exception as err:  # noqa: BLE001 - this item's own error
            results.append(failed(item, err))
    return results
