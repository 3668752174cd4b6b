"""A run as tidy tables: one row per example, per token score, per word score and per statistic.

Every results folder carries them under ``tables/`` as Parquet (what pandas, polars, DuckDB or Spark read
without reportgen), built from the run in memory; loading never reads them (they are derived), but the
manifest seals them like every other file. Each table has fixed columns and Arrow types whatever the task,
null where a task does not fill a column, so an empty table still has its columns and the schema is one.
The JSON Schema of one row of each is ``schemas/v<format>/tables/<name>.json``.

- ``examples``: one row per example (for a task that explains a row several times, per label, entity or
  output token: per unit; ``row`` names the data row it explains).
- ``attributions``: one row per token score of an explanation: the scores of the class explained, and, for
  a misclassified example, the contrast's (``contrast`` true: its scores for the other of its true and
  predicted classes).
- ``word_scores``: the same, per word.
- ``metrics``: every number of each metric's result, in long format.

Every table names its example ``example``, the join key of the whole folder, and classes by name (those of
run.json ``model.labels``; a language model's classes are its vocabulary: an explained token is named by
its text where the run holds it, else null).

The metrics table flattens each result generically: each number is a row whose ``statistic`` is the dotted
path of keys to it (list positions left out: ``summary.comprehensiveness``), and whose ``item`` is the place
of the list element it lies in (``summary[2]``, null for a number in no list): the rows of one item describe
one thing (a point of a curve, a cell of a confusion matrix). An object's string ``method``, ``group``
and ``class`` (or ``label``) and its whole-number ``example`` set the columns of those names for every number
below it, and its class id ``target`` sets ``class`` to the class's name; none of them is a row (other names a
row needs, a confusion cell's classes or a pair's methods, are in run.json at the place ``item`` names); ``X_se`` beside ``X`` is X's ``standard_error``;
keys ending in ``_id`` are identifiers, not values; true/false, text and null are not values. Lists of one
row per example (faithfulness ``per_example``) are flattened too, not skipped: the table holds one row per
number of run.json's metrics, never more, and run.json already holds them; the attributions table, one row
per token, outgrows it by far.
"""

from __future__ import annotations

from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from .queries import class_names, methods_with_scores
from .records import Attribution, Example, RunResult

TABLES_FOLDER = "tables"


def _field(name: str, kind: pa.DataType, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable)


_TEXTS = pa.list_(pa.string())
SCHEMAS: dict[str, pa.Schema] = {
    "examples": pa.schema([
        _field("example", pa.int64(), False), _field("row", pa.int64(), False), _field("text", pa.string(), False),
        _field("text_pair", pa.string()), _field("label", pa.string()), _field("prediction", pa.string()),
        _field("probability", pa.float64()), _field("probabilities", pa.list_(pa.float64()), False),
        _field("correct", pa.bool_()), _field("group", pa.string()), _field("truncated", pa.bool_(), False),
        _field("failure", pa.string()), _field("labels", _TEXTS), _field("predicted", _TEXTS),
    ]),
    "attributions": pa.schema([
        _field("example", pa.int64(), False), _field("method", pa.string(), False), _field("target", pa.string()),
        _field("contrast", pa.bool_(), False), _field("position", pa.int64(), False), _field("token", pa.string()),
        _field("word", pa.int64()), _field("score", pa.float64()),
    ]),
    "word_scores": pa.schema([
        _field("example", pa.int64(), False), _field("method", pa.string(), False), _field("target", pa.string()),
        _field("contrast", pa.bool_(), False), _field("word", pa.int64(), False), _field("text", pa.string()),
        _field("score", pa.float64()),
    ]),
    "metrics": pa.schema([
        _field("metric", pa.string(), False), _field("method", pa.string()), _field("class", pa.string()),
        _field("group", pa.string()), _field("example", pa.int64()), _field("item", pa.string()),
        _field("statistic", pa.string(), False),
        _field("value", pa.float64(), False), _field("standard_error", pa.float64()),
    ]),
}
NAMES = tuple(SCHEMAS)


def tables(run: RunResult) -> dict[str, pa.Table]:
    """The four tables of ``run``, by name."""
    names = _ClassNames(run)
    return {"examples": examples_table(run, names), "attributions": scores_table(run, names, "tokens"),
            "word_scores": scores_table(run, names, "words"), "metrics": metrics_table(run, names)}


def table_files(run: RunResult) -> dict[str, bytes]:
    """Each table of ``run`` as Parquet, by its name in the results folder."""
    return {f"{TABLES_FOLDER}/{name}.parquet": parquet_bytes(table) for name, table in tables(run).items()}


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


class _ClassNames:
    """Class ids to names: the model's classes (ids beyond them by their number), or for a language model, whose
    classes are its vocabulary, the explained token's text where the unit holds it."""

    def __init__(self, run: RunResult):
        self.names = [_text(name) for name in class_names(run)] if run.labels else []

    def of(self, class_id: Any, ex: Example | None = None) -> str | None:
        """The name of ``class_id``, null where it has none; ``ex``: the example it is a class of."""
        if not _is_whole(class_id):
            return None
        if 0 <= class_id < len(self.names):
            return self.names[class_id]
        step = ex.step if ex is not None and isinstance(ex.step, dict) else {}
        token = step.get("token")
        if isinstance(token, str) and class_id == ex.target:
            return _text(token)
        return None

    def all_of(self, class_ids: list[int] | None) -> list[str | None] | None:
        return None if class_ids is None else [self.of(class_id) for class_id in class_ids]


# ----------------------------------------------------------------------------- examples


def examples_table(run: RunResult, names: _ClassNames) -> pa.Table:
    return pa.Table.from_pylist([_example_row(ex, names) for ex in run.examples], schema=SCHEMAS["examples"])


def _example_row(ex: Example, names: _ClassNames) -> dict[str, Any]:
    return {
        "example": ex.index, "row": ex.row, "text": _text(ex.text), "text_pair": _text(ex.text_pair),
        "label": names.of(ex.label, ex), "prediction": names.of(ex.prediction, ex),
        "probability": _probability(ex), "probabilities": [float(p) for p in ex.probabilities],
        "correct": ex.correct, "group": _text(ex.group), "truncated": bool(ex.truncated), "failure": _text(ex.error),
        "labels": names.all_of(ex.labels), "predicted": names.all_of(ex.predicted),
    }


def _probability(ex: Example) -> float | None:
    """The probability of the predicted class, where the example has one."""
    if _is_whole(ex.prediction) and 0 <= ex.prediction < len(ex.probabilities):
        return float(ex.probabilities[ex.prediction])
    return None


# ----------------------------------------------------------------------------- token and word scores


def scores_table(run: RunResult, names: _ClassNames, per: str) -> pa.Table:
    """One row per score of every attribution, ``per`` "tokens" (the attributions table) or "words"."""
    schema = SCHEMAS["attributions" if per == "tokens" else "word_scores"]
    columns: dict[str, list] = {name: [] for name in schema.names}
    examples = {ex.index: ex for ex in run.examples}
    for method in methods_with_scores(run):
        for key in sorted(run.attributions[method]):
            attribution = run.attributions[method][key]
            ex = examples.get(attribution.example) or Example(index=attribution.example, text="")
            for target, contrast, scores in _score_sets(attribution, ex):
                _add_scores(columns, per, ex, method, names.of(target, ex), contrast, scores)
    return pa.Table.from_pydict(columns, schema=schema)


def _score_sets(attribution: Attribution, ex: Example) -> Iterator[tuple[Any, bool, dict[str, Any]]]:
    """(class explained, whether it is the contrast, its scores) for the explanation and its contrast, if any."""
    yield ex.target, False, {"tokens": attribution.tokens, "words": attribution.words}
    contrast = attribution.extra.get("contrast") if isinstance(attribution.extra, dict) else None
    if isinstance(contrast, dict) and "error" not in contrast:
        yield contrast.get("target"), True, contrast


def _add_scores(columns: dict[str, list], per: str, ex: Example, method: str, target: str | None, contrast: bool,
                scores: dict[str, Any]) -> None:
    values = [_score(score) for score in scores.get(per) or []]
    count = len(values)
    columns["example"] += [ex.index] * count
    columns["method"] += [_text(method)] * count
    columns["target"] += [target] * count
    columns["contrast"] += [contrast] * count
    if per == "tokens":
        columns["position"] += range(count)
        columns["token"] += [_text(token) for token in _padded(ex.tokens, count)]
        columns["word"] += _padded(ex.word_ids, count)
    else:
        columns["word"] += range(count)
        columns["text"] += [_text(word) for word in _padded(ex.words, count)]
    columns["score"] += values


def _padded(values: list, count: int) -> list:
    """The first ``count`` values, null beyond the end (scores of a damaged run may outnumber its tokens)."""
    return list(values[:count]) + [None] * (count - len(values))


def _score(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


# ----------------------------------------------------------------------------- metrics


def metrics_table(run: RunResult, names: _ClassNames) -> pa.Table:
    rows = []
    for metric, entry in run.metrics.items():
        result = entry.get("result") if isinstance(entry, dict) else None
        rows += [{"metric": _text(metric), **row} for row in _flattened(result, names)]
    return pa.Table.from_pylist(rows, schema=SCHEMAS["metrics"])


_EMPTY_CONTEXT = {"method": None, "class": None, "group": None, "example": None}


def _flattened(value: Any, names: _ClassNames, keys: tuple[str, ...] = (), path: str = "", item: str | None = None,
               context: dict[str, Any] = _EMPTY_CONTEXT) -> Iterator[dict[str, Any]]:
    """A row per number in ``value``, in order: ``keys`` lead to it, ``path`` is its place (keys and list
    positions), ``item`` the place of the innermost list element holding it, ``context`` what its holders set."""
    if isinstance(value, dict):
        context = _context(value, context, names)
        for key, child in value.items():
            key = str(key)
            if not _is_measure(key, child, value):
                continue
            if _is_number(child):
                yield _metric_row(child, (*keys, key), item, context, value.get(f"{key}_se"))
            else:
                yield from _flattened(child, names, (*keys, key), _joined(path, key), item, context)
    elif isinstance(value, list):
        for position, child in enumerate(value):
            place = f"{path}[{position}]"
            if _is_number(child):
                yield _metric_row(child, keys, place, context, None)
            else:
                yield from _flattened(child, names, keys, place, place, context)


def _metric_row(value: Any, keys: tuple[str, ...], item: str | None, context: dict[str, Any],
                standard_error: Any) -> dict[str, Any]:
    return {**context, "item": _text(item), "statistic": _text(".".join(keys)), "value": float(value),
            "standard_error": float(standard_error) if _is_number(standard_error) else None}


def _is_measure(key: str, child: Any, holder: dict) -> bool:
    """Whether ``holder[key]`` is (or may hold) a value: not what sets a column, an identifier or a standard
    error of a value beside it."""
    if key in _CONTEXT_KEYS and _CONTEXT_KEYS[key][1](child):
        return False
    if key.endswith("_id") or (key.endswith("_se") and key[:-3] in holder):
        return False
    return isinstance(child, (dict, list)) or _is_number(child)


def _context(value: dict, outer: dict[str, Any], names: _ClassNames) -> dict[str, Any]:
    """The columns the numbers below ``value`` carry: ``outer``'s, with those ``value`` sets."""
    context = dict(outer)
    for key, (column, fits) in _CONTEXT_KEYS.items():
        if key in value and fits(value[key]):
            context[column] = _setting(key, value[key], names)
    return context


def _setting(key: str, value: Any, names: _ClassNames) -> Any:
    if key == "target":
        return names.of(value)
    return value if key == "example" else _text(value)


def _is_whole(value: Any) -> bool:
    return type(value) is int


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _joined(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# The keys of an object that set a column for the numbers below it, when their value fits: key -> (column, fits).
# A class's name (class, label) comes after its id (target), so the name wins.
_CONTEXT_KEYS = {"method": ("method", _is_text), "group": ("group", _is_text), "example": ("example", _is_whole),
                 "target": ("class", _is_whole), "class": ("class", _is_text), "label": ("class", _is_text)}


# ----------------------------------------------------------------------------- values


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    """A string as the folder's JSON files write it: a lone surrogate (from a dataset) becomes "?"."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.isascii() else text.encode("utf-8", errors="replace").decode("utf-8")
