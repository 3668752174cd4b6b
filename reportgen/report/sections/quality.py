"""3. Explainer quality: faithfulness against the random control, agreement between methods.

The cost of each method is its metric's own panel (see ``measure.cost``)."""

from __future__ import annotations

from typing import Any

from ...measure.faithfulness import leaders
from ...results.records import RunResult
from ..charts.quality import agreement_heatmap, aopc_curves
from ..figures import metric, metric_error
from ..format import fmt, fmt_se, pct, shown, signed
from ..narrative import explained_noun, faithfulness_statement, versus_control

CLASS_ROWS = 20  # explained classes listed in the per-class faithfulness table


def quality(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "faithfulness"),
                               "agreement_missing": metric_error(run, "agreement")}
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        lead_c = set(leaders(faithfulness, "comprehensiveness"))
        lead_s = set(leaders(faithfulness, "sufficiency"))
        rows = []
        for r in faithfulness["summary"]:
            verdict = None if r.get("is_control") else versus_control(r, faithfulness)
            rows.append({
                "method": r["method"], "examples": fmt(r["examples"]),
                "comprehensiveness": fmt_se(r["comprehensiveness"], r.get("comprehensiveness_se")),
                "sufficiency": fmt_se(r["sufficiency"], r.get("sufficiency_se")),
                "comp_lift": signed(r.get("comprehensiveness_lift")) + (
                    f" ± {fmt(r['comprehensiveness_lift_se'])}" if r.get("comprehensiveness_lift_se") is not None else ""), "suff_lift": signed(r.get("sufficiency_lift")),
                "comp_win": pct(r.get("comprehensiveness_win_rate")), "suff_win": pct(r.get("sufficiency_win_rate")),
                "control": bool(r.get("is_control")), "below": verdict == "worse", "tied": verdict == "tied",
                "lead_c": r["method"] in lead_c, "lead_s": r["method"] in lead_s,
            })
        context.update(
            definitions=faithfulness.get("definitions") or {"definition": faithfulness["definition"]},
            fractions=", ".join(pct(f) for f in faithfulness["fractions"]),
            control=faithfulness.get("control"),
            table=rows,
            statement=faithfulness_statement(faithfulness, explained_noun(run)),
            curves=aopc_curves("chart-aopc", faithfulness["curve"], faithfulness.get("control"))
            if faithfulness["curve"] else None,
            skipped=faithfulness.get("skipped", []),
            by_class=class_table(faithfulness.get("by_class") or []),
        )
    agreement = metric(run, "agreement")
    if agreement and agreement["methods"]:
        context["agreement"] = agreement_heatmap("chart-agreement", agreement["matrix"], agreement["methods"],
                                                        agreement["k"])
        context["agreement_definition"] = agreement["definition"]
        context["agreement_k"] = agreement["k"]
        pairs = [p for p in agreement["pairs"] if p["spearman"] is not None]
        pairs.sort(key=lambda p: -p["spearman"])
        context["agreement_extremes"] = {
            "most": [(p["method_a"], p["method_b"], fmt(p["spearman"])) for p in pairs[:3]],
            "least": [(p["method_a"], p["method_b"], fmt(p["spearman"])) for p in pairs[-3:][::-1]],
        } if len(pairs) >= 2 else None
    return context


def class_table(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Comprehensiveness per explained class (rows, the CLASS_ROWS with the most examples, in class order) and
    method (columns); None when the examples were all explained for one class."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cells = {(r["class_id"], r["method"]): r for r in rows}
    counts: dict[int, int] = {}
    names: dict[int, str] = {}
    for r in rows:
        counts[r["class_id"]] = max(counts.get(r["class_id"], 0), r["examples"])
        names[r["class_id"]] = shown(r["class"])
    if len(counts) < 2:
        return None
    kept = sorted(sorted(counts, key=lambda c: (-counts[c], c))[:CLASS_ROWS])
    table = [{"class": names[c], "examples": fmt(counts[c]),
              "cells": [fmt_se(cells[(c, m)]["comprehensiveness"], cells[(c, m)]["comprehensiveness_se"])
                        if (c, m) in cells else "-" for m in methods]} for c in kept]
    left_out = len(counts) - len(kept)
    return {"methods": methods, "rows": table,
            "note": f"{fmt(left_out)} classes with fewer explained examples are not listed." if left_out else ""}
