"""Token classification (NER, POS): how well the model finds the entities of the data, and tags its words."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from ..ops.numbers import sig
from ..ops.stats import mean, ratio
from ..results.queries import input_rows
from ..results.records import Example, RunResult
from .base import Column, Metric, Panel, Table, defined, metrics

OUTSIDE = "O"
DEFINITIONS = {
    "entities": (
        "Entities are read from the words' tags by seqeval's default (conlleval) rules: B-X starts an entity of "
        "type X; I-X continues an entity of type X, and starts one after O or after an entity of another type; "
        "E-X and S-X end one; O is outside every entity. A tag without a B-, I-, E- or S- prefix is a type of "
        "its own, continued by the same tag. A word's predicted tag is that of its first token; a word without "
        "any token left (truncated away) counts as O. A predicted entity is correct when a true one has the "
        "same type, the same first word and the same last word."
    ),
    "scores": (
        "Per type: support = true entities, precision = correct / predicted entities, recall = correct / "
        "support, F1 = 2PR/(P+R); a ratio whose denominator is 0 is 0 (seqeval's zero_division)."
    ),
    "averages": (
        "Micro: precision, recall and F1 of the entities of every type together (null when neither the data "
        "nor the model has any entity). Macro: the unweighted mean of each type's figure over the types among "
        "the true or the predicted entities (seqeval's default). Weighted: their mean weighted by support."
    ),
    "accuracy": "Word accuracy = words whose predicted tag is the true tag / words of the scored rows.",
    "rows": (
        "Scored rows have the data's tags and the model's; failed rows, rows without tags (unlabeled) and rows "
        "the model gave no tags (unanswered) are counted apart."
    ),
}
MICRO_ROW, MACRO_ROW = "all types (micro)", "all types (macro)"


@metrics.register
class Entities(Metric):
    name = "entities"
    order = 10
    description = ("Entity-level precision, recall and F1 per type (seqeval's default, conlleval rules), their "
                   "micro, macro and weighted averages, and word-level tag accuracy.")
    defaults: dict[str, Any] = {}
    section = "performance"
    title = "Entities: precision, recall and F1 per type"
    tasks = ("token_classification",)

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        rows = input_rows(run)
        names = [str(name) for name in run.labels]
        pairs = [tag_pair(ex, names) for ex in rows if is_scored(ex)]
        true = [entity for i, (gold, _) in enumerate(pairs) for entity in row_entities(i, gold)]
        predicted = [entity for i, (_, guess) in enumerate(pairs) for entity in row_entities(i, guess)]
        types = type_scores(true, predicted)
        return {**defined(DEFINITIONS), "counts": row_counts(rows), "types": types,
                "micro": micro(types), "macro": averaged(types, None), "weighted": averaged(types, "support"),
                "words": word_accuracy(pairs)}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        rows = list(result["types"])
        if rows:
            rows += [{"type": MICRO_ROW, **result["micro"]}, {"type": MACRO_ROW, **result["macro"]}]
        chart = f1_chart(result["types"]) if result["types"] else None
        return Panel(Table(COLUMNS, rows, css="entities"), chart, "bar chart of the F1 of each entity type",
                     dict(result["definitions"]))


COLUMNS = [
    Column("type", "type", "name"),
    Column("support", "support", "count"),
    Column("predicted", "predicted", "count"),
    Column("correct", "correct", "count"),
    Column("precision", "precision"),
    Column("recall", "recall"),
    Column("F1", "f1"),
]


def is_scored(ex: Example) -> bool:
    return ex.ok and ex.tags is not None and ex.predicted_tags is not None


def row_counts(rows: list[Example]) -> dict[str, int]:
    return {
        "rows": len(rows),
        "scored": sum(map(is_scored, rows)),
        "failed": sum(not ex.ok for ex in rows),
        "unlabeled": sum(ex.ok and ex.tags is None for ex in rows),
        "unanswered": sum(ex.ok and ex.tags is not None and ex.predicted_tags is None for ex in rows),
    }


def tag_pair(ex: Example, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """A scored row's true and predicted tag names, one per word (a missing tag is O)."""
    gold = list(ex.tags or [])
    guess = list(ex.predicted_tags or [])[: len(gold)]
    guess += [None] * (len(gold) - len(guess))
    return [tag_name(tag, names) for tag in gold], [tag_name(tag, names) for tag in guess]


def tag_name(tag: int | None, names: Sequence[str]) -> str:
    if tag is None:
        return OUTSIDE
    return names[tag] if 0 <= tag < len(names) else str(tag)


# ----------------------------------------------------------------------------- entities, as seqeval reads them


def chunk_parts(name: str) -> tuple[str, str | None]:
    """A tag's prefix (B, I, E, S or O) and type; a tag without a prefix continues a type of its own name."""
    if name == OUTSIDE:
        return "O", None
    if name[:2] in ("B-", "I-", "E-", "S-"):
        return name[0], name[2:] or "_"  # seqeval's name for an empty type
    return "I", name


def _ends(previous: str, current: str, new_type: bool) -> bool:
    """Whether an entity ends between a word of prefix ``previous`` and the next, of prefix ``current``."""
    return previous in "ES" or (previous in "BI" and current in "BSO") or (previous != "O" and new_type)


def _starts(previous: str, current: str, new_type: bool) -> bool:
    return current in "BS" or (current in "EI" and previous in "ESO") or (current != "O" and new_type)


def get_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities of one row's tag names: (type, first word, last word + 1)."""
    found = []
    previous, previous_type, begin = "O", None, 0
    for i, name in enumerate([*tags, OUTSIDE]):
        current, kind = chunk_parts(name)
        if _ends(previous, current, kind != previous_type):
            found.append((str(previous_type), begin, i))
        if _starts(previous, current, kind != previous_type):
            begin = i
        previous, previous_type = current, kind
    return found


def row_entities(row: int, tags: Sequence[str]) -> list[tuple[int, str, int, int]]:
    return [(row, kind, start, end) for kind, start, end in get_entities(tags)]


# ----------------------------------------------------------------------------- scores


def type_scores(true: list[tuple], predicted: list[tuple]) -> list[dict[str, Any]]:
    """Per type among the true or predicted entities (sorted): support, predicted, correct and P/R/F1."""
    support, guessed = Counter(e[1] for e in true), Counter(e[1] for e in predicted)
    correct = Counter(e[1] for e in set(true) & set(predicted))
    return [{"type": kind, **scores(support[kind], guessed[kind], correct[kind])}
            for kind in sorted(set(support) | set(guessed))]


def scores(support: int, predicted: int, correct: int) -> dict[str, Any]:
    """Counts and figures of one type (or of all together); F1 = 2PR/(P+R) = 2 correct / (support + predicted)."""
    return {"support": support, "predicted": predicted, "correct": correct, "precision": ratio(correct, predicted),
            "recall": ratio(correct, support), "f1": ratio(2 * correct, support + predicted)}


def micro(types: list[dict[str, Any]]) -> dict[str, Any]:
    total = {key: sum(row[key] for row in types) for key in ("support", "predicted", "correct")}
    figures = scores(total["support"], total["predicted"], total["correct"])
    if not types:
        figures.update(precision=None, recall=None, f1=None)
    return figures


def averaged(types: list[dict[str, Any]], weight: str | None) -> dict[str, float | None]:
    """Each figure's mean over the types, unweighted or weighted by ``weight`` (None without any weight)."""
    weights = [row[weight] if weight else 1 for row in types]
    if not sum(weights):
        return {"precision": None, "recall": None, "f1": None}
    if weight is None:
        return {key: mean(row[key] for row in types) for key in ("precision", "recall", "f1")}
    return {key: sum(w * row[key] for w, row in zip(weights, types)) / sum(weights)
            for key in ("precision", "recall", "f1")}


def word_accuracy(pairs: Iterable[tuple[list[str], list[str]]]) -> dict[str, Any]:
    words = correct = 0
    for gold, guess in pairs:
        words += len(gold)
        correct += sum(a == b for a, b in zip(gold, guess))
    return {"words": words, "correct": correct, "accuracy": correct / words if words else None}


def f1_chart(types: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per entity type: its F1 (type names only as data values)."""
    values = [{"type": row["type"], "o": i, "f1": sig(row["f1"], 3), "precision": sig(row["precision"], 3),
               "recall": sig(row["recall"], 3), "support": row["support"]} for i, row in enumerate(types)]
    return {
        "data": {"values": values},
        "width": 360,
        "height": {"step": 18},
        "mark": {"type": "bar", "color": "#4c78a8"},
        "encoding": {
            "y": {"field": "type", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
                  "axis": {"labelLimit": 200}},
            "x": {"field": "f1", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": "F1"},
            "tooltip": [
                {"field": "type", "type": "nominal", "title": "entity type"},
                {"field": "f1", "type": "quantitative", "format": ".3f", "title": "F1"},
                {"field": "precision", "type": "quantitative", "format": ".3f"},
                {"field": "recall", "type": "quantitative", "format": ".3f"},
                {"field": "support", "type": "quantitative", "title": "true entities"},
            ],
        },
        "config": {"view": {"stroke": None}},
    }
