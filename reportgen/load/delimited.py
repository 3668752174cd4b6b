"""Reading CSV and TSV files strictly: every cell as text, and a row longer than the header is an error."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import pandas as pd

from ..errors import ReportgenError


def read_delimited(path: Path, encoding: str, sep: str) -> pd.DataFrame:
    """pandas' C reader with every cell as text; rows longer than the header are an error, never
    silently cut or shifted into an index (rows shorter than the header get missing cells)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, index_col=False)
        except pd.errors.ParserWarning:
            raise ReportgenError(_long_row(path, encoding, sep)) from None
        except pd.errors.ParserError as err:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
            if found is None:
                raise
            expected, line, saw = found.groups()
            raise ReportgenError(_long_row_message(path, int(line), int(saw), int(expected), sep)) from None


def _long_row(path: Path, encoding: str, sep: str) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=sep)
        header = next(reader, [])
        for fields in reader:
            if len(fields) > len(header):
                return _long_row_message(path, reader.line_num, len(fields), len(header), sep)
    return f"cannot parse {path}: rows have more fields than the header"


def _long_row_message(path: Path, line: int, saw: int, expected: int, sep: str) -> str:
    name = "tab" if sep == "\t" else repr(sep)
    return (f"{path} line {line} has {saw} fields but the header has {expected}; "
            f"quote fields that contain the separator ({name})")
