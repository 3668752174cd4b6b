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
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..results.files import write_json
from ..results.records import Attribution, Failure


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


class Checkpoint:
    """Appends finished units under ``results/partial`` and reads them back on resume.

    Made with the results folder; :meth:`open` then keeps the stored work that is still valid
    for the run and the methods the fingerprints describe.
    """

    def __init__(self, results: str | Path):
        self.folder = Path(results) / FOLDER
        self.run_key = ""
        self.method_keys: dict[str, str] = {}

    def open(self, run_key: str, method_keys: dict[str, str]) -> "Checkpoint":
        self.run_key, self.method_keys = run_key, method_keys
        stored = _read_json(self.folder / "fingerprint.json")
        if stored.get("run") != self.run_key:
            shutil.rmtree(self.folder, ignore_errors=True)
            stored = {}
        self.folder.mkdir(parents=True, exist_ok=True)
        for method, key in stored.get("methods", {}).items():
            if self.method_keys.get(method) != key:
                (self.folder / f"{method}.jsonl").unlink(missing_ok=True)
        write_json(self.folder / "fingerprint.json", {"run": self.run_key, "methods": self.method_keys}, sort_keys=True)
        self.predictions = _Rows(self.folder / "predictions.jsonl")
        self.units = {method: _Rows(self.folder / f"{method}.jsonl") for method in self.method_keys}
        return self

    def outcomes(self, batch: int) -> list[dict[str, Any]] | None:
        """Stored predictions of a batch: per example its probabilities or its error."""
        row = self.predictions.get(batch)
        return row["examples"] if row else None

    def save_outcomes(self, batch: int, outcomes: list[dict[str, Any]]) -> None:
        self.predictions.append({"batch": batch, "examples": outcomes})

    def unit(self, method: str, batch: int) -> Unit | None:
        row = self.units[method].get(batch)
        return Unit.from_json(row) if row else None

    def save_unit(self, method: str, batch: int, unit: Unit) -> None:
        self.units[method].append(unit.to_json(batch))


class _Rows:
    """One append-only JSON-lines file of per-batch rows.

    Only the byte offset of each batch's row is kept in memory, so a long run holds none of
    its stored work twice; a row is read back when a resumed run asks for it. A line cut
    short by a kill (and anything after it) is cut off the file when it is opened, so the
    rows appended next start on a line of their own.
    """

    def __init__(self, path: Path):
        self.path = path
        self.offsets = _index_and_repair(path)

    def get(self, batch: int) -> dict[str, Any] | None:
        offset = self.offsets.get(batch)
        if offset is None:
            return None
        with self.path.open("rb") as rows:
            rows.seek(offset)
            return json.loads(rows.readline())

    def append(self, row: dict[str, Any]) -> None:
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        with self.path.open("ab") as out:
            offset = out.tell()
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self.offsets[row["batch"]] = offset


def _index_and_repair(path: Path) -> dict[int, int]:
    """Byte offset of each batch's last complete row; the file is truncated after the last good line."""
    offsets: dict[int, int] = {}
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
            offsets[row["batch"]] = good_end
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
    """Hash of every weight tensor and the config: any change of the model changes it."""
    digest = hashlib.sha256(model.config.to_json_string().encode("utf-8"))
    for name, tensor in model.state_dict().items():
        digest.update(name.encode("utf-8"))
        raw = tensor.detach().cpu().contiguous().view(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
