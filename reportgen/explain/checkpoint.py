"""Work written as it finishes, so a run killed at any point resumes where it stopped.

The unit of work is (batch, method): the engine's batch plan is a pure function of the
examples and the batch limits, so a resumed run rebuilds exactly the batches of the first
run and recomputes only the units that are missing. Results therefore match an
uninterrupted run bit for bit. Every unit is one appended JSON line; a line cut short by
a kill is ignored. Fingerprints of the model weights, the data and each method's
parameters decide what stored work is still valid: a changed model or dataset discards
everything, a changed method discards only that method's lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..results.files import remove_temporaries, write_json
from ..results.folder import owned
from ..results.records import Attribution, Example, Failure


@dataclass
class Unit:
    """One method's work on one batch: its scores, its failures and what it cost."""

    attributions: list[Attribution] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    evaluations: int = 0

    def to_json(self, batch: int) -> dict[str, Any]:
        return {"batch": batch, "seconds": self.seconds, "evaluations": self.evaluations,
                "attributions": [asdict(a) for a in self.attributions],
                "failures": [asdict(f) for f in self.failures]}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> "Unit":
        return cls([Attribution(**a) for a in row["attributions"]], [Failure(**f) for f in row["failures"]],
                   row["seconds"], row["evaluations"])


FOLDER = "partial"
FINGERPRINT = "fingerprint.json"
PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.jsonl"


class Checkpoint:
    """Appends finished units under ``results/partial`` and reads them back on resume.

    Made with the results folder; :meth:`open` claims the folder (:mod:`reportgen.results.folder`) and keeps
    the stored work that is still valid for the run and the methods the fingerprints describe. Every row
    carries the run key, and a row of another run, or one of the wrong shape, is never used.
    """

    def __init__(self, results: str | Path, overwrite: bool = False):
        self.results = Path(results)
        self.folder = self.results / FOLDER
        self.overwrite = overwrite
        self.run_key = ""
        self.method_keys: dict[str, str] = {}
        self.discarded: dict[str, int] = {}  # file name -> stored rows found damaged and recomputed
        self._claim = ExitStack()

    def open(self, run_key: str, method_keys: dict[str, str]) -> "Checkpoint":
        self.run_key, self.method_keys = run_key, method_keys
        claimed = self._claim.enter_context(owned(self.results, self.overwrite))
        claimed.adopt(run_key, self._remove_previous)
        stored = _read_json(self.folder / FINGERPRINT)
        if stored.get("run") != self.run_key:
            self._remove_own_files(stored)
            stored = {}
        self.folder.mkdir(exist_ok=True)
        remove_temporaries(self.folder)
        stored_methods = stored.get("methods") if isinstance(stored.get("methods"), dict) else {}
        for method, key in self.method_keys.items():
            if stored_methods.get(method, key) != key:
                (self.folder / f"{method}.jsonl").unlink(missing_ok=True)
        write_json(self.folder / FINGERPRINT, {"run": self.run_key, "methods": self.method_keys}, sort_keys=True)
        self.predictions = _Rows(self.folder / PREDICTIONS, run_key)
        self.units = {method: _Rows(self.folder / f"{method}.jsonl", run_key) for method in self.method_keys}
        self.metrics = _Rows(self.folder / METRICS, run_key, key_field="key")
        return self

    def close(self) -> None:
        """Release the results folder (the rows stay for a resumed run)."""
        self._claim.close()

    def saved_units(self) -> int:
        """How many (batch, method) units are stored, from this run and any it resumed."""
        return sum(len(rows.offsets) for rows in getattr(self, "units", {}).values())

    def outcomes(self, batch: int, examples: list[Example]) -> list[dict[str, Any]] | None:
        """Stored predictions of a batch: per example its probabilities or its error (None: compute them)."""
        row = self.predictions.get(batch)
        if row is None:
            return None
        if not _outcomes_fit(row.get("examples"), examples):
            return self._discard(PREDICTIONS)
        return row["examples"]

    def save_outcomes(self, batch: int, outcomes: list[dict[str, Any]]) -> None:
        self.predictions.append({"batch": batch, "examples": outcomes})

    def unit(self, method: str, batch: int, examples: list[Example] | None = None) -> Unit | None:
        """A method's stored work on a batch whose explainable examples are ``examples`` (when given);
        None: compute it."""
        row = self.units[method].get(batch)
        if row is None:
            return None
        try:
            unit = Unit.from_json(row)
        except (KeyError, TypeError, ValueError, AttributeError):
            return self._discard(f"{method}.jsonl")
        if examples is not None and not _unit_fits(unit, examples):
            return self._discard(f"{method}.jsonl")
        return unit

    def save_unit(self, method: str, batch: int, unit: Unit) -> None:
        self.units[method].append(unit.to_json(batch))

    def metric(self, name: str, inputs: Any) -> dict[str, Any] | None:
        """The stored result of a metric computed before from the same ``inputs``, or None."""
        row = self.metrics.get(fingerprint(name, inputs, self.method_keys))
        return row["entry"] if row is not None and isinstance(row.get("entry"), dict) else None

    def save_metric(self, name: str, inputs: Any, entry: dict[str, Any]) -> None:
        self.metrics.append({"key": fingerprint(name, inputs, self.method_keys), "entry": entry})

    def _discard(self, name: str) -> None:
        self.discarded[name] = self.discarded.get(name, 0) + 1
        print(f"note: a stored row of {self.folder / name} does not fit this run; recomputing it", file=sys.stderr)
        return None

    def _remove_previous(self, results: Path) -> None:
        """--overwrite: the previous run's stored work goes; its saved results stay whole until this run's
        final save replaces them."""
        self._remove_own_files(_read_json(self.folder / FINGERPRINT))

    def _remove_own_files(self, stored: dict[str, Any]) -> None:
        """The files this checkpoint writes (a method's only when the fingerprint names it); nothing else."""
        if not self.folder.is_dir() or self.folder.is_symlink():
            return
        methods = stored.get("methods") if isinstance(stored.get("methods"), dict) else {}
        names = [FINGERPRINT, PREDICTIONS, METRICS] + [f"{m}.jsonl" for m in methods if _plain_name(m)]
        for name in names:
            path = self.folder / name
            if path.is_file() and not path.is_symlink():
                path.unlink()


def remove_finished(results: str | Path) -> None:
    """After a finished run is saved, its checkpoint's own files under ``results/partial`` go (the saved results
    are then the one copy), and the folder too when nothing else is in it. Files of anyone else stay."""
    folder = Path(results) / FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return
    Checkpoint(results)._remove_own_files(_read_json(folder / FINGERPRINT))
    remove_temporaries(folder)
    if not any(folder.iterdir()):
        folder.rmdir()


def _plain_name(name: Any) -> bool:
    return isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", name) is not None and name not in (".", "..")


def _outcomes_fit(outcomes: Any, examples: list[Example]) -> bool:
    """Stored predictions belong to the batch: one per example, in order, each a probability row or an error."""
    if not isinstance(outcomes, list) or len(outcomes) != len(examples):
        return False
    for outcome, ex in zip(outcomes, examples):
        if not isinstance(outcome, dict) or outcome.get("example") != ex.index:
            return False
        if "error" in outcome:
            if not isinstance(outcome["error"], str):
                return False
        elif not _numbers(outcome.get("probabilities")):
            return False
    return True


def _unit_fits(unit: Unit, examples: list[Example]) -> bool:
    """A stored unit explains only examples of the batch, a score per token and per word."""
    by_index = {ex.index: ex for ex in examples}
    for attribution in unit.attributions:
        ex = by_index.get(attribution.example)
        if ex is None or not isinstance(attribution.extra, dict):
            return False
        if not (_numbers(attribution.tokens, len(ex.input_ids)) and _numbers(attribution.words, len(ex.words))):
            return False
    numbers_ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (unit.seconds, unit.evaluations))
    return numbers_ok and all(f.example in by_index and isinstance(f.reason, str) for f in unit.failures)


def _numbers(values: Any, length: int | None = None) -> bool:
    if not isinstance(values, list) or (length is not None and len(values) != length):
        return False
    return all(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)) for value in values)


class _Rows:
    """One append-only JSON-lines file of rows, each found by its key (a batch number, or a metric's inputs).

    Only the byte offset of each key's row is kept in memory, so a long run holds none of its stored work
    twice; a row is read back when a resumed run asks for it. A line cut short by a kill (and anything
    after it) is cut off the file when it is opened, so the rows appended next start on a line of their
    own. Rows of another run are skipped.
    """

    def __init__(self, path: Path, run_key: str, key_field: str = "batch"):
        self.path = path
        self.run_key = run_key
        self.key_field = key_field
        self.offsets = _index_and_repair(path, run_key, key_field)

    def get(self, key: Any) -> dict[str, Any] | None:
        offset = self.offsets.get(key)
        if offset is None:
            return None
        with self.path.open("rb") as rows:
            rows.seek(offset)
            return json.loads(rows.readline())

    def append(self, row: dict[str, Any]) -> None:
        line = (json.dumps({**row, "run": self.run_key}, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")
        with self.path.open("ab") as out:
            offset = out.tell()
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self.offsets[row[self.key_field]] = offset


def _index_and_repair(path: Path, run_key: str, key_field: str) -> dict[Any, int]:
    """Byte offset of each key's last complete row of this run; the file is truncated after the last good line."""
    offsets: dict[Any, int] = {}
    if not path.is_file():
        return offsets
    good_end = 0
    with path.open("rb") as rows:
        for line in iter(rows.readline, b""):
            if not line.endswith(b"\n"):
                break  # the tail of a line cut short by a kill
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            mine = isinstance(row, dict) and row.get("run") == run_key
            key = row.get(key_field) if mine else None
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                offsets[key] = good_end
            good_end += len(line)
    if good_end < path.stat().st_size:
        with path.open("r+b") as rows:
            rows.truncate(good_end)
    return offsets


def fingerprint(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def model_fingerprint(model) -> str:
    """Hash of every weight tensor and the config: any change of the model changes it (a black-box model
    gives its own)."""
    if callable(getattr(model, "fingerprint", None)):
        return model.fingerprint()
    digest = hashlib.sha256(model.config.to_json_string().encode("utf-8"))
    for name, tensor in model.state_dict().items():
        digest.update(name.encode("utf-8"))
        raw = tensor.detach().cpu().contiguous().view(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
