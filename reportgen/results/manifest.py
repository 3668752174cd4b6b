"""The manifest of a finished results folder: written last, so a folder without a matching one is unfinished.

``manifest.json`` lists every file of the saved run with its size and sha256, and the run key. Saving
removes the old manifest before it renames the new files into place and writes the new one after, so a
kill at any point leaves either a complete folder or one whose manifest is missing or does not match;
reading refuses the latter in one line instead of mixing two runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ReportgenError
from .files import sha256_of, write_json

MANIFEST = "manifest.json"
# The only names a manifest may list: nothing outside the folder, nothing reportgen does not write.
LISTED_NAME = re.compile(r"(run\.json|examples\.jsonl|README\.md|attributions/[A-Za-z0-9_.-]+\.jsonl"
                         r"|tables/[a-z0-9_]+\.parquet|schema/((metrics|tables)/)?[a-z0-9_]+\.json)")


def seal(folder: Path, names: list[str], run_key: str) -> None:
    """Write the manifest of ``names`` (paths relative to ``folder``) as they are now."""
    files = [{"file": name, "bytes": (folder / name).stat().st_size, "sha256": sha256_of(folder / name)}
             for name in names]
    write_json(folder / MANIFEST, {"written_by": "reportgen", "run_key": run_key, "files": files}, indent=1)


def reseal(folder: str | Path) -> None:
    """Seal the files a manifest lists again, as they are now (what anyone who edits a folder can do)."""
    folder = Path(folder)
    manifest = _read(folder)
    seal(folder, [entry["file"] for entry in manifest["files"]], manifest["run_key"])


def unseal(folder: Path) -> list[str]:
    """Remove the manifest; the names it listed (empty when there was none or it is unreadable)."""
    try:
        names = [entry["file"] for entry in _read(folder)["files"]]
    except ReportgenError:
        names = []
    (folder / MANIFEST).unlink(missing_ok=True)
    return names


def verify(folder: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there as listed; else one line saying what differs."""
    manifest = _read(folder)
    for entry in manifest["files"]:
        path = folder / entry["file"]
        if path.is_symlink() or not path.is_file():
            raise ReportgenError(f"results folder {folder} is incomplete: {entry['file']} is missing; "
                                 "a run was interrupted while saving: rerun it")
        if path.stat().st_size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
            raise ReportgenError(f"results folder {folder} does not match its manifest: {entry['file']} was "
                                 "changed after it was saved, or a run was interrupted while saving")
    return manifest


def _read(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        raise ReportgenError(f"results folder {folder} is incomplete: it has no {MANIFEST} (a run was "
                             "interrupted while saving, or another tool wrote it); rerun the run")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportgenError(f"cannot read {path}: {type(err).__name__}") from None
    problem = _shape_problem(manifest)
    if problem:
        raise ReportgenError(f"cannot read {path}: {problem}")
    return manifest


def _shape_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        return "it lists no files"
    if not isinstance(manifest.get("run_key"), str):
        return "it names no run"
    for entry in manifest["files"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)
                and LISTED_NAME.fullmatch(entry["file"]) and isinstance(entry.get("bytes"), int)
                and isinstance(entry.get("sha256"), str)):
            return f"an entry is not a file of a results folder: {str(entry)[:80]!r}"
    listed = {entry["file"] for entry in manifest["files"]}
    if not {"run.json", "examples.jsonl"} <= listed:
        return "it does not list run.json and examples.jsonl"
    return None

