"""What a reader needs to find a model and a data file again: the hub id and revision of a model fetched from
the hub, the folder's name otherwise, and the sha256 of the weights and of the data file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from ..results.files import sha256_of

WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth")  # what transformers loads weights from


def model_identity(source: str, model: Any) -> dict[str, Any]:
    """A local folder: its name and the sha256 of its weight files; a hub id: the id and the revision (the
    commit) transformers resolved it to."""
    folder = Path(source)
    if folder.is_dir():
        weights = sorted({path for pattern in WEIGHT_FILES for path in folder.glob(pattern) if path.is_file()})
        return {"folder": folder.resolve().name, "weights_sha256": combined_sha256(weights) if weights else None}
    revision = getattr(getattr(model, "config", None), "_commit_hash", None)
    return {"hub_id": source, "revision": revision if isinstance(revision, str) else None}


def combined_sha256(files: Sequence[Path]) -> str:
    """One file: its sha256. Several (sharded weights): the sha256 of their names and hashes, a line each, in
    name order, so that any changed shard changes it."""
    if len(files) == 1:
        return sha256_of(files[0])
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(f"{path.name} {sha256_of(path)}\n".encode("utf-8"))
    return digest.hexdigest()
