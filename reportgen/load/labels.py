"""Labels of a dataset matched to the model's classes: one class per row, or a list of classes per row
(multi-label data, as a JSON list or a string split by a separator)."""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ReportgenError, printable
from ..ops.names import label_key

# Label cells that mean "no label" (unless the model has a class of that name).
MISSING_LABELS = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>"})
# Yes/no labels (JSON true/false, a cell "True" in any format) are class names, never ids: nothing says
# which class "true" is.
YES_NO = frozenset({"true", "false"})
SHOWN_LABELS = 10
DEFAULT_SEPARATOR = ","


def match_labels(values: Sequence[Any], label_names: Sequence[str]) -> list[int | None]:
    """Map label names (case-insensitive) or ids to label ids.

    A missing label (None, NaN, an empty cell, 'nan', 'null', ...) becomes None: the row is kept
    as an unlabeled example. A yes/no label (true/false in any format) matches only a class of that
    name. A label that is not the model's fails with the list of its labels.
    """
    by_name = {label_key(name): i for i, name in enumerate(label_names)}
    matched: list[int | None] = []
    for row, value in enumerate(values):
        if isinstance(value, str) and label_key(value) in by_name:
            matched.append(by_name[label_key(value)])
            continue
        if is_missing(value):
            matched.append(None)
            continue
        label_id = label_id_of(value, by_name, len(label_names))
        if label_id is None:
            yes_no = "; a yes/no label matches only a class named true or false" if _is_yes_no(value) else ""
            raise ReportgenError(
                f"label {printable(repr(value), 60)} in row {row} is not one of the model's labels: "
                f"{listed_labels(label_names)} (or ids 0-{len(label_names) - 1}){yes_no}"
            )
        matched.append(label_id)
    return matched


def listed_labels(label_names: Sequence[str]) -> str:
    names = [printable(str(name), 40) for name in label_names[:SHOWN_LABELS]]
    more = len(label_names) - SHOWN_LABELS
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_LABELS
    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_yes_no(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_)) or (isinstance(value, str) and label_key(value) in YES_NO)


def label_id_of(value: Any, by_name: dict[str, int], n_labels: int) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        value = str(bool(value))
    key = label_key(value)
    if key in by_name:
        return by_name[key]
    try:
        number = float(key)
    except ValueError:
        return None
    if number.is_integer() and 0 <= number < n_labels:
        return int(number)
    return None


def read_label_lists(values: Sequence[Any], label_names: Sequence[str],
                     separator: str = DEFAULT_SEPARATOR) -> tuple[list[list[int] | None], dict[int, str]]:
    """Per row, the sorted class ids of its list of labels (None: no labels given; [] a row with none of
    them), and the rows whose list cannot be read, with why. A list is a JSON list (or a list cell of
    JSONL or Parquet) of class names or ids, or a string of names split by ``separator``. Data in which no
    row is a list (one label per row) is refused in one line, as is data in which no list can be read."""
    by_name = {label_key(name): i for i, name in enumerate(label_names)}
    lists: list[list[int] | None] = []
    problems: dict[int, str] = {}
    listed = False
    for row, value in enumerate(values):
        if is_missing(value):
            lists.append(None)
            continue
        items, as_list, problem = _items(value, separator)
        listed = listed or as_list
        ids = [label_id_of(item, by_name, len(label_names)) for item in items]
        unknown = [item for item, label_id in zip(items, ids) if label_id is None]
        if problem is None and unknown:
            problem = (f"label {printable(repr(unknown[0]), 60)} is not one of the model's labels: "
                       f"{listed_labels(label_names)} (or ids 0-{len(label_names) - 1})")
        lists.append(None if problem else sorted(set(ids)))
        if problem:
            problems[row] = problem
    given = sum(value is not None for value in lists) + len(problems)
    if given and not listed:
        raise ReportgenError("the labels hold one class per row, and a multi-label model needs each row's list of "
                             f"labels: a JSON list, or names split by --label-separator ({separator!r})")
    if given and len(problems) == given:
        row, problem = next(iter(problems.items()))
        raise ReportgenError(f"no row's label list can be read; row {row}: {problem}")
    return lists, problems


def _items(value: Any, separator: str) -> tuple[list[Any], bool, str | None]:
    """The labels of one cell, whether it was given as a list, and why it cannot be read (or None)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value), True, None
    if not isinstance(value, str):
        return [value], False, None
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError as err:
            return [], True, f"label list {printable(repr(text), 60)} does not parse as JSON: {err.msg}"
        if not isinstance(parsed, list) or any(isinstance(item, (list, dict)) for item in parsed):
            return [], True, f"label list {printable(repr(text), 60)} is not a flat JSON list"
        return parsed, True, None
    if separator and separator in text:
        return [part.strip() for part in text.split(separator) if part.strip()], True, None
    return [text], False, None
