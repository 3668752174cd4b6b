"""Results read back are untrusted input: each file is checked against its JSON Schema before use.

The schemas live in ``schemas/v<format version>/``: ``run.json``, ``example.json`` (a line of
examples.jsonl), ``attribution.json`` (a line of attributions/<method>.jsonl), ``metric.json`` (what
every entry of run.json's metrics has) and ``metrics/<name>.json`` (each built-in metric's result, as
the report reads it). A metric without a schema of its own (a plugin's) is checked against
``metric.json`` only: the report reads nothing else of it. A folder that passes renders. ``tables/<name>.json``
describes a row of each table under tables/ (tables.py), for other tools: loading does not read the tables.

Beyond JSON Schema, a number must be finite unless its schema says ``"allowNonFinite": true``
(scores and probabilities, which reportgen writes as computed; everything else it writes with NaN as
null). The rules that span fields or files are checked in code after the schema: the class ids of an
example are the model's and its word segments (pair tasks) are one per word, an attribution belongs to
its file's method and to an example and has one score per token, and a count of correct examples is at
most the count of examples.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from referencing import Registry, Resource

from ..errors import ReportgenError

SCHEMAS = Path(__file__).resolve().parent / "schemas"
BASE_URI = "https://reportgen.invalid/results/v{version}/"
MAX_DEPTH = 32  # reportgen nests no value more than 8 deep; far deeper would overflow the report's recursion
LARGEST_COUNT = 2 ** 53 - 1
NOUNS = {"number": "a number", "integer": "a whole number", "string": "a string", "boolean": "true or false",
         "object": "an object", "array": "a list", "null": "null"}
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_run(meta: dict[str, Any], path: Path, version: int) -> None:
    """``meta``, the content of run.json, is what the report can read; else one line naming the field."""
    place = f"results file {path}"
    _check_depth(meta, place)
    _check_schema(_validators(version)["run"], meta, place, "the file")
    _check_correct_at_most_examples(meta, place)


def check_example(row: Any, line: int, *, path: Path, classes: int, version: int) -> None:
    """A line of examples.jsonl, for a model with ``classes`` classes."""
    place = f"results file {path}, line {line}"
    _check_depth(row, place)
    _check_schema(_validators(version)["example"], row, place, "the line")
    for field in ("label", "prediction", "target"):
        if row[field] is not None and row[field] >= classes:
            raise ReportgenError(f"{place}: {field} {row[field]} is not a class of the model, which has {classes}")
    entity = row.get("entity") or {}
    for field, values in (("labels", row.get("labels")), ("predicted", row.get("predicted")), ("tags", row.get("tags")),
                          ("predicted_tags", row.get("predicted_tags")), ("token_tags", row.get("token_tags")),
                          ("entity.tags", entity.get("tags"))):
        outside = [label for label in values or [] if label is not None and label >= classes]
        if outside:
            raise ReportgenError(f"{place}: {field} holds {outside[0]}, not a class of the model, which has {classes}")
    for field, per in (("tags", "words"), ("predicted_tags", "words"), ("token_tags", "tokens")):
        if row.get(field) is not None and len(row[field]) != len(row[per]):
            raise ReportgenError(f"{place}: {field} holds {len(row[field])} tags for the {len(row[per])} {per}")
    _check_entity(row, entity, place)
    _check_generated(row, place, classes)
    segments = row.get("word_segments")
    if segments is not None and len(segments) != len(row["words"]):
        raise ReportgenError(f"{place}: word_segments holds {len(segments)} segments for the "
                             f"{len(row['words'])} words")


def _check_entity(row: dict[str, Any], entity: dict[str, Any], place: str) -> None:
    """An explained entity lies within its example's tokens and words: increasing token positions, one tag each."""
    if not entity:
        return
    positions, tags, first, last = entity["positions"], entity["tags"], *entity["words"]
    fits = len(positions) == len(tags) and all(a < b for a, b in zip(positions, positions[1:]))
    if not fits or positions[-1] >= len(row["tokens"]) or (entity["start"], entity["end"]) != (positions[0],
                                                                                            positions[-1] + 1):
        raise ReportgenError(f"{place}: entity token positions {_shown(positions)} with {len(tags)} tags do not fit "
                             f"the {len(row['tokens'])} tokens (or its start and end)")
    if not first < last <= len(row["words"]):
        raise ReportgenError(f"{place}: entity words {first} to {last} do not fit the {len(row['words'])} words")


def _check_generated(row: dict[str, Any], place: str, classes: int) -> None:
    """A generation row's output fits its tokens and the vocabulary; a unit explains the output token that follows
    its own tokens."""
    generated, step = row.get("generated"), row.get("step")
    if generated:
        ids = generated["ids"]
        if len(generated["log_probs"]) != len(ids) or max(ids) >= classes:
            raise ReportgenError(f"{place}: generated holds {len(ids)} token ids (the largest {max(ids)}) and "
                                 f"{len(generated['log_probs'])} log-probabilities, for a vocabulary of {classes}")
        _check_gold_words(generated, len(row["tokens"]), place)
    if step:
        k, position = step["k"], step["position"]
        fits = generated and k < len(generated["ids"]) and generated["ids"][k] == row["target"]
        if fits and generated["start"] is None:  # an encoder-decoder: the decoder reads its start and the output
            fits = position == k and step.get("prefix") == [generated.get("decoder_start"), *generated["ids"][:k]]
        elif fits:
            fits = position == len(row["tokens"]) == generated["start"] + k
        if not fits:
            raise ReportgenError(f"{place}: step {k} at position {position} is not the output token after the "
                                 f"{len(row['tokens'])} tokens of its unit")


def _check_gold_words(generated: dict[str, Any], tokens: int, place: str) -> None:
    """Gold words name a word for each source token (the prompt's, or an encoder's) and each output token."""
    words = generated.get("gold_words")
    if not words:
        return
    source = tokens if generated["start"] is None else generated["start"]
    target = words["target"]
    if len(words["source"]) != source or (target is not None and len(target) != len(generated["ids"])):
        raise ReportgenError(f"{place}: gold_words name {len(words['source'])} source and "
                             f"{len(target or [])} output tokens' words, for {source} and {len(generated['ids'])}")


def check_attribution(row: Any, line: int, *, path: Path, tokens: dict[int, int], version: int) -> None:
    """A line of attributions/<method>.jsonl; ``tokens``: each example's number of tokens, by index."""
    place = f"results file {path}, line {line}"
    _check_depth(row, place)
    _check_schema(_validators(version)["attribution"], row, place, "the line")
    if row["method"] != path.stem:
        raise ReportgenError(f"{place}: method must be {_shown(path.stem)}, the file's method, not {_shown(row['method'])}")
    if row["example"] not in tokens:
        raise ReportgenError(f"{place}: example {row['example']} is not in examples.jsonl")
    per_token = [("tokens", row["tokens"])]
    per_token += [(f"extra.layers[{i}]", scores) for i, scores in enumerate(row["extra"].get("layers", []))]
    for where, scores in per_token:
        if len(scores) != tokens[row["example"]]:
            raise ReportgenError(f"{place}: {where} holds {len(scores)} scores for the "
                                 f"{tokens[row['example']]} tokens of example {row['example']}")


def _check_correct_at_most_examples(meta: dict[str, Any], place: str) -> None:
    result = meta["metrics"].get("performance", {}).get("result")
    if result and result["overall"]["correct"] > result["overall"]["examples"]:
        overall = result["overall"]
        raise ReportgenError(f"{place}: metrics.performance.result.overall.correct ({overall['correct']}) must be "
                             f"at most overall.examples ({overall['examples']})")


def _check_schema(validator: Draft202012Validator, instance: Any, place: str, whole: str) -> None:
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise ReportgenError(f"{place}: {_message(error, whole)}")


def _check_depth(value: Any, place: str) -> None:
    """Refuse values nested deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, ())] if isinstance(value, (dict, list)) else []
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise ReportgenError(f"{place}: {_path(path[:6])}... is nested more than {MAX_DEPTH} levels deep")
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        stack.extend((child, (*path, key)) for key, child in pairs if isinstance(child, (dict, list)))


# ----------------------------------------------------------------------------- the validators


@lru_cache(maxsize=None)
def _validators(version: int) -> dict[str, Draft202012Validator]:
    """A validator per kind of file, its schema with every reference replaced by what it refers to (once:
    looking references up while validating cost more than the rest of reading a folder)."""
    folder = SCHEMAS / f"v{version}"
    if not folder.is_dir():
        raise ReportgenError(f"this reportgen has no schema for results format {version}; reinstall it")
    base = BASE_URI.format(version=version)
    resources = [(base + path.relative_to(folder).as_posix(), Resource.from_contents(_load(path)))
                 for path in sorted(folder.rglob("*.json"))]
    registry = Registry().with_resources(resources)
    return {kind: _Validator(_inlined({"$ref": f"{base}{kind}.json"}, registry.resolver()))
            for kind in ("run", "example", "attribution")}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _inlined(schema: Any, resolver: Any) -> Any:
    """``schema`` with each {"$ref": ...} replaced by its target, inlined in turn (the schemas do not recurse)."""
    if isinstance(schema, list):
        return [_inlined(item, resolver) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = resolver.lookup(schema["$ref"])
        return _inlined(target.contents, target.resolver)
    # Without "$schema" inside, every part is checked by this module's validator, finiteness included.
    return {key: _inlined(value, resolver) for key, value in schema.items() if key not in ("$schema", "$id", "$defs")}


def _finite_type(validator, types, instance, schema):
    """JSON Schema's type, and finite numbers unless the schema allows others."""
    errors = list(_DRAFT["type"](validator, types, instance, schema))
    if errors:
        yield from errors
    elif _is_number(instance) and not _finite(instance, schema.get("allowNonFinite", False)):
        yield ValidationError("is not a finite number", validator="finite")


def _quick_items(validator, items, instance, schema):
    """JSON Schema's items, with a fast pass over the long lists (tokens, scores, ids) that are valid."""
    for known, fits in _QUICK:
        if items == known:
            if isinstance(instance, list) and all(map(fits, instance)):
                return
            break
    yield from _DRAFT["items"](validator, items, instance, schema)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: int | float, non_finite_allowed: bool) -> bool:
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max  # the report formats numbers as floats
    return non_finite_allowed or math.isfinite(value)


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= LARGEST_COUNT


def _is_score(value: Any) -> bool:
    return type(value) is float or (type(value) is int and abs(value) <= sys.float_info.max)


_DRAFT = Draft202012Validator.VALIDATORS
_Validator = extend(Draft202012Validator, validators={"type": _finite_type, "items": _quick_items})
_COUNT = {"type": "integer", "minimum": 0, "maximum": LARGEST_COUNT}
_QUICK: list[tuple[dict[str, Any], Callable[[Any], bool]]] = [
    ({"type": "number", "allowNonFinite": True}, _is_score),
    ({"type": "string"}, lambda value: type(value) is str),
    (_COUNT, _is_count),
    ({**_COUNT, "type": ["integer", "null"]}, lambda value: value is None or _is_count(value)),
]


# ----------------------------------------------------------------------------- one line per problem


def _message(error: ValidationError, whole: str) -> str:
    """What is wrong, where: 'metrics.cost.result.methods[0].seconds must be a number, not "slow"'."""
    where = _path(error.absolute_path) or whole
    expected, value, instance = error.validator, error.validator_value, error.instance
    if expected == "required":
        missing = next(key for key in value if key not in instance)
        return f"{where} lacks {_shown(missing)}"
    if expected == "type":
        return f"{where} must be {_expected(value)}, not {_shown(instance)}"
    if expected == "finite":
        return f"{where} must be a finite number, not {_shown(instance)}"
    if expected in ("minimum", "maximum"):
        return f"{where} must be at {'least' if expected == 'minimum' else 'most'} {value}, not {_shown(instance)}"
    if expected == "maxItems":
        return f"{where} must hold at most {value} items, not {len(instance)}"
    if expected == "const":
        return f"{where} must be {_shown(value)}, not {_shown(instance)}"
    if expected == "pattern":
        return f"{where} must match {value}, not {_shown(instance)}"
    return f"{where} does not fit its schema ({expected} {_shown(value)})"


def _expected(types: str | list[str]) -> str:
    return " or ".join(NOUNS.get(name, name) for name in ([types] if isinstance(types, str) else types))


def _path(keys: Iterable[Any]) -> str:
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        elif KEY.fullmatch(key):
            text += f".{key}" if text else key
        else:
            text += f"[{_shown(key)}]"
    return text


def _shown(value: Any) -> str:
    """A value as the message names it: short, on one printable line."""
    if isinstance(value, str):
        return json.dumps(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 20:
        return f"a number of {len(str(abs(value)))} digits"
    return json.dumps(value)
