"""Reading labeled text tables and matching their labels to the model's."""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ReportgenError, first_line, printable
from ..ops.alignment import normalised_pharaoh
from ..results.files import sha256_of
from .delimited import read_delimited as _read_delimited
from .labels import DEFAULT_SEPARATOR, is_missing, match_labels, read_label_lists
from .rationales import Rationale, read_rationales
from .tags import read_tag_lists

TABLE_READERS = {
    ".csv": lambda path, enc: _read_delimited(path, enc, ","),
    ".tsv": lambda path, enc: _read_delimited(path, enc, "\t"),
    ".jsonl": lambda path, enc: _read_jsonl(path, enc),
    ".ndjson": lambda path, enc: _read_jsonl(path, enc),
    ".parquet": lambda path, enc: pd.read_parquet(path),
}
SPLIT_PREFERENCE = ("test", "validation", "valid", "dev", "train")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NO_LABELS = "none"  # --label-column none: data without labels
DEFAULT_LABEL_COLUMN = "label"  # when a file lacks it, the data is read as unlabeled (other names must exist)
SHOWN_COLUMNS = 20


@dataclass
class Dataset:
    """Texts with label ids (matched to the model) and optional groups."""

    texts: list[str]
    labels: list[int | None]
    rows: list[int]
    groups: list[str | None] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    """Rows (by row number) whose text cell could not be read as text, with the reason; they are
    recorded as failed examples, never dropped."""
    pairs: list[str] | None = None
    """Each text's second segment (sentence-pair tasks), or None for one text per example."""
    label_sets: list[list[int] | None] | None = None
    """Each row's true labels (multi-label tasks; ``labels`` are then all None), or None for one class per row."""
    tag_lists: list[list[int] | None] | None = None
    """Each row's tag per whitespace word (token classification; ``labels`` are then all None), or None."""
    alignments: list[str | None] | None = None
    """Each row's gold word alignment, normalised Pharaoh links (generation; None for a row without one)."""
    rationales: list[Rationale | None] | None = None
    """Each row's human rationale as its cell gives it (None for a row without one), or None without the column."""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, positions: Sequence[int]) -> "Dataset":
        pick = lambda values: [values[i] for i in positions]  # noqa: E731
        groups = pick(self.groups) if self.groups is not None else None
        rows = pick(self.rows)
        problems = {row: self.problems[row] for row in rows if row in self.problems}
        pairs = pick(self.pairs) if self.pairs is not None else None
        label_sets = pick(self.label_sets) if self.label_sets is not None else None
        tag_lists = pick(self.tag_lists) if self.tag_lists is not None else None
        alignments = pick(self.alignments) if self.alignments is not None else None
        rationales = pick(self.rationales) if self.rationales is not None else None
        return Dataset(pick(self.texts), pick(self.labels), rows, groups, dict(self.info), problems, pairs,
                       label_sets, tag_lists, alignments, rationales)


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
    _check_encoding(encoding)
    kind = path.suffix.lower().lstrip(".")
    try:
        frame = reader(path, encoding)
    except ReportgenError:
        raise
    except UnicodeDecodeError:
        raise ReportgenError(f"{path} is not valid {encoding} text; pass its encoding with --encoding") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except Exception as err:  # noqa: BLE001 - whatever a damaged or binary file raises, it is the input's fault
        raise ReportgenError(f"cannot parse {path} as {kind}: {printable(first_line(err), 200)}") from None
    return frame, {"path": str(path), "format": kind, "sha256": sha256_of(path)}


def load_dataset(
    path: str | Path,
    label_names: Sequence[str],
    text_column: str = "text",
    label_column: str | None = "label",
    group_column: str | None = None,
    encoding: str = "utf-8",
    text_pair_column: str | None = None,
    label_separator: str = DEFAULT_SEPARATOR,
    multi_label: bool = False,
    tagged: bool = False,
    pair_role: str = "text pair",
    alignment_column: str | None = None,
    rationale_column: str | None = None,
) -> Dataset:
    """Load a table and map its labels onto ``label_names`` (the model's id2label).

    ``label_column`` None or 'none': the data has no labels (every row is unlabeled). ``text_pair_column``:
    each text's second segment, for models that read two texts. ``multi_label``: each label cell is a list
    of labels (a JSON list, or names split by ``label_separator``). ``tagged``: each label cell gives a tag per
    whitespace word of the text (a list of tags, or of character spans of entities). ``pair_role``: what error
    messages call the second text (generation: the target). ``alignment_column``: each row's gold word
    alignment in Pharaoh format (generation). ``rationale_column``: each row's human rationale
    (:mod:`.rationales`); a cell that cannot be read is that row's rationale error, never the row's failure."""
    frame, info = read_table(path, encoding)
    if len(frame) == 0:
        raise ReportgenError(f"data file {path} holds no rows")
    if label_column is not None and label_column.strip().lower() == NO_LABELS and label_column not in frame.columns:
        label_column = None
    no_default_labels = label_column == DEFAULT_LABEL_COLUMN and label_column not in frame.columns
    if no_default_labels:
        label_column = None
    columns = (("text", text_column), (pair_role, text_pair_column), ("label", label_column),
               ("group", group_column), ("alignment", alignment_column), ("rationale", rationale_column))
    for role, column in columns:
        if column is not None and column not in frame.columns:
            raise ReportgenError(f"{role} column {column!r} is not in {path}; columns: {_column_list(frame)}")
        if column is not None and isinstance(frame[column], pd.DataFrame):
            raise ReportgenError(f"{role} column {column!r} appears more than once in {path}")
    texts, problems, replaced = _read_texts(frame[text_column], encoding, "text")
    pairs = None
    if text_pair_column is not None:
        pairs, pair_problems, pair_replaced = _read_texts(frame[text_pair_column], encoding, pair_role)
        if all(row in pair_problems or not pair.strip() for row, pair in enumerate(pairs)):
            raise ReportgenError(f"{pair_role} column {text_pair_column!r} of {path} holds no texts")
        for row, problem in pair_problems.items():
            problems.setdefault(row, problem)
        replaced += pair_replaced
    labels, label_sets, tag_lists = [None] * len(frame), None, None
    if label_column and tagged:
        tag_lists, tag_problems = read_tag_lists(frame[label_column].tolist(), texts, label_names)
        for row, problem in tag_problems.items():
            problems.setdefault(row, problem)
    elif label_column and multi_label:
        label_sets, label_problems = read_label_lists(frame[label_column].tolist(), label_names, label_separator)
        for row, problem in label_problems.items():
            problems.setdefault(row, problem)
    elif label_column:
        labels = match_labels(frame[label_column].tolist(), label_names)
    groups = [None if is_missing(v) else clean_text(_as_text(v, encoding)[0]) for v in frame[group_column]] \
        if group_column else None
    alignments = None
    if alignment_column is not None:
        alignments, alignment_problems = read_alignments(frame[alignment_column], encoding)
        for row, problem in alignment_problems.items():
            problems.setdefault(row, problem)
        info["alignment_column"] = alignment_column
    rationales = None
    if rationale_column is not None:
        cells = [clean_text(cell) if isinstance(cell, str) else cell for cell in frame[rationale_column]]
        rationales = read_rationales(cells, texts)
        info["rationale_column"] = rationale_column
    info.update(rows=len(frame), text_column=text_column, label_column=label_column, group_column=group_column,
                missing_labels=sum(label is None for label in tag_lists or label_sets or labels),
                duplicate_texts=duplicate_count(texts))
    if label_sets is not None:
        info["label_separator"] = label_separator
    if text_pair_column is not None:
        info["text_pair_column"] = text_pair_column
    if problems:
        info["unreadable_texts"] = len(problems)
    if replaced:
        info["texts_with_invalid_unicode"] = replaced
    if no_default_labels:
        print(f"data file {path} has no {DEFAULT_LABEL_COLUMN!r} column: explaining it without labels "
              "(name the labels with --label-column)", file=sys.stderr)
    return Dataset(texts, labels, list(range(len(frame))), groups, info, problems, pairs, label_sets, tag_lists,
                   alignments, rationales)


def read_alignments(column: pd.Series, encoding: str) -> tuple[list[str | None], dict[int, str]]:
    """Each cell as normalised Pharaoh links (None: an empty or missing cell), and the rows whose cell is not
    Pharaoh links, with why."""
    alignments: list[str | None] = []
    problems: dict[int, str] = {}
    for row, value in enumerate(column):
        text = None if is_missing(value) else _as_text(value, encoding)[0]
        if text is None or not text.strip():
            alignments.append(None)
            continue
        try:
            alignments.append(normalised_pharaoh(text))
        except ValueError as err:
            alignments.append(None)
            problems[row] = f"alignment: {err}"
    return alignments, problems


def _read_texts(column: pd.Series, encoding: str, role: str) -> tuple[list[str], dict[int, str], int]:
    """The cells of a text column as texts, the rows that cannot be read (with why), and how many had
    invalid unicode replaced."""
    texts, problems, replaced = [], {}, 0
    for row, value in enumerate(column):
        text, problem = _as_text(value, encoding)
        clean = clean_text(text)
        replaced += clean != text
        texts.append(clean)
        if problem:
            problems[row] = problem if role == "text" else problem.replace("text", role, 1)
    return texts, problems, replaced


def cut_long_texts(dataset: Dataset, max_chars: int) -> Dataset:
    """``dataset`` with each text longer than ``max_chars`` cut to its first ``max_chars`` characters, counted
    in its info (texts_cut, cut_at_characters): the rest is never tokenised, stored or shown."""
    long = lambda text: isinstance(text, str) and len(text) > max_chars  # noqa: E731
    cut = sum(long(text) or (dataset.pairs is not None and long(dataset.pairs[i]))
              for i, text in enumerate(dataset.texts))
    if not cut:
        return dataset
    texts = [text[:max_chars] if isinstance(text, str) else text for text in dataset.texts]
    pairs = None if dataset.pairs is None else [
        text[:max_chars] if isinstance(text, str) else text for text in dataset.pairs]
    tag_lists = None if dataset.tag_lists is None else [  # a word cut in half keeps its tag
        tags if tags is None or not isinstance(text, str) else tags[: len(text.split())]
        for tags, text in zip(dataset.tag_lists, texts)]
    return replace(dataset, texts=texts, pairs=pairs, tag_lists=tag_lists,
                   info=dict(dataset.info, texts_cut=cut, cut_at_characters=max_chars))


def strata(dataset: Dataset) -> list[Any]:
    """What a sample is stratified on, per row: its class; for multi-label data its set of labels, for tagged
    data the set of tags it uses (None: unlabeled)."""
    if dataset.label_sets is not None:
        return [None if labels is None else tuple(labels) for labels in dataset.label_sets]
    if dataset.tag_lists is not None:
        return [None if tags is None else tuple(sorted(set(tags))) for tags in dataset.tag_lists]
    return list(dataset.labels)


def stratified_sample(labels: Sequence[Any], limit: int, seed: int) -> list[int]:
    """Positions of a seeded sample of ``limit`` rows, strata (classes, or any other values) in their
    proportions, original order.

    Unlabeled rows (label None) form a stratum of their own.
    """
    if limit >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    by_class: dict[int | None, list[int]] = {}
    for position, label in enumerate(labels):
        by_class.setdefault(label, []).append(position)
    quotas = _largest_remainder({c: len(p) for c, p in by_class.items()}, limit)
    chosen: list[int] = []
    for label, positions in sorted(by_class.items(), key=lambda item: (item[0] is None, _stratum_order(item[0]))):
        chosen.extend(rng.choice(positions, size=quotas[label], replace=False).tolist())
    return sorted(chosen)


def duplicate_count(texts: Sequence[str]) -> int:
    """How many texts repeat an earlier one exactly."""
    return len(texts) - len(set(texts))


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (not encodable as UTF-8) replaced by U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text)


def _shown(value: Any, limit: int = 60) -> str:
    return printable(repr(value), limit)


def _column_list(frame: pd.DataFrame) -> str:
    names = [printable(str(name), 40) for name in frame.columns[:SHOWN_COLUMNS]]
    more = len(frame.columns) - SHOWN_COLUMNS
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReportgenError(f"unknown text encoding {printable(encoding)!r} given with --encoding") from None


def _stratum_order(stratum: Any) -> tuple[int, int, str]:
    """Class ids in their order, then any other strata (label sets, tag sets) by their text."""
    return (0, stratum, "") if isinstance(stratum, int) else (1, 0, repr(stratum))


def _largest_remainder(sizes: dict[Any, int], total: int) -> dict[Any, int]:
    count = sum(sizes.values())
    exact = {c: total * n / count for c, n in sizes.items()}
    quotas = {c: math.floor(x) for c, x in exact.items()}
    by_remainder = sorted(sizes, key=lambda c: (exact[c] - quotas[c], sizes[c]), reverse=True)
    for label in by_remainder[: total - sum(quotas.values())]:
        quotas[label] += 1
    return quotas


def _as_text(value: Any, encoding: str = "utf-8") -> tuple[str, str | None]:
    """A cell of the text column as text, and why it cannot be explained (None when it can).

    Strings are kept as they are; numbers and booleans become their text; a missing cell, bytes
    that do not decode, or a list/dict/array become a recorded problem (the row fails, it is not dropped).
    """
    if isinstance(value, str):
        return value, None
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode(encoding), None
        except UnicodeDecodeError:
            return bytes(value).decode(encoding, "replace"), f"text is bytes that are not valid {encoding}"
    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        return str(value), f"text is a {type(value).__name__}, not a string"
    if is_missing(value):
        return "", "text is missing"
    if isinstance(value, (bool, int, float, Decimal, np.number, np.bool_)):
        return str(value), None
    return str(value), f"text is a {type(value).__name__}, not a string"


def _read_jsonl(path: Path, encoding: str) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ReportgenError(
            f"{path} line {line} is not valid {encoding} text; pass its encoding with --encoding"
        ) from None
    rows = []
    # JSON Lines are separated by \n only: str.splitlines would also split at U+2028, \x1c, \x85...
    for number, line in enumerate(text.split("\n"), start=1):
        if number == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ReportgenError(f"{path} line {number} is not valid JSON: {err.msg}") from None
        except (ValueError, RecursionError) as err:
            raise ReportgenError(f"{path} line {number} is not valid JSON: {printable(first_line(err))}") from None
        if not isinstance(row, dict):
            raise ReportgenError(f"{path} line {number} is not a JSON object")
        rows.append(row)
    # object columns: values stay as JSON gave them (Arrow strings would refuse lone surrogates)
    return pd.DataFrame(rows, dtype=object)


def _read_hf_folder(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise ReportgenError(f"{path} is a folder; reading saved datasets needs `pip install datasets`") from None
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as err:  # noqa: BLE001 - a damaged folder is the input's fault, reported in one line
        raise ReportgenError(f"{path} is not a saved datasets folder: {printable(first_line(err))}") from None
    split = None
    if isinstance(loaded, datasets.DatasetDict):
        split = next((s for s in SPLIT_PREFERENCE if s in loaded), None) or next(iter(loaded))
        loaded = loaded[split]
    frame = loaded.to_pandas()
    return frame, {"path": str(path), "format": "datasets", "split": split}
