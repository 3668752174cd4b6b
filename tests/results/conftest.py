"""A results folder of format 2, as an older reportgen wrote it, for the tests that read one back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.results import manifest, store
from reportgen.results.records import RunResult

from support.runs import small_run


def as_format_2(folder: Path) -> Path:
    """A folder saved in format 3 rewritten as format 2: examples.jsonl names an example ``index``, run.json
    says format 2, and the manifest is sealed again (as anyone who edits a folder can)."""
    lines = (folder / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows and all("example" in row and "index" not in row for row in rows)
    older = [json.dumps({"index": row.pop("example"), **row}, ensure_ascii=False) for row in rows]
    (folder / "examples.jsonl").write_text("\n".join(older) + "\n", encoding="utf-8")
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    meta["format_version"] = 2
    (folder / "run.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest.reseal(folder)
    return folder


@pytest.fixture
def format_2(classifier, tmp_path) -> tuple[RunResult, Path]:
    """A small run, and its results folder in format 2."""
    run = small_run(classifier)
    return run, as_format_2(store.save(run, tmp_path / "format2"))
