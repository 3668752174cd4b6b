"""Sentence pairs: does a method put the decision on the text (premise) or on the pair (hypothesis)?"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.numbers import sig
from ..ops.stats import mean, standard_error
from ..results.queries import class_names, explained, methods_with_scores
from ..results.records import Example, RunResult
from .base import Column, Metric, Panel, Table, defined, metrics

SEGMENT_NAMES = ("text", "pair")
DEFINITIONS = {
    "share": (
        "Per example and method, text share = sum of |word score| over the words of the first text / sum of "
        "|word score| over all its words; pair share = the same over the second text's words (= 1 - text "
        "share). Word scores are the method's scores for the explained class, summed over each word's tokens; "
        "special and separator tokens ([CLS], [SEP], <s>, </s>) belong to no word and are left out. An example "
        "whose scores are all 0 (or not finite) has no share: it is counted in 'undefined' and left out."
    ),
    "mean": (
        "Each row is the mean over the examples it counts, with its standard error (sample standard deviation "
        "/ sqrt(n); none below two examples): every explained example for the method's overall row, those "
        "explained for a class (the target class: the predicted one unless the run explained the labels) for "
        "its class rows."
    ),
}


@metrics.register
class SegmentShare(Metric):
    name = "segment_share"
    order = 45
    description = "Share of each method's absolute word attribution on the first and the second text of a pair."
    defaults: dict[str, Any] = {}
    section = "global"
    title = "Text or pair: where the attribution mass lies"
    tasks = ("sentence_pair",)  # the only task whose examples have two segments

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        names = class_names(run)
        examples = [ex for ex in explained(run) if ex.word_segments is not None]
        methods, per_class = [], []
        for method in methods_with_scores(run):
            shares = {ex.index: text_share(run, method, ex) for ex in examples}
            counted = [ex for ex in examples if ex.index in run.attributions[method]]
            methods.append({"method": method, **_row([shares[ex.index] for ex in counted])})
            for target in sorted({ex.target for ex in counted if ex.target is not None}):
                values = [shares[ex.index] for ex in counted if ex.target == target]
                per_class.append({"method": method, "class": names[target], "class_id": target, **_row(values)})
        return {**defined(DEFINITIONS), "segments": list(SEGMENT_NAMES), "methods": methods, "per_class": per_class}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        rows = [{**row, "class": "all classes"} for row in result["methods"]] + result["per_class"]
        rows.sort(key=lambda row: [r["method"] for r in result["methods"]].index(row["method"]))
        chart = share_chart(result["methods"]) if any(r["examples"] for r in result["methods"]) else None
        return Panel(Table(COLUMNS, rows, css="segment-share"), chart,
                     "bar chart of each method's attribution share on the text and on the pair",
                     {"text share": result["definitions"]["share"], "mean": result["definitions"]["mean"]})


COLUMNS = [
    Column("method", "method", "name"),
    Column("class", "class", "name"),
    Column("examples", "examples", "count"),
    Column("text", "text_share", "percent", 1),
    Column("± s.e.", "text_share_se", "percent", 1),
    Column("pair", "pair_share", "percent", 1),
    Column("no mass", "undefined", "count"),
]


def text_share(run: RunResult, method: str, ex: Example) -> float | None:
    """The share of the method's absolute word scores of ``ex`` on its first text; None without any mass."""
    attribution = run.attributions[method].get(ex.index)
    segments = ex.word_segments or []
    if attribution is None or len(attribution.words) != len(segments) or not segments:
        return None
    mass = np.abs(np.asarray(attribution.words, dtype=np.float64))
    total = mass.sum()
    if not np.isfinite(total) or total <= 0:
        return None
    return float(mass[np.asarray(segments) == 0].sum() / total)


def _row(shares: list[float | None]) -> dict[str, Any]:
    defined_shares = [s for s in shares if s is not None]
    text = mean(defined_shares)
    return {"examples": len(defined_shares), "undefined": len(shares) - len(defined_shares),
            "text_share": text, "text_share_se": standard_error(defined_shares),
            "pair_share": None if text is None else 1.0 - text}


def share_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One stacked bar per method: its mean share on the text, then on the pair."""
    values = [{"method": row["method"], "o": i, "segment": segment, "so": s,
               "share": sig(row["text_share"] if s == 0 else row["pair_share"], 3), "n": row["examples"]}
              for i, row in enumerate(rows) if row["text_share"] is not None
              for s, segment in enumerate(SEGMENT_NAMES)]
    return {
        "data": {"values": values},
        "width": 360,
        "height": {"step": 18},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "method", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
                  "axis": {"labelLimit": 200}},
            "x": {"field": "share", "type": "quantitative", "stack": "zero", "scale": {"domain": [0, 1]},
                  "title": "mean share of |attribution|", "axis": {"format": ".0%"}},
            "color": {"field": "segment", "type": "nominal",
                      "scale": {"domain": list(SEGMENT_NAMES), "range": ["#4c78a8", "#f58518"]},
                      "legend": {"title": "segment", "orient": "bottom"}},
            "order": {"field": "so", "type": "quantitative"},
            "tooltip": [
                {"field": "method", "type": "nominal"},
                {"field": "segment", "type": "nominal"},
                {"field": "share", "type": "quantitative", "format": ".1%", "title": "mean share"},
                {"field": "n", "type": "quantitative", "title": "examples"},
            ],
        },
        "config": {"view": {"stroke": None}},
    }
