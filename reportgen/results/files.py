"""Writing files so that a reader never sees half of one, and a failed write loses nothing.

Every output is written to a temporary file beside it, synced to disk, then renamed over it: a full
disk or a kill leaves the previous file whole. The temporary's name marks it as reportgen's, so a
later run may remove a temporary left behind by a killed one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import ReportgenError

TEMPORARY = ".reportgen-tmp"  # in the name of every temporary file reportgen writes
CHUNK = 1 << 20
MARK_WINDOW = 1 << 16  # where refuse_foreign looks for the mark of a file reportgen wrote


def write_json(path: Path, obj: Any, **dumps: Any) -> None:
    """``obj`` as JSON in ``path``, replaced in one step (``dumps``: json.dumps options)."""
    write_bytes(path, json.dumps(obj, **dumps).encode("utf-8", errors="replace"))


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """One JSON object per line in ``path``, replaced in one step."""
    write_chunks(path, jsonl_chunks(rows))


def write_text(path: Path, text: str) -> None:
    # errors="replace": a lone surrogate in a dataset string must not stop the output.
    write_bytes(path, text.encode("utf-8", errors="replace"))


def write_bytes(path: Path, data: bytes) -> None:
    write_chunks(path, [data], len(data))


def write_chunks(path: Path, chunks: Iterable[bytes], size: int | None = None) -> None:
    """The chunks, in order, as the new content of ``path`` (``size``: their total, where known)."""
    os.replace(staged(path, chunks, size), path)
    sync_folder(path.parent)


def staged(path: Path, chunks: Iterable[bytes], size: int | None = None) -> Path:
    """The chunks written and synced to a temporary file beside ``path``, whose name is returned;
    on any failure the temporary is removed, and a full disk is named with the space it needed."""
    tmp = temporary_for(path)
    written = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            for chunk in chunks:
                written += _write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ReportgenError(_no_space(path, written, size)) from None
        raise
    return tmp


def refuse_foreign(path: Path, mark: bytes, what: str) -> None:
    """Refuse, in one line, to replace ``path`` unless it is missing or a file reportgen wrote (its
    first bytes hold ``mark``); links are refused, never written through."""
    if path.is_symlink():
        raise ReportgenError(f"{what} {path} is a symbolic link; reportgen does not write through links: "
                             "give the path of a file")
    if not path.exists():
        return
    if not path.is_file():
        raise ReportgenError(f"{what} {path} exists and is not a file")
    with path.open("rb") as existing:
        head = existing.read(MARK_WINDOW)
    if mark not in head:
        raise ReportgenError(f"{what} {path} exists and reportgen did not write it; move it away or choose "
                             "another path (reportgen replaces only files it wrote)")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def temporary_for(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMPORARY}-{os.getpid()}")


def remove_temporaries(folder: Path) -> None:
    """Remove the temporary files a killed reportgen left in ``folder`` (only names it gives them)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for leftover in folder.glob(f".*{TEMPORARY}-*"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return len(data)


def jsonl_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    lines: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        lines.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(lines).encode("utf-8", errors="replace")
            lines, size = [], 0
    yield "".join(lines).encode("utf-8", errors="replace")


def _no_space(path: Path, written: int, size: int | None) -> str:
    needed = f"{size / 1e6:.1f} MB" if size is not None else f"more than {written / 1e6:.1f} MB"
    try:
        free = f"; {shutil.disk_usage(path.parent).free / 1e6:.1f} MB free"
    except OSError:
        free = ""
    return (f"no space left on the device to write {path}: it needs {needed}{free}; "
            "the previous file, if any, is kept")
