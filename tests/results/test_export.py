"""Exporting the tables of a results folder: Parquet and CSV files that hold the tables, CSV cells that a
spreadsheet cannot run as formulas, and an output folder where no file reportgen did not write is replaced."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from reportgen.errors import ReportgenError
from reportgen.results import store, tables
from reportgen.results.export import MARKER, export
from reportgen.results.records import Attribution, Example, RunResult

from support.runs import demo_like_run

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
HARMLESS = ["a=b", "'quoted'", "", "plain"]


@pytest.fixture(scope="module")
def results(classifier, tmp_path_factory) -> Path:
    return store.save(demo_like_run(classifier), tmp_path_factory.mktemp("export") / "results")


def folder_tables(folder: Path) -> dict:
    """The tables the results folder carries, as it saved them from the run in memory."""
    return {name: pq.read_table(folder / "tables" / f"{name}.parquet") for name in tables.NAMES}


def test_the_parquet_export_holds_the_tables_of_the_folder(results, tmp_path):
    written = export(results, "parquet", tmp_path / "out")
    assert written == [tmp_path / "out" / f"{name}.parquet" for name in tables.NAMES]
    for name, table in folder_tables(results).items():
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(table), name
    assert json.loads((tmp_path / "out" / MARKER).read_text())["files"] == sorted(p.name for p in written)


def cell_holds(cell: str, value, kind) -> bool:
    """Whether a CSV cell holds ``value``, a value of a column of Arrow type ``kind``."""
    if value is None:
        return cell == ""
    if str(kind).startswith("list"):
        return json.loads(cell) == value
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, float):
        return math.isnan(value) and cell == "nan" or float(cell) == value
    if isinstance(value, int):
        return int(cell) == value
    return cell == ("'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as lines:  # newline="": a carriage return in a cell stays one
        return list(csv.reader(lines))


def test_the_csv_export_holds_the_tables_of_the_folder(results, tmp_path):
    export(results, "csv", tmp_path / "out")
    for name, table in folder_tables(results).items():
        header, *lines = read_csv(tmp_path / "out" / f"{name}.csv")
        assert header == table.column_names and len(lines) == table.num_rows, name
        kinds = [field.type for field in table.schema]
        for line, row in zip(lines, table.to_pylist()):
            assert all(cell_holds(cell, row[column], kind) for cell, column, kind in zip(line, header, kinds)), row


def formula_run() -> RunResult:
    """A run whose class names, texts, tokens and words start like formulas, and some that only look close."""
    texts = FORMULAS + HARMLESS
    examples = [Example(index=i, text=text, label=i % 2, prediction=0, target=0, group=text, tokens=[text, "x"],
                        word_ids=[0, None], words=[text], probabilities=[0.5, 0.5]) for i, text in enumerate(texts)]
    attributions = {i: Attribution("saliency", i, [0.1, -0.2], [0.1]) for i in range(len(texts))}
    return RunResult(model={"labels": ["=cmd|' /C calc'!A0", "-negative"]}, examples=examples,
                     attributions={"saliency": attributions})


def test_csv_cells_that_start_like_a_formula_are_quoted_and_parquet_keeps_them(tmp_path):
    folder = store.save(formula_run(), tmp_path / "results")
    export(folder, "csv", tmp_path / "csv")
    export(folder, "parquet", tmp_path / "parquet")
    header, *lines = read_csv(tmp_path / "csv" / "examples.csv")
    texts = [dict(zip(header, line))["text"] for line in lines]
    assert texts == ["'" + text for text in FORMULAS] + HARMLESS
    labels = {dict(zip(header, line))["label"] for line in lines}
    assert labels == {"'=cmd|' /C calc'!A0", "'-negative"}
    header, *lines = read_csv(tmp_path / "csv" / "word_scores.csv")
    assert [dict(zip(header, line))["text"] for line in lines] == ["'" + text for text in FORMULAS] + HARMLESS
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for line in lines for cell in line
               if not cell.lstrip("-").replace(".", "").isdigit())  # only numbers start with a minus
    parquet = pq.read_table(tmp_path / "parquet" / "examples.parquet").column("text").to_pylist()
    assert parquet == FORMULAS + HARMLESS


def test_a_file_reportgen_did_not_write_is_refused_and_kept(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.csv").write_text("mine")
    with pytest.raises(ReportgenError, match=r"out/metrics\.csv exists and reportgen did not export it"):
        export(results, "csv", out)
    assert sorted(path.name for path in out.iterdir()) == ["metrics.csv"]
    assert (out / "metrics.csv").read_text() == "mine"
    export(results, "parquet", out)  # other names: nothing of the user's is touched
    assert (out / "metrics.csv").read_text() == "mine"
    with pytest.raises(ReportgenError, match=r"metrics\.csv exists and reportgen did not export it"):
        export(results, "csv", out)  # the marker lists only what reportgen wrote


def test_a_marker_reportgen_did_not_write_is_refused_and_kept(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text('{"files": ["examples.csv"]}')
    (out / "examples.csv").write_text("mine")
    with pytest.raises(ReportgenError, match=rf"{MARKER} exists and reportgen did not export it"):
        export(results, "csv", out)
    assert (out / "examples.csv").read_text() == "mine" and (out / MARKER).read_text() == '{"files": ["examples.csv"]}'


def test_a_link_is_refused_and_its_target_kept(results, tmp_path):
    out, target = tmp_path / "out", tmp_path / "precious.txt"
    out.mkdir()
    target.write_text("precious")
    (out / "examples.parquet").symlink_to(target)
    with pytest.raises(ReportgenError, match=r"examples\.parquet exists and reportgen did not export it"):
        export(results, "parquet", out)
    assert target.read_text() == "precious" and (out / "examples.parquet").is_symlink()


def test_an_export_again_into_its_own_folder_replaces_its_files(results, tmp_path):
    out = tmp_path / "out"
    export(store.save(RunResult(), tmp_path / "empty"), "parquet", out)
    assert pq.read_table(out / "examples.parquet").num_rows == 0
    export(results, "parquet", out)
    assert pq.read_table(out / "examples.parquet").equals(folder_tables(results)["examples"])
    export(results, "csv", out)
    listed = json.loads((out / MARKER).read_text())["files"]
    assert listed == sorted(f"{name}.{fmt}" for name in tables.NAMES for fmt in ("csv", "parquet"))
    export(results, "csv", out)  # and again
    assert not [path for path in out.iterdir() if path.name.startswith(".")]  # no temporary left


def test_a_folder_of_format_2_exports(format_2, tmp_path):
    run, folder = format_2
    export(folder, "parquet", tmp_path / "out")
    built = tables.tables(run)
    for name in tables.NAMES:
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(built[name]), name
    assert pq.read_table(tmp_path / "out" / "examples.parquet").column("example").to_pylist() == [
        ex.index for ex in run.examples]


@pytest.mark.parametrize("fmt", ["xlsx", "", "PARQUET"])
def test_an_unknown_format_is_refused_naming_the_formats(results, tmp_path, fmt):
    with pytest.raises(ReportgenError, match=rf"unknown export format {fmt!r}; choose one of parquet, csv"):
        export(results, fmt, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_or_foreign_results_folder_is_refused_in_one_line(results, tmp_path):
    with pytest.raises(ReportgenError, match=r"results folder .*missing does not exist"):
        export(tmp_path / "missing", "csv", tmp_path / "out")
    (tmp_path / "other").mkdir()
    with pytest.raises(ReportgenError, match=r"other is not a results folder: run\.json is missing"):
        export(tmp_path / "other", "csv", tmp_path / "out")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ReportgenError, match=r"export folder .*a-file is a file"):
        export(results, "csv", tmp_path / "a-file")
    assert not (tmp_path / "out").exists() and (tmp_path / "a-file").read_text() == "x"
