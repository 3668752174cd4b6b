"""Sanity checks (Adebayo et al. 2018): how much each method's word scores change when the model's parameters are
randomised, from the scores the explain stage stored for a sample (reportgen.explain.sanity). A method whose
scores barely change when the model is destroyed does not explain the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.params import MAX_WORDS, Flag, Number, Text, Whole
from ..results.queries import explained, methods_with_scores
from ..results.records import RunResult
from .agreement import ranking_agreement
from .base import Column, Metric, Panel, Table, defined, metrics

KINDS = ("cascade", "independent")
NOT_RUN = ("No sanity checks ran in this run: by default they run on as many examples as cost at most a quarter of "
           "the main pass, and this run explained too few (or --sanity-examples was 0). Rerun with "
           "--sanity-examples N to check every method on N examples.")
DEFINITIONS = {
    "randomisation": (
        "For a seeded sample of the explained examples, every method ran again on copies of the model with "
        "parameters re-initialised as a fresh model's (weight matrices drawn from a normal distribution of the "
        "config's initializer range, biases zero, layer norms one and zero), explaining the same class. Cascading: "
        "the classification head (with the pooler or final norm), then each layer from the top down, then the "
        "embeddings, each step keeping the earlier ones randomised; its last step is the fully randomised model. "
        "Independent: each layer alone, the rest as trained."
    ),
    "sanity_spearman": (
        "Per example and step, Spearman's rank correlation between the method's word scores for the trained "
        "model and for the randomised one (signed scores unless the parameter absolute is true; constant vectors "
        "left out, as in agreement); the step's value is the mean over the sample, with its standard error. "
        "top_k_overlap: the share of the k highest-scoring words both keep (examples with more than k words)."
    ),
    "sanity_verdict": (
        "A method fails the check when its mean correlation after full randomisation (the last cascading step) "
        "is above the threshold: its scores still look the same when the model has learned nothing. It passes "
        "otherwise; untested with no correlation defined. The random control ignores the model by design, so "
        "it fails, which shows the check at work."
    ),
}


@metrics.register
class Sanity(Metric):
    name = "sanity"
    order = 45
    description = ("Model parameter randomisation (Adebayo et al. 2018): rank correlation of each method's word "
                   "scores with the trained model's, per randomisation step, and a verdict per method.")
    parameters = {"k": Whole(3, low=1, high=MAX_WORDS), "absolute": Flag(False),
                  "threshold": Number(0.5, low=-1, high=1), "control": Text("random", also={None: "no control"})}
    section = "quality"
    title = "Sanity checks: the model randomised"

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        examples = explained(run)
        steps = {kind: _steps(run, kind) for kind in KINDS}
        rows = [self._method(run, method, examples, steps) for method in methods_with_scores(run)]
        rows = [row for row in rows if row is not None]
        sampled = {index for method in run.attributions.values() for index, a in method.items() if "sanity" in a.extra}
        return {**defined(DEFINITIONS), "k": int(self.params["k"]), "absolute": bool(self.params["absolute"]),
                "threshold": float(self.params["threshold"]), "examples": len(sampled), **steps, "methods": rows}

    def _method(self, run: RunResult, method: str, examples, steps: dict[str, list[str]]) -> dict[str, Any] | None:
        trained, randomised = {}, {(kind, step): {} for kind in KINDS for step in steps[kind]}
        for ex in examples:
            attribution = run.attributions[method].get(ex.index)
            if attribution is None or "sanity" not in attribution.extra:
                continue
            trained[ex.index] = self._scores(attribution.words)
            for kind, by_step in attribution.extra["sanity"].items():
                for step, words in by_step.items():
                    if (kind, step) in randomised and len(words) == len(attribution.words):
                        randomised[kind, step][ex.index] = self._scores(words)
        if not trained:
            return None
        k = int(self.params["k"])
        row: dict[str, Any] = {"method": method, "is_control": method == self.params["control"],
                               "examples": len(trained)}
        for kind in KINDS:
            row[kind] = [{"step": step, **_agreement(trained, randomised[kind, step], k)} for step in steps[kind]]
        final = row["cascade"][-1] if row["cascade"] else {}
        row["randomised_spearman"] = final.get("spearman")
        row["randomised_spearman_se"] = final.get("spearman_se")
        rho = row["randomised_spearman"]
        row["verdict"] = None if rho is None else "fails" if rho > self.params["threshold"] else "passes"
        return row

    def _scores(self, words: list[float]) -> np.ndarray:
        scores = np.asarray(words, dtype=np.float64)
        return np.abs(scores) if self.params["absolute"] else scores

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel | None:
        if not result["methods"]:
            return Panel(note=NOT_RUN, definitions=dict(DEFINITIONS))
        rows = [{**row, "method": f"{row['method']} (control)" if row["is_control"] else row["method"],
                 "final_overlap": (row["cascade"][-1]["top_k_overlap"] if row["cascade"] else None),
                 "verdict": row["verdict"] or "untested"} for row in result["methods"]]
        table = Table(columns(result["k"]), rows, css="sanity")
        return Panel(table, curves(result), "line chart of each method's rank correlation with the trained "
                     "model's scores at each randomisation step", {name: text for name, text in DEFINITIONS.items()})


def _steps(run: RunResult, kind: str) -> list[str]:
    """The steps of one kind in the order the explain stage ran them (the first attribution that has them)."""
    for by_example in run.attributions.values():
        for attribution in by_example.values():
            steps = (attribution.extra.get("sanity") or {}).get(kind)
            if steps:
                return list(steps)
    return []


def _agreement(trained: dict[int, np.ndarray], randomised: dict[int, np.ndarray], k: int) -> dict[str, Any]:
    found = ranking_agreement(trained, randomised, k)
    return {key: found[key] for key in ("spearman", "spearman_se", "spearman_examples", "top_k_overlap")}


def columns(k: int) -> list[Column]:
    return [Column("method", "method", "name"), Column("examples", "examples", "count"),
            Column("Spearman after full randomisation", "randomised_spearman"),
            Column("± standard error", "randomised_spearman_se"),
            Column(f"top-{k} overlap after full randomisation", "final_overlap"), Column("verdict", "verdict", "name")]


def curves(result: dict[str, Any]) -> dict[str, Any]:
    """Mean rank correlation per step, one line per method: cascading (left) and each layer alone (right)."""
    values = []
    for m, row in enumerate(result["methods"]):
        for kind in KINDS:
            for o, step in enumerate(row[kind]):
                if step["spearman"] is not None:
                    values.append({"method": row["method"], "mo": m, "kind": kind, "step": step["step"], "o": o,
                                   "rho": round(step["spearman"], 4), "control": row["is_control"]})

    def panel(kind: str, title: str) -> dict[str, Any]:
        return {
            "title": title, "width": 300, "height": 220,
            "transform": [{"filter": {"field": "kind", "equal": kind}}],
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "step", "type": "ordinal", "sort": {"field": "o", "op": "min"}, "title": None,
                      "axis": {"labelAngle": -40, "labelLimit": 120}},
                "y": {"field": "rho", "type": "quantitative", "scale": {"domain": [-1, 1]},
                      "title": "Spearman with the trained model's scores"},
                "color": {"field": "method", "type": "nominal", "sort": {"field": "mo", "op": "min"}},
                "strokeDash": {"field": "control", "type": "nominal", "legend": None},
                "tooltip": [{"field": "method", "type": "nominal"}, {"field": "step", "type": "nominal"},
                            {"field": "rho", "type": "quantitative", "title": "Spearman"}],
            },
        }

    return {"data": {"values": values},
            "hconcat": [panel("cascade", "Cascading: from the head down"), panel("independent", "Each layer alone")]}
