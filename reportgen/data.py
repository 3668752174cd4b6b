"""Reading labeled text tables and matching their labels to the model's."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import ReportgenError, first_line

TABLE_READERS = {
    ".csv": lambda path, enc: pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False),
    ".tsv": lambda path, enc: pd.read_csv(path, sep="\t", encoding=enc, dtype=str, keep_default_na=False),
    ".jsonl": lambda path, enc: _read_jsonl(path, enc),
    ".ndjson": lambda path, enc: _read_jsonl(path, enc),
    ".parquet": lambda path, enc: pd.read_parquet(path),
}
SPLIT_PREFERENCE = ("test", "validation", "valid", "dev", "train")


@dataclass
class Dataset:
    """Texts with label ids (matched to the model) and optional groups."""

    texts: list[str]
    labels: list[int]
    rows: list[int]
    groups: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, positions: Sequence[int]) -> "Dataset":
        pick = lambda values: [values[i] for i in positions]  # noqa: E731
        groups = pick(self.groups) if self.groups is not None else None
        return Dataset(pick(self.texts), pick(self.labels), pick(self.rows), groups, dict(self.info))


def read_table(path: str | Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a CSV/TSV/JSONL/Parquet file or a saved ``datasets`` folder."""
    path = Path(path)
    if not path.exists():
        raise ReportgenError(f"data file {path} does not exist")
    if path.is_dir():
        return _read_hf_folder(path)
    reader = TABLE_READERS.get(path.suffix.lower())
    if reader is None:
        raise ReportgenError(
            f"cannot read {path.name}: use one of {', '.join(TABLE_READERS)} or a saved datasets folder"
        )
    try:
        frame = reader(path, encoding)
    except UnicodeDecodeError:
        raise ReportgenError(f"{path} is not valid {encoding} text; pass its encoding with --encoding") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise ReportgenError(f"cannot parse {path}: {first_line(err)}") from None
    return frame, {"path": str(path), "format": path.suffix.lower().lstrip(".")}


def load_dataset(
    path: str | Path,
    label_names: Sequence[str],
    text_column: str = "text",
    label_column: str = "label",
    group_column: str | None = None,
    encoding: str = "utf-8",
) -> Dataset:
    """Load a labeled table and map its labels onto ``label_names`` (the model's id2label)."""
    frame, info = read_table(path, encoding)
    if len(frame) == 0:
        raise ReportgenError(f"data file {path} holds no rows")
    for role, column in (("text", text_column), ("label", label_column), ("group", group_column)):
        if column is not None and column not in frame.columns:
            raise ReportgenError(
                f"{role} column {column!r} is not in {path}; columns: {', '.join(map(str, frame.columns))}"
            )
    texts = [_as_text(value) for value in frame[text_column]]
    labels = match_labels(frame[label_column].tolist(), label_names)
    groups = [_as_text(v) for v in frame[group_column]] if group_column else None
    info.update(rows=len(frame), text_column=text_column, label_column=label_column, group_column=group_column)
    return Dataset(texts, labels, list(range(len(frame))), groups, info)


def match_labels(values: Sequence[Any], label_names: Sequence[str]) -> list[int]:
    """Map label names (case-insensitive) or ids to label ids; unknown labels fail."""
    by_name = {str(name).strip().lower(): i for i, name in enumerate(label_names)}
    matched = []
    for row, value in enumerate(values):
        label_id = _label_id(value, by_name, len(label_names))
        if label_id is None:
            raise ReportgenError(
                f"label {value!r} in row {row} is not one of the model's labels: "
                f"{', '.join(map(str, label_names))} (or ids 0-{len(label_names) - 1})"
            )
        matched.append(label_id)
    return matched


def stratified_sample(labels: Sequence[int], limit: int, seed: int) -> list[int]:
    """Positions of a seeded sample of ``limit`` rows, classes in their proportions, original order."""
    if limit >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    by_class: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        by_class.setdefault(label, []).append(position)
    quotas = _largest_remainder({c: len(p) for c, p in by_class.items()}, limit)
    chosen: list[int] = []
    for label, positions in sorted(by_class.items()):
        chosen.extend(rng.choice(positions, size=quotas[label], replace=False).tolist())
    return sorted(chosen)


def _largest_remainder(sizes: dict[int, int], total: int) -> dict[int, int]:
    count = sum(sizes.values())
    exact = {c: total * n / count for c, n in sizes.items()}
    quotas = {c: math.floor(x) for c, x in exact.items()}
    by_remainder = sorted(sizes, key=lambda c: (exact[c] - quotas[c], sizes[c]), reverse=True)
    for label in by_remainder[: total - sum(quotas.values())]:
        quotas[label] += 1
    return quotas


def _label_id(value: Any, by_name: dict[str, int], n_labels: int) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    key = str(value).strip().lower()
    if key in by_name:
        return by_name[key]
    try:
        number = float(key)
    except ValueError:
        return None
    if number.is_integer() and 0 <= number < n_labels:
        return int(number)
    return None


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _read_jsonl(path: Path, encoding: str) -> pd.DataFrame:
    import json

    rows = []
    with path.open(encoding=encoding) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ReportgenError(f"{path} line {number} is not valid JSON: {err.msg}") from None
            if not isinstance(rows[-1], dict):
                raise ReportgenError(f"{path} line {number} is not a JSON object")
    return pd.DataFrame(rows)


def _read_hf_folder(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise ReportgenError(f"{path} is a folder; reading saved datasets needs `pip install datasets`") from None
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as err:
        raise ReportgenError(f"{path} is not a saved datasets folder: {first_line(err)}") from None
    split = None
    if isinstance(loaded, datasets.DatasetDict):
        split = next((s for s in SPLIT_PREFERENCE if s in loaded), None) or next(iter(loaded))
        loaded = loaded[split]
    frame = loaded.to_pandas()
    return frame, {"path": str(path), "format": "datasets", "split": split}
