"""The tables of a results folder written out for other tools: Parquet, or CSV for spreadsheets.

:func:`export` reads the folder as rendering does (validated: a results folder read back is untrusted), builds
the tables of :mod:`.tables` from it and writes ``<name>.parquet`` or ``<name>.csv`` for each into the output
folder. CSV holds what a spreadsheet can: a list column (``probabilities``, ``labels``, ``predicted``) as JSON
text, NaN as ``nan``, null as an empty cell and an empty text as ``""``. Because auditors open CSVs in
spreadsheets, which run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and may drop a
tab or carriage return before one), every text cell that starts with one of these six characters is written
with a single quote before it (OWASP's defence against CSV injection): ``'=HYPERLINK(...)`` shows as text.
Read such a CSV with another tool and that quote is part of the cell; the Parquet files hold every text as it is.

No file reportgen did not write is replaced: the output folder may be new or empty, or hold
``reportgen-export.json``, the marker of an earlier export, which lists the files reportgen wrote there;
an export whose files exist and are not listed is refused, naming the first. The marker is written before
the files it adds, so a killed export never leaves a file of its own unlisted; each file is replaced in one
step (:mod:`.files`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from ..errors import ReportgenError
from .files import write_bytes, write_json
from .store import load
from .tables import parquet_bytes, tables

FORMATS = ("parquet", "csv")
MARKER = "reportgen-export.json"
WRITER = "reportgen"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export(results_dir: str | Path, fmt: str, out_dir: str | Path) -> list[Path]:
    """Write the tables of the results folder ``results_dir`` as ``fmt`` ("parquet" or "csv") files into
    ``out_dir`` (created if needed) and return their paths."""
    if fmt not in FORMATS:
        raise ReportgenError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    if not results_dir.is_dir():
        raise ReportgenError(f"results folder {results_dir} does not exist or is not a folder")
    encode = parquet_bytes if fmt == "parquet" else csv_bytes
    contents = {f"{name}.{fmt}": encode(table) for name, table in tables(load(results_dir)).items()}
    listed = _writable_names(out_dir, list(contents))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / MARKER, {"written_by": WRITER, "files": sorted(set(listed) | set(contents))}, indent=1)
    for name, data in contents.items():
        write_bytes(out_dir / name, data)
    return [out_dir / name for name in contents]


def _writable_names(out_dir: Path, names: list[str]) -> list[str]:
    """The names the folder's marker lists, once each of ``names`` is missing or listed; else one line naming
    the first that is neither (a file reportgen did not write)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportgenError(f"export folder {out_dir} is a file; give a new, empty or earlier export folder")
    if not out_dir.exists():
        return []
    listed = _listed(out_dir)
    if listed is None and _exists(out_dir / MARKER):
        raise ReportgenError(_refusal(out_dir / MARKER))
    for name in names:
        path = out_dir / name
        if path.is_symlink() or (path.exists() and (name not in (listed or []) or not path.is_file())):
            raise ReportgenError(_refusal(path))
    return listed or []


def _listed(out_dir: Path) -> list[str] | None:
    """The files the marker in ``out_dir`` lists; None without a marker reportgen wrote."""
    path = out_dir / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = marker.get("files") if isinstance(marker, dict) and marker.get("written_by") == WRITER else None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return None
    return [name for name in files if _plain_name(name)]


def _plain_name(name: str) -> bool:
    """A name the marker may list: one of the files an export writes, in the folder itself."""
    stem, _, suffix = name.rpartition(".")
    return suffix in FORMATS and stem.replace("_", "").isalnum() and stem.isascii()


def _exists(path: Path) -> bool:
    return path.is_symlink() or path.exists()


def _refusal(path: Path) -> str:
    return (f"{path} exists and reportgen did not export it; move it away or choose another folder with --out "
            "(reportgen replaces only files it wrote)")


# ----------------------------------------------------------------------------- CSV


def csv_bytes(table: pa.Table) -> bytes:
    """``table`` as CSV: list columns as JSON text, text cells guarded against running as formulas."""
    columns = [_csv_column(table.column(name)) for name in table.column_names]
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(columns, names=table.column_names), sink)
    return sink.getvalue().to_pybytes()


def _csv_column(column: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_list(column.type):
        return pa.array([None if cell is None else json.dumps(cell, ensure_ascii=False)
                         for cell in column.to_pylist()], pa.string())
    if pa.types.is_string(column.type):
        return pa.array([_guarded(cell) for cell in column.to_pylist()], pa.string())
    return column


def _guarded(cell: Any) -> Any:
    """A text cell a spreadsheet shows as text: a single quote before one that would start a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
