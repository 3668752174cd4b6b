"""Writing files so that a reader never sees half of one: write beside it, then rename over it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable


def write_json(path: Path, obj: Any, **dumps: Any) -> None:
    """``obj`` as JSON in ``path``, replaced in one step (``dumps``: json.dumps options)."""
    tmp = _beside(path)
    tmp.write_text(json.dumps(obj, **dumps), encoding="utf-8")
    tmp.replace(path)


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """One JSON object per line in ``path``, replaced in one step."""
    tmp = _beside(path)
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _beside(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".tmp")
