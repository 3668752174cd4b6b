"""Faithfulness: does removing the tokens a method ranks highest change the prediction?"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops.numbers import rounded
from ..ops.params import Flag, Numbers, Text, Whole
from ..ops.ranking import ranking
from ..ops.stats import SIGNIFICANT_SE, compared, independent_difference, mean, paired_difference, standard_error
from ..ops.words import is_spread
from ..results.queries import class_names, explained, methods_with_scores
from ..results.records import Attribution, Example, RunResult
from .base import Metric, defined, metrics

DEFINITIONS = {
    "removal": (
        "Computed in token space on the model's own input ids, without re-tokenising. Only content "
        "tokens (those belonging to a word) can be removed; special tokens ([CLS], [SEP], <s>, ...) "
        "always stay. A removed token is replaced by the mask token id (the pad token id when the "
        "tokenizer has no mask token), so the length and positions do not change. For a removal "
        "fraction f and an example with n content tokens, k = ceil(f * n) tokens are removed "
        "(at least one). Short texts make small fractions coincide: with n <= 20 content tokens the "
        "1% and 5% fractions both remove the same single top token (n <= 10: 10% too; n <= 5: 20% "
        "too), so that token's effect counts several times in the AOPC; the curve's "
        "mean_tokens_removed gives the k actually used. For an explained entity (token classification), p is "
        "the entity's score and its own tokens may be removed too, unless the keep_entity parameter keeps them."
    ),
    "ranking": (
        "Tokens are ranked by the method's token scores for the target class (the explained class), "
        "highest first, signed (a negative score ranks below a zero score); ties keep the token "
        "order (stable sort, earlier token first) and NaN scores rank last. A word-level method "
        "(one that scores words only, such as lime, whose tokens hold the word's score shared "
        "equally among them) ranks each token by its word's full score instead, so a word of three "
        "tokens ranks with its whole score rather than a third of it; the word's tokens then tie "
        "and are removed left to right, as are equal words. The results carry no word-level flag: "
        "on an example a method counts as word-level when its token scores equal its word scores "
        "shared out that way (to 1e-9, relative) and some word has several tokens (otherwise both rankings are "
        "the same); ranked_by_word counts those examples per method. shap is token-level: its token "
        "scores are shap's own per-token values (where shap's tokens do not line up with the "
        "model's, they are shared out from its word scores and it is ranked by word there)."
    ),
    "comprehensiveness": (
        "ERASER (DeYoung et al. 2020): comprehensiveness at f = p_t(x) - p_t(x without its top-k "
        "tokens), where p_t is the model's probability of the target class t; higher means the "
        "top tokens matter more."
    ),
    "sufficiency": (
        "ERASER: sufficiency at f = p_t(x) - p_t(x keeping only its top-k tokens, all other content "
        "tokens removed); lower means the top tokens alone keep the prediction."
    ),
    "aopc": (
        "Per example, the comprehensiveness reported for a method is its AOPC (area over the "
        "perturbation curve) over the removal fractions F: (1/|F|) x the sum over f in F of the "
        "comprehensiveness at f, the plain mean over the fractions with no point for f = 0; the "
        "sufficiency likewise. This is what ERASER's benchmark code computes (rationale_benchmark/"
        "metrics.py averages the per-threshold differences over the thresholds 0.01, 0.05, 0.1, "
        "0.2, 0.5). The ERASER paper (DeYoung et al. 2020) writes the aggregate as 1/(|B|+1) x a "
        "sum over k = 0..|B|, after Samek et al., which also counts the unperturbed input (k = 0, a "
        "difference of 0): its value is |F|/(|F|+1) (5/6 for the five default fractions) times "
        "the one here. The dataset value is the mean over examples (se = standard error of that "
        "mean); every example has the same fractions, so this is also the mean over all (example, "
        "fraction) pairs, as in ERASER's code. The curve gives the dataset mean at each fraction. "
        "p = p_t(x), the unperturbed probability, re-computed with the same batched calls as the "
        "perturbed inputs."
    ),
    "lift": (
        "Lift over the control method (a seeded random ranking): on the examples both explained, "
        "comprehensiveness_lift = mean(comprehensiveness - control's) and sufficiency_lift = "
        "mean(control's sufficiency - sufficiency), so positive lift means better than chance "
        "for both; win_rate = share of those examples where the method is better than the "
        "control (ties count one half). lift_se is the standard error of the paired differences. "
        "versus_control reads the comprehensiveness lift by the report's one rule: better (or worse) "
        "than the control when the lift is more than two standard errors above (below) zero, else tied; "
        "null with fewer than two shared examples. The report's prose, bold and colours all read it."
    ),
}


@dataclass
class _Pending:
    """Perturbed inputs of one example, waiting for their model call."""

    example: Example
    ks: list[int]
    methods: list[str] = field(default_factory=list)
    inputs: list[list[int]] = field(default_factory=list)


@metrics.register
class Faithfulness(Metric):
    name = "faithfulness"
    description = ("ERASER comprehensiveness and sufficiency per method (AOPC over removal fractions), "
                   "per example and per dataset, with lift over the random control.")
    parameters = {"fractions": Numbers([0.01, 0.05, 0.1, 0.2, 0.5], low=0, high=1, low_open=True),
                  "control": Text("random", also={None: "no control"}),
                  # inputs queued for one round of model calls; each is held until it is scored
                  "chunk_size": Whole(8192, low=1, high=1_000_000),
                  "decimals": Whole(5, low=0, high=15), "per_example_curves": Flag(False),
                  "keep_entity": Flag(False)}
    needs_model = True
    order = 30

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        started, evaluations = time.perf_counter(), getattr(runner, "evaluations", 0)
        fractions = [float(f) for f in self.params["fractions"]]
        mask_id = int(runner.task.replacement_id(runner.classifier))
        methods = methods_with_scores(run)
        per_example, skipped, inputs = [], {m: 0 for m in methods}, 0
        by_word = {m: 0 for m in methods}
        pending: list[_Pending] = []
        queued = 0
        examples = [ex for ex in explained(run) if ex.target is not None]
        for ex in sorted(examples, key=lambda ex: len(ex.input_ids)):
            item = self._perturb(ex, run, methods, fractions, mask_id, skipped, by_word, self.params["keep_entity"])
            if item is None:
                continue
            pending.append(item)
            queued += len(item.inputs)
            if queued >= self.params["chunk_size"]:
                inputs += queued
                per_example += self._score(pending, runner, fractions)
                pending, queued = [], 0
        if pending:
            inputs += queued
            per_example += self._score(pending, runner, fractions)
        per_example.sort(key=lambda row: (methods.index(row["method"]), row["example"]))
        control = self.params["control"] if self.params["control"] in methods else None
        result = {
            **defined(DEFINITIONS),
            "fractions": fractions,
            "control": control,
            "mask_token_id": mask_id,
            "summary": self._summary(per_example, methods, control),
            "curve": self._curve(per_example, methods, fractions),
            "by_class": self._by_class(per_example, methods, class_names(run)),
            "per_example": self._compact(per_example),
            "skipped": [{"method": m, "examples": n} for m, n in skipped.items() if n],
            "ranked_by_word": [{"method": m, "examples": n} for m, n in by_word.items() if n],
            "perturbed_inputs": inputs,
            "model_evaluations": getattr(runner, "evaluations", 0) - evaluations,
            "seconds": time.perf_counter() - started,
        }
        return result

    @staticmethod
    def _perturb(ex: Example, run: RunResult, methods: list[str], fractions: list[float], mask_id: int,
                 skipped: dict[str, int], by_word: dict[str, int], keep_entity: bool = False) -> _Pending | None:
        """The unperturbed input, then per method and fraction the comprehensiveness and sufficiency inputs
        (``keep_entity``: an explained entity's own tokens are never removed)."""
        kept = set(ex.entity["positions"]) if keep_entity and ex.entity else set()
        content = [i for i, word in enumerate(ex.word_ids) if word is not None and i not in kept]
        if not content or len(ex.word_ids) != len(ex.input_ids):
            return None
        ks = removal_counts(len(content), fractions)
        item = _Pending(ex, ks, inputs=[list(ex.input_ids)])
        for method in methods:
            attribution = run.attributions[method].get(ex.index)
            if attribution is None or len(attribution.tokens) != len(ex.input_ids):
                skipped[method] += 1
                continue
            order, ranked_by_word = removal_order(attribution, ex, content)
            by_word[method] += ranked_by_word
            item.methods.append(method)
            for k in ks:
                top = set(order[:k])
                item.inputs.append([mask_id if i in top else t for i, t in enumerate(ex.input_ids)])
                rest = set(content) - top
                item.inputs.append([mask_id if i in rest else t for i, t in enumerate(ex.input_ids)])
        return item if item.methods else None

    @staticmethod
    def _score(pending: list[_Pending], runner, fractions: list[float]) -> list[dict[str, Any]]:
        """One batched model call for all pending inputs; per (example, method) scores."""
        lists = [ids for item in pending for ids in item.inputs]
        # only the target's probability per input comes back, not a row over every class
        explained = [item.example for item in pending for _ in item.inputs]
        probs = np.asarray(runner.predict_ids(lists, explained=explained), dtype=np.float64)
        rows, at = [], 0
        for item in pending:
            target = item.example.target
            chunk = probs[at: at + len(item.inputs)]
            at += len(item.inputs)
            full = float(chunk[0])
            for m, method in enumerate(item.methods):
                base = 1 + 2 * len(fractions) * m
                comp = [full - float(chunk[base + 2 * j]) for j in range(len(fractions))]
                suff = [full - float(chunk[base + 2 * j + 1]) for j in range(len(fractions))]
                rows.append({"example": item.example.index, "method": method, "target": target, "p": full,
                             "comprehensiveness": float(np.mean(comp)), "sufficiency": float(np.mean(suff)),
                             "comprehensiveness_by_fraction": comp, "sufficiency_by_fraction": suff,
                             "k": item.ks})
        return rows

    @staticmethod
    def _summary(rows: list[dict], methods: list[str], control: str | None) -> list[dict[str, Any]]:
        by_method = {m: {row["example"]: row for row in rows if row["method"] == m} for m in methods}
        summary = []
        for method in methods:
            mine = by_method[method]
            if not mine:
                continue
            record = {
                "method": method,
                "examples": len(mine),
                "comprehensiveness": mean(r["comprehensiveness"] for r in mine.values()),
                "comprehensiveness_se": standard_error(r["comprehensiveness"] for r in mine.values()),
                "sufficiency": mean(r["sufficiency"] for r in mine.values()),
                "sufficiency_se": standard_error(r["sufficiency"] for r in mine.values()),
                "is_control": method == control,
                "comprehensiveness_lift": None, "sufficiency_lift": None,
                "comprehensiveness_lift_se": None, "sufficiency_lift_se": None,
                "comprehensiveness_win_rate": None, "sufficiency_win_rate": None, "versus_control": None,
            }
            if control is not None:
                shared = sorted(set(mine) & set(by_method[control]))
                if shared:
                    ref = by_method[control]
                    comp = [mine[e]["comprehensiveness"] - ref[e]["comprehensiveness"] for e in shared]
                    suff = [ref[e]["sufficiency"] - mine[e]["sufficiency"] for e in shared]
                    record.update(comprehensiveness_lift=mean(comp), sufficiency_lift=mean(suff),
                                  comprehensiveness_lift_se=standard_error(comp),
                                  sufficiency_lift_se=standard_error(suff),
                                  comprehensiveness_win_rate=_win_rate(comp), sufficiency_win_rate=_win_rate(suff))
                    if method != control:
                        record["versus_control"] = compared(record["comprehensiveness_lift"],
                                                            record["comprehensiveness_lift_se"])
            summary.append(record)
        return summary

    @staticmethod
    def _by_class(rows: list[dict], methods: list[str], names: list[str]) -> list[dict[str, Any]]:
        """Per method and explained class (the target: for a multi-label model, per label), the AOPC means."""
        groups: dict[tuple[str, int], list[dict]] = {}
        for row in rows:
            groups.setdefault((row["method"], row["target"]), []).append(row)
        return [{"method": method, "class": names[target] if target < len(names) else str(target),
                 "class_id": target, "examples": len(mine),
                 "comprehensiveness": mean(r["comprehensiveness"] for r in mine),
                 "comprehensiveness_se": standard_error(r["comprehensiveness"] for r in mine),
                 "sufficiency": mean(r["sufficiency"] for r in mine),
                 "sufficiency_se": standard_error(r["sufficiency"] for r in mine)}
                for (method, target), mine in sorted(groups.items(), key=lambda item: (methods.index(item[0][0]),
                                                                                       item[0][1]))]

    @staticmethod
    def _curve(rows: list[dict], methods: list[str], fractions: list[float]) -> list[dict[str, Any]]:
        curve = []
        for method in methods:
            mine = [row for row in rows if row["method"] == method]
            if not mine:
                continue
            for j, fraction in enumerate(fractions):
                curve.append({
                    "method": method,
                    "fraction": fraction,
                    "comprehensiveness": mean(r["comprehensiveness_by_fraction"][j] for r in mine),
                    "sufficiency": mean(r["sufficiency_by_fraction"][j] for r in mine),
                    "mean_tokens_removed": mean(r["k"][j] for r in mine),
                    "examples": len(mine),
                })
        return curve

    def _compact(self, rows: list[dict]) -> list[dict[str, Any]]:
        """Per (example, method): AOPC values rounded to ``decimals``; per-fraction lists on request."""
        d = int(self.params["decimals"])
        compact = []
        for row in rows:
            record = {"example": row["example"], "method": row["method"], "target": row["target"],
                      "p": rounded(row["p"], d), "comprehensiveness": rounded(row["comprehensiveness"], d),
                      "sufficiency": rounded(row["sufficiency"], d)}
            if self.params["per_example_curves"]:
                record["comprehensiveness_by_fraction"] = [rounded(v, d) for v in row["comprehensiveness_by_fraction"]]
                record["sufficiency_by_fraction"] = [rounded(v, d) for v in row["sufficiency_by_fraction"]]
            compact.append(record)
        return compact


def removal_order(attribution: Attribution, ex: Example, content: list[int]) -> tuple[list[int], bool]:
    """The content positions in removal order, and whether they were ranked by their words' scores.

    A word-level attribution (token scores = word scores spread over the word's tokens) ranks
    each token by its word's full score, so a long word is not ranked at a fraction of it.
    """
    tokens = np.asarray(attribution.tokens, dtype=np.float64)
    if not word_level(attribution, ex):
        return ranking(tokens, content), False
    words = np.asarray(attribution.words, dtype=np.float64)
    keys = np.full(len(tokens), np.nan)
    keys[content] = words[[ex.word_ids[i] for i in content]]
    return ranking(keys, content), True


def word_level(attribution: Attribution, ex: Example) -> bool:
    """True when the method scored the example's words only and some word has several tokens."""
    words = [w for w in ex.word_ids if w is not None]
    if len(set(words)) == len(words):
        return False  # one token per word: ranking by token or by word is the same
    return is_spread(attribution.tokens, attribution.words, ex.word_ids)


def removal_counts(n: int, fractions: list[float]) -> list[int]:
    """Tokens removed per fraction from n content tokens: ceil(f * n), at least 1, at most n."""
    return [min(n, max(1, math.ceil(round(f * n, 9)))) for f in fractions]


def _win_rate(differences: list[float]) -> float | None:
    if not differences:
        return None
    return float(np.mean([1.0 if d > 0 else 0.5 if d == 0 else 0.0 for d in differences]))


# ----------------------------------------------------------------------------- which methods lead


def leaders(result: dict[str, Any], measure: str) -> list[str]:
    """The best method by ``measure`` and those within two standard errors of it (paired)."""
    ordered = ranked(result, measure)
    if not ordered:
        return []
    paired = paired_rows(result)
    best = ordered[0]["method"]
    found = [best]
    for row in ordered[1:]:
        diff, se = difference(result, best, row["method"], measure, paired)
        if se is not None and abs(diff) <= SIGNIFICANT_SE * se:
            found.append(row["method"])
    return found


def ranked(result: dict[str, Any], measure: str) -> list[dict[str, Any]]:
    """The summary rows of the methods other than the control, best first by ``measure``."""
    rows = [r for r in result["summary"] if not r.get("is_control") and r.get(measure) is not None]
    higher_better = measure == "comprehensiveness"
    return sorted(rows, key=lambda r: (-r[measure] if higher_better else r[measure], r["method"]))


def difference(result: dict[str, Any], a: str, b: str, measure: str,
               paired: dict[str, dict[int, dict[str, float]]] | None = None) -> tuple[float, float | None]:
    """Mean of a - b over shared examples and its standard error (paired when per-example rows exist)."""
    paired = paired_rows(result) if paired is None else paired
    by = {r["method"]: r for r in result["summary"]}
    mine, theirs = paired.get(a, {}), paired.get(b, {})
    shared = [e for e in mine if e in theirs and mine[e].get(measure) is not None
              and theirs[e].get(measure) is not None]
    if len(shared) >= 2:
        return paired_difference([mine[e][measure] - theirs[e][measure] for e in shared])
    return independent_difference(by[a][measure], by[a].get(f"{measure}_se"), by[b][measure],
                                  by[b].get(f"{measure}_se"))


def paired_rows(result: dict[str, Any]) -> dict[str, dict[int, dict[str, float]]]:
    rows: dict[str, dict[int, dict[str, float]]] = {}
    for row in result.get("per_example", []):
        rows.setdefault(row["method"], {})[row["example"]] = row
    return rows
