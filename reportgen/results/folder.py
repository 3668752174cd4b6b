"""A results folder that reportgen owns: its marker, its lock, and the only files it may remove.

reportgen writes into a folder that is empty (or new) or that carries its marker, ``reportgen.json``;
any other folder is refused, so no file of the user's is ever replaced or removed. The marker names the
run the folder holds (its run key): the same run resumes, another run is refused unless
``overwrite``, and then only the files reportgen lists as its own are removed. While a run works on the
folder it holds an exclusive lock on ``reportgen.lock``; the kernel drops the lock when the process ends,
however it ends, so a lock left by a dead process is simply taken over.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import ReportgenError
from .files import TEMPORARY, write_json

try:
    import fcntl
except ImportError:  # not on Windows: runs there go unlocked
    fcntl = None  # type: ignore[assignment]

MARKER = "reportgen.json"
LOCK = "reportgen.lock"
# Entries a results folder may hold that reportgen reads or writes; links among them, and among the entries of
# the folders it writes into, are refused (a linked folder would take its files elsewhere).
OWN_ENTRIES = ("run.json", "examples.jsonl", "attributions", "tables", "schema", "partial", "manifest.json", MARKER,
               LOCK)
SUBFOLDERS = ("attributions", "tables", "schema", "partial")
WRITER = "reportgen"


class ResultsFolder:
    """One results folder, claimed by this process for a run (see :func:`owned`)."""

    def __init__(self, path: Path, overwrite: bool = False):
        self.path = path
        self.overwrite = overwrite
        self.depth = 0
        self._lock_fd: int | None = None

    @property
    def run_key(self) -> str | None:
        return _marker(self.path).get("run_key")

    def claim(self) -> None:
        check_claimable(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        if not (self.path / MARKER).is_file():
            self._mark(None)

    def adopt(self, run_key: str, remove_previous) -> None:
        """Make ``run_key`` the run this folder holds. Another run's files are refused, or, with
        ``overwrite``, removed by ``remove_previous(folder)`` (which removes only reportgen's files)."""
        held = self.run_key
        if held == run_key:
            return
        if held is not None and not self.overwrite:
            raise ReportgenError(
                f"results folder {self.path} holds another run (other model, data or settings); "
                "pass --overwrite to replace it, or choose another folder with --results"
            )
        if held is not None:
            remove_previous(self.path)
        self._mark(run_key)

    def release(self) -> None:
        if self._lock_fd is None:
            return
        os.ftruncate(self._lock_fd, 0)
        os.close(self._lock_fd)  # closing drops the lock
        self._lock_fd = None

    def _mark(self, run_key: str | None) -> None:
        write_json(self.path / MARKER, {"written_by": WRITER, "run_key": run_key}, indent=1)

    def _lock(self) -> None:
        if fcntl is None:
            return
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise ReportgenError(
                f"results folder {self.path} is in use by pid {holder or 'unknown'} (another reportgen run); "
                "wait for it to finish or choose another folder with --results"
            ) from None
        previous = _read_pid(fd)
        if previous and previous != os.getpid():
            print(f"note: taking over the lock on {self.path} left by pid {previous}, which is no longer running",
                  file=sys.stderr)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._lock_fd = fd


_HELD: dict[Path, ResultsFolder] = {}


@contextmanager
def owned(path: str | Path, overwrite: bool = False) -> Iterator[ResultsFolder]:
    """The results folder claimed for this process for the duration: checked, locked and marked.
    Claims nest: an inner claim of a folder this process holds reuses it."""
    key = Path(os.path.abspath(path))
    folder = _HELD.get(key)
    if folder is None:
        folder = ResultsFolder(Path(path), overwrite)
        folder.claim()
        _HELD[key] = folder
    folder.overwrite = folder.overwrite or overwrite
    folder.depth += 1
    try:
        yield folder
    finally:
        folder.depth -= 1
        if folder.depth == 0:
            folder.release()
            del _HELD[key]


def check_claimable(path: str | Path) -> None:
    """Refuse at once a folder that :func:`owned` would refuse (before any work)."""
    path = Path(path)
    _refuse_links(path)
    if not _ours(path):
        raise ReportgenError(_foreign_message(path))


def is_results_folder(path: Path) -> bool:
    return _marker(path).get("written_by") == WRITER


def _ours(path: Path) -> bool:
    if not path.exists():
        return True
    if not path.is_dir():
        raise ReportgenError(f"results folder {path} is a file")
    if is_results_folder(path):
        return True
    return not [entry for entry in os.listdir(path) if entry != LOCK and TEMPORARY not in entry]


def _foreign_message(path: Path) -> str:
    found = sorted(os.listdir(path))
    shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    older = " (results of an older reportgen have no reportgen.json: move them away)" if "run.json" in found else ""
    return (f"results folder {path} holds files reportgen did not write ({shown}){older}; "
            "give an empty or new folder with --results")


def _refuse_links(path: Path) -> None:
    if not path.is_dir():
        return
    inside = [path / name for name in OWN_ENTRIES]
    for sub in SUBFOLDERS:
        if (path / sub).is_dir() and not (path / sub).is_symlink():
            inside += list((path / sub).iterdir())
    for entry in inside:
        if entry.is_symlink():
            raise ReportgenError(f"{entry} is a symbolic link; reportgen does not follow links inside a results "
                                 "folder: remove the link or choose another folder with --results")


def _marker(path: Path) -> dict[str, Any]:
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(marker, dict) or marker.get("written_by") != WRITER:
        return {}
    if not isinstance(marker.get("run_key"), (str, type(None))):
        marker["run_key"] = ""  # a damaged key: held by no run, so every run sees another run
    return marker


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None
