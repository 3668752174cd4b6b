"""6. Example explorer: per example its text, prediction, and every method's heatmaps.

The page holds each chart template once; an example carries only its data block, joined with the
template when it is drawn."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ...measure.performance import MAX_CLASSES
from ...ops.entities import word_offsets
from ...ops.numbers import sigs
from ...ops.words import spread_to_tokens
from ...results.maps import stored_maps
from ...results.queries import methods_with_scores, pair_start
from ...results.records import Example, RunResult
from ...tasks import task_of
from ...tasks.token_classification import true_entities
from ..charts import OTHER_CLASSES, Chart, Template
from ..charts.examples import (attention_rows, attention_template, heads_template, key_table,
                               position_matrix_template, word_matrix_template)
from ..format import fmt, label_name, shown, shown_class_names
from ..order import disagreement, ordered
from ..pages import paging, score_digits
from ..word_links import word_filter
from .example_notes import (ATTENTION_NOTE, HIGHLIGHT_NOTE, LAYER_NOTE, PAIR_NOTE, RATIONALE_NOTE, WORD_NOTE,
                            kept_maps_note, rationale_fields, token_note)
from .highlight import CONTROL, contrast_fields, highlight_choices

OPEN_EXAMPLES = 25  # the first examples of the review order shown opened; the others open on a click or a link
EVERY_PROBABILITY_UP_TO = 10  # a model with at most this many classes: each example lists every probability
TOP_PROBABILITIES = 5  # beyond it, each example lists its most probable classes (and its true and explained one)
FILTER_CLASSES = MAX_CLASSES  # classes the filter boxes list one by one; the others are one "other" choice


@dataclass(frozen=True)
class _Layout:
    """Which charts the explorer can draw and their shared templates."""

    methods: list[str]
    overrides: frozenset[str]
    templates: list[Template]
    layer_method: str | None
    layer_names: list[str] | None
    attention_method: str | None
    attention_shape: tuple[int, int] | None
    pairs: bool = False  # examples of two texts: the heatmaps mark where the pair begins
    tagged: bool = False  # token classification: a unit explains an entity, not a label


def _layer_label(name: str) -> str:
    last = str(name).split(".")[-1]
    return f"layer {last}" if last.isdigit() else last


def _folds_to_words(run: RunResult, ex: Example, tokens: list[float], words: list[float]) -> bool:
    """Whether the word scores are the sums of the token scores (then the word view is derived)."""
    if len(tokens) != len(ex.tokens) or len(words) != len(ex.words) or len(ex.word_ids) != len(ex.tokens):
        return True
    sums = [0.0] * len(words)
    for score, word in zip(tokens, ex.word_ids):
        if word is not None and word < len(sums) and score is not None and math.isfinite(score):
            sums[word] += score
    return all(not math.isfinite(w) or math.isclose(a, w, rel_tol=1e-6, abs_tol=1e-9) for a, w in zip(sums, words))


def _layout(run: RunResult) -> _Layout:
    methods = methods_with_scores(run)
    keys = key_table(methods, "m")
    by_index = {ex.index: ex for ex in run.examples}
    overrides = frozenset(
        f"m{i}" for i, method in enumerate(methods)
        if any(index in by_index and not _folds_to_words(run, by_index[index], a.tokens, a.words)
               for index, a in run.attributions[method].items())
    )
    pairs = any(ex.word_segments is not None for ex in run.examples)
    templates = [
        position_matrix_template("tpl-tokens", "tok", keys, row_title="method", unit="token",
                                 legend="score / max |score| on the row's real tokens", per_row=True, pairs=pairs),
        word_matrix_template("tpl-words", keys, sorted(overrides), pairs=pairs),
    ]
    layer_method = layer_names = None
    for method in methods:
        for attribution in run.attributions[method].values():
            if attribution.extra.get("layers") and attribution.extra.get("layer_names"):
                layer_method, layer_names = method, [str(n) for n in attribution.extra["layer_names"]]
                break
        if layer_method:
            break
    if layer_names:
        layer_keys = key_table(layer_names, "L", [_layer_label(n) for n in layer_names])
        templates.append(position_matrix_template(
            "tpl-layers", "tok", layer_keys, row_title="layer output", unit="token",
            legend="score / max |score| on the matrix's real tokens", per_row=False, height_step=14, pairs=pairs))
    attention_method = shape = None
    for method in methods:
        for attribution in run.attributions[method].values():
            maps = stored_maps(attribution.extra)
            if maps:
                attention_method = method
                shape = (1 + max(r["layer"] for r in maps), 1 + max(r["head"] for r in maps))
                break
        if attention_method:
            break
    if shape:
        templates.append(attention_template("tpl-attention", *shape))
        templates.append(heads_template("tpl-heads", *shape))
    return _Layout(methods, overrides, templates, layer_method, layer_names, attention_method, shape, pairs,
                   task_of(run).reads_tags)


def filter_classes(run: RunResult, count: int) -> list[int]:
    """The class ids the filter boxes list, in id order: all ``count`` of them up to FILTER_CLASSES, else the
    FILTER_CLASSES that occur most often as an example's true or predicted class, or as the label a multi-label
    unit explains (ties: the lower id)."""
    if count <= FILTER_CLASSES:
        return list(range(count))
    seen = Counter(c for ex in run.examples for c in (ex.label, ex.prediction) if c is not None)
    seen.update(ex.target for ex in run.examples if ex.source is not None and ex.target is not None)  # units
    return sorted(sorted(seen, key=lambda c: (-seen[c], c))[:FILTER_CLASSES])


def filter_value(class_id: int | None, listed: frozenset[int] | None) -> str:
    """An example's class as its filter attribute reads: the id, OTHER_CLASSES for a class the boxes do not
    list (``listed`` is None when they list every class), empty for none."""
    if class_id is None:
        return ""
    return str(class_id) if listed is None or class_id in listed else OTHER_CLASSES


def probability_list(ex: Example, names: list[str]) -> tuple[list[tuple[str, str]], str]:
    """The (class, probability) pairs an example lists and the sum of the others ('' when every class is
    listed): every class in id order up to EVERY_PROBABILITY_UP_TO classes, else the TOP_PROBABILITIES most
    probable and the true and explained class, most probable first (ties: the lower id)."""
    probabilities = ex.probabilities
    if len(probabilities) <= EVERY_PROBABILITY_UP_TO:
        return [(_class_name(names, c), f"{p:.3f}") for c, p in enumerate(probabilities)], ""
    ids = set(heapq.nlargest(TOP_PROBABILITIES, range(len(probabilities)), key=probabilities.__getitem__))
    ids |= {c for c in (ex.label, ex.target) if c is not None and 0 <= c < len(probabilities)}
    listed = sorted(ids, key=lambda c: (-probabilities[c], c))
    rest = sum(p for c, p in enumerate(probabilities) if c not in ids)
    pairs = [(_class_name(names, c), probability_text(probabilities[c])) for c in listed]
    return pairs, f"the other {fmt(len(probabilities) - len(ids))} classes: {probability_text(rest)} together"


def _class_name(names: list[str], class_id: int) -> str:
    return names[class_id] if class_id < len(names) else str(class_id)


def probability_text(probability: float) -> str:
    """A probability to 3 decimals, or to 3 significant digits below 0.001 (where a model of thousands of
    classes puts most of them)."""
    return f"{probability:.2e}" if 0 < probability < 1e-3 else f"{probability:.3f}"


def bound_notes(run: RunResult, classes: int, listed: list[int]) -> dict[str, str]:
    """The sentences that state the explorer's bounds on classes; empty for a bound this run stays within."""
    notes = {"probabilities": "", "filters": ""}
    widest = max((len(ex.probabilities) for ex in run.examples), default=0)
    if widest > EVERY_PROBABILITY_UP_TO:
        notes["probabilities"] = (
            f"This model has {fmt(widest)} classes: each example lists the probabilities of its "
            f"{TOP_PROBABILITIES} most probable classes, most probable first, and of its true and explained class "
            "where they are not among them; the probabilities of the other classes are summed. The results' "
            "examples.jsonl holds every probability.")
    if len(listed) < classes:
        notes["filters"] = (
            f"The class boxes list at most {FILTER_CLASSES} classes (here {fmt(len(listed))}): those that occur "
            "most often among the examples' true and predicted classes (ties: the lower class id); "
            f"\"({fmt(classes - len(listed))} other classes)\" picks the examples of every other class.")
    return notes


def explorer(run: RunResult) -> dict[str, Any]:
    layout = _layout(run)
    names = shown_class_names(run)
    listed = filter_classes(run, len(names))
    folded = len(listed) < len(names)
    filter_ids = frozenset(listed) if folded else None
    compared_methods = [method for method in layout.methods if method != CONTROL]
    items, digits = [], score_digits(len(run.examples))
    for ex in run.examples:
        item = _example(run, ex, layout, names, filter_ids, digits)
        spread = disagreement(run, ex, compared_methods) if ex.ok else None
        item["disagreement"] = "" if spread is None else f"{spread:.4f}"
        items.append(item)
    items = ordered(items, run.examples)
    for position, item in enumerate(items):
        item["open"] = position < OPEN_EXAMPLES
        item["order"] = position
    kept = sum(item["attention"] for item in items)
    return {
        "examples": items,
        "paged": paging(items),
        "templates": layout.templates,
        "classes": [(c, names[c]) for c in listed],
        "other_classes": f"({fmt(len(names) - len(listed))} other classes)" if folded else "",
        "other_value": OTHER_CLASSES,
        "bound_notes": bound_notes(run, len(names), listed),
        "methods": layout.methods,
        "highlight_methods": highlight_choices(run, layout.methods),
        **word_filter(run),
        "layer_method": layout.layer_method,
        "attention_method": layout.attention_method,
        "attention_kept": kept_maps_note(run, kept),
        "notes": {"tokens": token_note(digits), "words": WORD_NOTE, "highlight": HIGHLIGHT_NOTE, "layers": LAYER_NOTE,
                  "attention": ATTENTION_NOTE, "pairs": PAIR_NOTE if layout.pairs else "",
                  "rationale": RATIONALE_NOTE if any(item["rationale"] for item in items) else ""},
    }


def _example(run: RunResult, ex: Example, layout: _Layout, names: list[str], filter_ids: frozenset[int] | None,
             digits: int) -> dict[str, Any]:
    confidence = max(ex.probabilities) if ex.probabilities else None
    probabilities, other_probabilities = probability_list(ex, names)
    item: dict[str, Any] = {
        "index": ex.index,
        "anchor": f"example-{ex.index}",
        "text": shown(ex.text),
        "pair": None if ex.text_pair is None else shown(ex.text_pair),
        "label": label_name(run, ex.label),
        "prediction": label_name(run, ex.prediction),
        "label_filter": filter_value(ex.label, filter_ids),
        "prediction_filter": filter_value(ex.prediction, filter_ids),
        "correct": ex.correct,
        "confidence": "" if confidence is None else f"{confidence:.4f}",
        "confidence_text": "-" if confidence is None else f"{confidence:.2f}",
        "probabilities": probabilities,
        "other_probabilities": other_probabilities,
        "target": label_name(run, ex.target),
        "truncated": ex.truncated,
        "windows": windows_read(run, ex),
        "group": None if ex.group is None else shown(ex.group),
        "error": ex.error,
        "method_errors": [f for f in run.failures if f.example == ex.index and f.method],
        "charts": [],
        "data_id": None,
        "data": None,
        "attention": False,
        "highlight": False,
        "contrast": None,
        "unit": None,
        "entity": None,
        "rationale": None,
    }
    if ex.source is not None:
        item.update(entity_fields(run, ex) if layout.tagged else unit_fields(run, ex, filter_ids))
    if not ex.ok:
        return item
    item["rationale"] = rationale_fields(run, ex, layout.methods)
    row: dict[str, Any] = {"t": [shown(t) for t in ex.tokens], "w": list(ex.word_ids),
                           "W": [shown(w) for w in ex.words]}
    if layout.pairs:
        row.update(pair_starts(ex))
    scored = 0
    for i, method in enumerate(layout.methods):
        attribution = run.attributions[method].get(ex.index)
        tokens = attribution.tokens if attribution is not None and len(attribution.tokens) == len(ex.tokens) else []
        scored += bool(tokens)
        row[f"m{i}"] = sigs(tokens, digits)
        if f"m{i}" in layout.overrides:
            words = attribution.words if attribution is not None else []
            spread = [] if _folds_to_words(run, ex, tokens, words) else spread_to_tokens(words, ex.word_ids).tolist()
            row[f"u{i}"] = sigs(spread, digits)
    item.update(contrast_fields(run, ex, layout.methods, layout.overrides, row, digits))
    data_id = f"ex{ex.index}-data"
    data: dict[str, Any] = {}
    chart_list: list[Chart] = []
    size = f"{len(ex.tokens)} tokens"
    if scored and len(ex.word_ids) == len(ex.tokens):
        layers = _layer_rows(run, ex, layout)
        for key, values in (layers or {}).items():
            row[key] = sigs(values, digits)
        data["tok"] = [row]
        item["highlight"] = True
        chart_list.append(Chart(f"ex{ex.index}-tokens", f"token by method attribution heatmap, {size}",
                                template="tpl-tokens", data=data_id, css="tokens"))
        chart_list.append(Chart(f"ex{ex.index}-words", f"word by method attribution heatmap, {len(ex.words)} words",
                                template="tpl-words", data=data_id, css="words"))
        if layers:
            chart_list.append(Chart(f"ex{ex.index}-layers", f"layer by token attribution matrix, {size}",
                                    template="tpl-layers", data=data_id, css="layers"))
    attention = _attention_rows(run, ex, layout)
    if attention is not None:
        data["att"] = attention
        data["pos"] = [{"i": i, "t": shown(token)} for i, token in enumerate(ex.tokens)]
        chart_list.append(Chart(f"ex{ex.index}-attention", f"query by key attention heatmap, {size}",
                                template="tpl-attention", data=data_id, css="attention"))
        chart_list.append(Chart(f"ex{ex.index}-heads", f"every head of one layer, query by key, {size}",
                                template="tpl-heads", data=data_id, css="heads"))
        item["attention"] = True
    if data:
        item.update(data=data, data_id=data_id, charts=chart_list)
    return item


def unit_fields(run: RunResult, ex: Example, filter_ids: frozenset[int] | None) -> dict[str, Any]:
    """What the explorer shows of a multi-label unit: the row and the label it explains, the row's true and
    predicted labels; its filters, outcome and confidence are of the explained label (true, predicted, its
    probability)."""
    target = ex.target
    is_true = None if ex.labels is None or target is None else target in ex.labels
    is_predicted = target is not None and target in (ex.predicted or [])
    names = lambda ids: None if ids is None else [label_name(run, c) for c in ids]  # noqa: E731
    probability = ex.probabilities[target] if target is not None and target < len(ex.probabilities) else None
    return {
        "unit": {"row": ex.source, "labels": names(ex.labels), "predicted": names(ex.predicted),
                 "probability": "-" if probability is None else probability_text(probability),
                 "threshold": run.config.get("threshold"), "is_true": is_true, "is_predicted": is_predicted},
        "label_filter": filter_value(target if is_true else None, filter_ids),
        "prediction_filter": filter_value(target if is_predicted else None, filter_ids),
        "correct": None if is_true is None else is_true == is_predicted,
        "confidence": "" if probability is None else f"{probability:.4f}",
    }


def entity_fields(run: RunResult, ex: Example) -> dict[str, Any]:
    """What the explorer shows of a token-classification unit: its row, the entity it explains marked in the
    text, its score and whether the data tags it so (its outcome); a row without entities says so."""
    entity, offsets = ex.entity, word_offsets(ex.text)
    if not entity or not 0 <= entity["words"][0] < entity["words"][1] <= len(offsets):
        return {"entity": {"row": ex.source, "found": False}, "probabilities": [], "other_probabilities": ""}
    start, end = offsets[entity["words"][0]][0], offsets[entity["words"][1] - 1][1]
    truth = None if ex.tags is None else {(e.type, e.words) for e in true_entities(ex, run.labels)}
    is_true = None if truth is None else (entity["type"], tuple(entity["words"])) in truth
    score = entity.get("score")
    return {
        "entity": {"row": ex.source, "found": True, "type": shown(entity["type"]), "is_true": is_true,
                   "score": "-" if score is None or not math.isfinite(score) else f"{score:.3f}",
                   "before": shown(ex.text[:start]), "inside": shown(ex.text[start:end]), "after": shown(ex.text[end:])},
        "correct": is_true,
        "confidence": "" if score is None or not math.isfinite(score) else f"{score:.4f}",
        "probabilities": [], "other_probabilities": "",
    }


def pair_starts(ex: Example) -> dict[str, int]:
    """Where an example's pair begins: ``b``, its first token's position, and ``B``, its first word's index
    (-1 for an example without a pair, or whose pair was cut away)."""
    start = pair_start(ex)
    return {"b": -1, "B": -1} if start is None else {"b": start[1], "B": start[0]}


def _layer_rows(run: RunResult, ex: Example, layout: _Layout) -> dict[str, list[float]] | None:
    if not layout.layer_method:
        return None
    attribution = run.attributions[layout.layer_method].get(ex.index)
    if attribution is None:
        return None
    names, matrix = attribution.extra.get("layer_names"), attribution.extra.get("layers")
    if not matrix or [str(n) for n in names or []] != layout.layer_names:
        return None
    if any(len(row) != len(ex.tokens) for row in matrix):
        return None
    return {f"L{i}": row for i, row in enumerate(matrix)}


def _attention_rows(run: RunResult, ex: Example, layout: _Layout) -> list[dict[str, Any]] | None:
    """The page's attention rows of one example, or None where it has no readable maps of the layout's shape."""
    if not layout.attention_method or not layout.attention_shape:
        return None
    attribution = run.attributions[layout.attention_method].get(ex.index)
    maps = stored_maps(attribution.extra) if attribution else None
    if not maps or len(maps) != layout.attention_shape[0] * layout.attention_shape[1]:
        return None
    try:
        rows = attention_rows(maps)
    except ValueError:  # a damaged results folder: this example has no attention heatmap
        return None
    n = len(ex.tokens)
    return None if any(r["n"] != n or len(r["a"]) != n * n for r in rows) else rows


def windows_read(run: RunResult, ex: Example) -> int | None:
    """How many windows a long document was read in (--long-text window), from its attributions; None: one."""
    counts = [a.extra.get("windows") for table in run.attributions.values() for a in [table.get(ex.index)] if a]
    counts = [n for n in counts if isinstance(n, int) and not isinstance(n, bool) and n > 1]
    return max(counts) if counts else None
