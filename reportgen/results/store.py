"""A run saved as a folder, and read back.

Layout of a results folder::

    run.json                      config, model, dataset, versions, methods, metrics, failures
    examples.jsonl                one line per example (text, tokens, prediction, ...)
    attributions/<method>.jsonl   one line per explained example
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterable

from ..errors import ReportgenError, first_line
from .files import write_json, write_jsonl
from .records import Attribution, Example, Failure, MethodInfo, RunResult

FORMAT_VERSION = 1
_META_FIELDS = ("config", "model", "dataset", "versions", "created", "timings", "metrics")


def save(run: RunResult, folder: str | Path) -> Path:
    """Write ``run`` to ``folder`` (created if needed) and return the folder."""
    folder = Path(folder)
    (folder / "attributions").mkdir(parents=True, exist_ok=True)
    meta = {name: getattr(run, name) for name in _META_FIELDS}
    meta["format_version"] = FORMAT_VERSION
    meta["methods"] = [asdict(info) for info in run.methods.values()]
    meta["failures"] = [asdict(failure) for failure in run.failures]
    write_json(folder / "run.json", meta, ensure_ascii=False, indent=1)
    write_jsonl(folder / "examples.jsonl", (asdict(ex) for ex in run.examples))
    for stale in (folder / "attributions").glob("*.jsonl"):
        if stale.stem not in run.attributions:
            stale.unlink()
    for method, by_example in run.attributions.items():
        rows = (asdict(by_example[key]) for key in sorted(by_example))
        write_jsonl(folder / "attributions" / f"{method}.jsonl", rows)
    return folder


def load(folder: str | Path) -> RunResult:
    """Read a results folder written by :func:`save`."""
    folder = Path(folder)
    run_file = folder / "run.json"
    if not run_file.is_file():
        raise ReportgenError(f"{folder} is not a results folder: run.json is missing")
    meta = _parsed(run_file, _read_json, run_file)
    if not isinstance(meta, dict):
        raise ReportgenError(f"cannot read results file {run_file}: it holds no JSON object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ReportgenError(
            f"{folder} holds results format {meta.get('format_version')!r}; "
            f"this reportgen reads format {FORMAT_VERSION}"
        )
    run = _parsed(run_file, _run_from_meta, meta)
    run.examples = _parsed(folder / "examples.jsonl", _read_rows, Example, folder / "examples.jsonl")
    for path in sorted((folder / "attributions").glob("*.jsonl")):
        for attribution in _parsed(path, _read_rows, Attribution, path):
            run.add(attribution)
    return run


def _run_from_meta(meta: dict) -> RunResult:
    run = RunResult(**{name: meta[name] for name in _META_FIELDS})
    run.methods = {m["name"]: _build(MethodInfo, m) for m in meta["methods"]}
    run.failures = [_build(Failure, f) for f in meta["failures"]]
    return run


def _read_rows(cls, path: Path) -> list:
    return [_build(cls, row) for row in _read_jsonl(path)]


def _parsed(path: Path, parse, *args):
    """``parse(*args)``, with whatever a damaged or foreign ``path`` makes it raise turned into one line."""
    try:
        return parse(*args)
    except KeyError as err:
        raise ReportgenError(f"cannot read results file {path}: it lacks {err.args[0]!r}") from None
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as err:
        raise ReportgenError(f"cannot read results file {path}: {first_line(err)}") from None


def _build(cls, row: dict):
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in known})


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_jsonl(path: Path) -> Iterable[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
