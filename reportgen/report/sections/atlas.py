"""5. Attention atlas: what every layer and head does on average, and where rolled-out attention goes; for
generation, how every head's attention between output and source aligns them."""

from __future__ import annotations

from typing import Any

from ...results.records import RunResult
from ...tasks import task_of
from ...tasks.generation import GENERATION_TASKS
from ..charts.atlas import alignment_heatmaps, atlas_heatmaps, rollout_chart
from ..figures import metric, metric_error
from ..format import fmt, pct


def attention_atlas(run: RunResult) -> dict[str, Any]:
    if task_of(run).name in GENERATION_TASKS:
        return alignment_atlas(run)
    context: dict[str, Any] = {"missing": metric_error(run, "attention_atlas")}
    atlas = metric(run, "attention_atlas")
    if atlas and atlas["per_head"]:
        heads = atlas["per_head"]
        focused = min(heads, key=lambda r: r["normalized_entropy"])
        spread = max(heads, key=lambda r: r["relative_distance"])
        sink = max(heads, key=lambda r: r["special_share"])
        layers = atlas["per_layer"]
        notes = [
            f"Most focused head: layer {focused['layer']}, head {focused['head']} (entropy "
            f"{focused['entropy']:.2f} nats, {pct(focused['normalized_entropy'])} of the uniform maximum).",
            f"Most global head: layer {spread['layer']}, head {spread['head']} (mean distance "
            f"{spread['distance']:.1f} tokens, {pct(spread['relative_distance'])} of the longest possible).",
            f"Strongest special-token sink: layer {sink['layer']}, head {sink['head']} "
            f"({pct(sink['special_share'])} of its attention on [CLS]/[SEP]-like tokens).",
        ]
        if layers:
            first, last = layers[0], layers[-1]
            notes.append(f"Mean share on special tokens goes from {pct(first['special_share'])} in layer "
                         f"{first['layer']} to {pct(last['special_share'])} in layer {last['layer']}.")
        context.update(
            definitions=atlas.get("definitions") or {"definition": atlas["definition"]},
            examples=atlas["examples"], n_layers=atlas["n_layers"], n_heads=atlas["n_heads"],
            heatmaps=atlas_heatmaps("chart-atlas", heads), notes=notes,
            rollout=rollout_chart("chart-rollout", atlas["rollout"]) if atlas["rollout"] else None,
            residual_weight=atlas.get("residual_weight"),
            per_layer=[{"layer": r["layer"], "entropy": fmt(r["entropy"], 2), "distance": fmt(r["distance"], 1),
                        "special": pct(r["special_share"])} for r in layers],
        )
    return context


def alignment_atlas(run: RunResult) -> dict[str, Any]:
    """The heads of a generation model: their alignment statistics, and which head stands out for each."""
    context: dict[str, Any] = {"missing": metric_error(run, "alignment_atlas")}
    atlas = metric(run, "alignment_atlas")
    if not atlas or not atlas["per_head"]:
        return context
    heads = atlas["per_head"]
    with_aer = any(r["aer"] is not None for r in heads)
    picks = [("Most focused head", "entropy", min, "entropy {}", fmt),
             ("Most monotone head", "diagonal", min, "distance from the diagonal {}", fmt),
             ("Strongest special-token sink", "special", max, "{} of its attention on special tokens", pct)]
    if with_aer:
        picks.insert(0, ("Best aligning head", "aer", min, "AER {} against the gold links", fmt))
    notes = []
    for label, key, pick, text, shown in picks:
        scored = [r for r in heads if r[key] is not None]
        if scored:
            best = pick(scored, key=lambda r: r[key])
            notes.append(f"{label}: layer {best['layer']}, head {best['head']} ({text.format(shown(best[key]))}).")
    context.update(alignment=True, definitions=atlas["definitions"], rows=atlas["rows"], gold_rows=atlas["gold_rows"],
                   n_layers=atlas["n_layers"], n_heads=atlas["n_heads"], notes=notes,
                   heatmaps=alignment_heatmaps("chart-alignment-atlas", heads, with_aer))
    return context
