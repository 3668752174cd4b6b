"""A run saved as a folder, and read back.

Layout of a results folder::

    run.json                      config, model, dataset, versions, methods, metrics, failures
    examples.jsonl                one line per example (text, tokens, prediction, ...)
    attributions/<method>.jsonl   one line per explained example
    tables/<name>.parquet         the run as tidy tables (tables.py): derived, so never read back
    README.md                     what each file holds (readme.py)
    schema/                       the JSON Schema of each file, as loading validates it
    manifest.json                 every file above with its size and sha256, and the run key; written last
    reportgen.json                the marker: this folder is reportgen's, and the run it holds (.folder)
    reportgen.lock                held by the run working on the folder (.folder)
    partial/                      the checkpoint of a run (explain.checkpoint)

Every file names an example ``example`` (from format 3; format 2 named it ``index`` in examples.jsonl).
Loading reads the formats in READABLE_FORMATS, each validated against its own schemas.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from functools import partial
from pathlib import Path
from typing import Any, Callable

from ..errors import ReportgenError, first_line
from .files import jsonl_chunks, remove_temporaries, staged, sync_folder
from .folder import owned
from .manifest import seal, unseal, verify
from .readme import results_readme, schema_files, schema_folders
from .records import Attribution, Example, Failure, MethodInfo, RunResult
from .schema import check_attribution, check_example, check_run
from .tables import TABLES_FOLDER, table_files

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
# What examples.jsonl names an example's number (Example.index), by format
EXAMPLE_KEY = {2: "index", 3: "example"}
# Example fields that only some tasks (those reading two texts, those explaining a row per label) or data (rationales)
# fill in
TASK_FIELDS = ("text_pair", "word_segments", "source", "labels", "predicted", "tags", "predicted_tags", "token_tags",
               "entity", "generated", "step", "alignment", "rationale", "rationale_error")
_META_FIELDS = ("config", "model", "dataset", "versions", "created", "timings", "metrics")


def save(run: RunResult, folder: str | Path, overwrite: bool = False) -> Path:
    """Write ``run`` to ``folder`` (created if needed; see :mod:`.folder` for which folders are refused)
    and return the folder. Every file is written beside its final name first and the manifest last
    (:mod:`.manifest`), so an interrupted save never passes for a finished one."""
    folder = Path(folder)
    with owned(folder, overwrite) as claimed:
        claimed.adopt(run.key, remove_saved)
        places = [folder, folder / "attributions", folder / TABLES_FOLDER,
                  *(folder / name for name in schema_folders(FORMAT_VERSION))]
        for place in places[1:]:
            place.mkdir(exist_ok=True)
        for place in places:
            remove_temporaries(place)
        staged = _staged_files(run, folder)
        previous = unseal(folder)
        for name, temporary in staged.items():
            os.replace(temporary, folder / name)
        for place in reversed(places):
            sync_folder(place)
        _remove_listed(folder, [name for name in previous if name not in staged])
        seal(folder, list(staged), run.key)
    return folder


def remove_saved(folder: Path) -> None:
    """Remove the files of the saved run in ``folder`` (those its manifest lists, nothing else)."""
    _remove_listed(folder, unseal(folder))


def _staged_files(run: RunResult, folder: Path) -> dict[str, Path]:
    """Every file of ``run`` written under a temporary name beside its own: final name -> temporary."""
    meta = {name: getattr(run, name) for name in _META_FIELDS}
    meta["format_version"] = FORMAT_VERSION
    meta["methods"] = [asdict(info) for info in run.methods.values()]
    meta["failures"] = [asdict(failure) for failure in run.failures]
    contents = {
        "run.json": [json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8", errors="replace")],
        "examples.jsonl": jsonl_chunks(_example_row(ex) for ex in run.examples),
    }
    for method, by_example in run.attributions.items():
        contents[f"attributions/{method}.jsonl"] = _attribution_chunks(by_example)
    contents.update({name: [data] for name, data in table_files(run).items()})
    contents["README.md"] = [results_readme(run, FORMAT_VERSION).encode("utf-8", errors="replace")]
    contents.update({name: [data] for name, data in schema_files(FORMAT_VERSION).items()})
    done: dict[str, Path] = {}
    try:
        for name, chunks in contents.items():
            done[name] = staged(folder / name, chunks)
    except BaseException:
        for temporary in done.values():
            temporary.unlink(missing_ok=True)
        raise
    return done


def _example_row(ex: Example) -> dict[str, Any]:
    """An example as its line holds it: the fields of some tasks only where the example has them, so results of
    one text and one class per example are written as before those tasks existed."""
    row = asdict(ex)
    for name in TASK_FIELDS:
        if row[name] is None:
            del row[name]
    return {EXAMPLE_KEY[FORMAT_VERSION]: row.pop("index"), **row}


def _attribution_chunks(by_example: dict[int, Attribution]):
    return jsonl_chunks(asdict(by_example[key]) for key in sorted(by_example))


def _remove_listed(folder: Path, names: list[str]) -> None:
    for name in names:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink()


def load(folder: str | Path) -> RunResult:
    """Read a results folder written by :func:`save`."""
    folder = Path(folder)
    run_file = folder / "run.json"
    if not run_file.is_file():
        raise ReportgenError(f"{folder} is not a results folder: run.json is missing")
    manifest = verify(folder)
    meta = _parsed(run_file, _read_json, run_file)
    if not isinstance(meta, dict):
        raise ReportgenError(f"cannot read results file {run_file}: it holds no JSON object")
    version = _format_of(meta, folder)
    check_run(meta, run_file, version)
    run = _parsed(run_file, _run_from_meta, meta)
    run.key = manifest["run_key"]
    examples_file = folder / "examples.jsonl"
    classes = len(run.labels) or run.model.get("vocabulary", 0)  # a language model's classes: its vocabulary
    check = partial(check_example, path=examples_file, classes=classes, version=version)
    run.examples = _parsed(examples_file, _read_rows, Example, examples_file, check, EXAMPLE_KEY[version])
    tokens = {ex.index: len(ex.tokens) for ex in run.examples}
    listed = [entry["file"] for entry in manifest["files"]]
    for path in sorted(folder / name for name in listed if name.startswith("attributions/")):
        check = partial(check_attribution, path=path, tokens=tokens, version=version)
        for attribution in _parsed(path, _read_rows, Attribution, path, check):
            run.add(attribution)
    return run


def _format_of(meta: dict, folder: Path) -> int:
    """The results format of run.json's content, one this reportgen reads; else one line naming both."""
    version = meta.get("format_version")
    if type(version) is not int or version not in READABLE_FORMATS:  # not 2.0 or True: each is refused
        readable = " and ".join(map(str, READABLE_FORMATS))
        raise ReportgenError(f"{folder} holds results format {version!r}; this reportgen reads formats {readable}")
    return version


def _run_from_meta(meta: dict) -> RunResult:
    run = RunResult(**{name: meta[name] for name in _META_FIELDS})
    run.methods = {m["name"]: _build(MethodInfo, m) for m in meta["methods"]}
    run.failures = [_build(Failure, f) for f in meta["failures"]]
    return run


def _read_rows(cls, path: Path, check: Callable[[Any, int], None], index_key: str | None = None) -> list:
    """The lines of ``path`` as ``cls`` records, each first checked by ``check(row, line number)``;
    ``index_key``: the key a line names the record's ``index`` by."""
    records = []
    for number, row in _read_jsonl(path):
        check(row, number)
        if index_key is not None:
            row = {**row, "index": row[index_key]}
        records.append(_build(cls, row))
    return records


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


def _read_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, value) for each line that is not blank."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        return [(number, _json_line(path, number, line)) for number, line in enumerate(lines, start=1) if line.strip()]


def _json_line(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as err:
        raise ReportgenError(f"cannot read results file {path}, line {number}: {first_line(err)}") from None
