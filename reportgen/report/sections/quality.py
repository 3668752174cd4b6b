"""3. Explainer quality: faithfulness against the random control, agreement between methods.

The cost of each method is its metric's own panel (see ``measure.cost``)."""

from __future__ import annotations

from typing import Any

from ...measure.faithfulness import leaders
from ...results.records import RunResult
from ..charts.quality import agreement_heatmap, aopc_curves
from ..figures import metric, metric_error
from ..format import fmt, fmt_se, pct, signed
from ..narrative import faithfulness_statement


def quality(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "faithfulness"),
                               "agreement_missing": metric_error(run, "agreement")}
    faithfulness = metric(run, "faithfulness")
    if faithfulness:
        lead_c = set(leaders(faithfulness, "comprehensiveness"))
        lead_s = set(leaders(faithfulness, "sufficiency"))
        rows = []
        for r in faithfulness["summary"]:
            below = (not r.get("is_control") and r.get("comprehensiveness_lift") is not None
                     and r["comprehensiveness_lift"] < 0 and (r.get("sufficiency_lift") or 0) < 0)
            rows.append({
                "method": r["method"], "examples": fmt(r["examples"]),
                "comprehensiveness": fmt_se(r["comprehensiveness"], r.get("comprehensiveness_se")),
                "sufficiency": fmt_se(r["sufficiency"], r.get("sufficiency_se")),
                "comp_lift": signed(r.get("comprehensiveness_lift")), "suff_lift": signed(r.get("sufficiency_lift")),
                "comp_win": pct(r.get("comprehensiveness_win_rate")), "suff_win": pct(r.get("sufficiency_win_rate")),
                "control": bool(r.get("is_control")), "below": below,
                "lead_c": r["method"] in lead_c, "lead_s": r["method"] in lead_s,
            })
        context.update(
            definitions=faithfulness.get("definitions") or {"definition": faithfulness["definition"]},
            fractions=", ".join(pct(f) for f in faithfulness["fractions"]),
            control=faithfulness.get("control"),
            table=rows,
            statement=faithfulness_statement(faithfulness),
            curves=aopc_curves("chart-aopc", faithfulness["curve"], faithfulness.get("control"))
            if faithfulness["curve"] else None,
            skipped=faithfulness.get("skipped", []),
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
