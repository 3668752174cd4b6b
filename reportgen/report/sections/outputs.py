"""Output explorer (generation): per row its source, its output and, for every method, the source x target
matrix of the tokens it reads by the output tokens it explains."""

from __future__ import annotations

from typing import Any

from ...ops.numbers import sig, sigs
from ...results.queries import methods_with_scores
from ...results.records import Example, RunResult
from ..charts import Chart
from ..charts.generation import PAGE, alignment_rows, alignment_template, head_rows
from ..figures import metric
from ..format import fmt, shown

MATRIX_NOTE = (
    "Each column is one output token, explained on its own: the model's log-probability of it given every token "
    "before it. Each row is a token of the prompt or of the output, and a cell the score the chosen method gives "
    "that token for that output token, divided by the column's largest absolute score (red raises the output "
    "token's log-probability, blue lowers it). A language model reads the prompt and the output: a token after "
    "the output token it is read for cannot influence it and has no cell, so the output's part of the matrix is a "
    "lower triangle. An encoder-decoder's rows are the source alone (the output before a token is the decoder's "
    "fixed input). Hover a cell for the raw score. Where the alignment atlas kept a row's attention heads, the "
    "method box also offers one head's attention, chosen by layer and head; an output longer than "
    f"{PAGE} tokens is shown {PAGE} tokens at a time."
)
OPEN_ROWS = 10  # rows shown opened at first; the others open on a click
TEMPLATE_ID = "tpl-alignment"


def output_explorer(run: RunResult) -> dict[str, Any]:
    methods = methods_with_scores(run)
    units_of: dict[int, list[Example]] = {}
    for ex in run.examples:
        units_of.setdefault(ex.row, []).append(ex)
    atlas = metric(run, "alignment_atlas") or {}
    kept = {entry["row"]: entry["heads"] for entry in atlas.get("head_rows", [])}
    shape = (atlas.get("n_layers", 0), atlas.get("n_heads", 0))
    items = [_row(run, units, methods, _heads(kept.get(units[0].row), shape, units)) for units in units_of.values()]
    templates = {}
    for position, item in enumerate(items):
        item["open"] = position < OPEN_ROWS
        if item["chart"] is not None:
            templates[item["template_id"]] = alignment_template(item["template_id"], methods, item["shape"],
                                                                item["pages"])
    return {"rows": items, "templates": list(templates.values()), "methods": methods,
            "template": run.model.get("prompt_template"), "notes": {"matrix": MATRIX_NOTE}}


def _heads(heads: list | None, shape: tuple[int, int], units: list[Example]) -> list | None:
    """A row's kept attention heads, when they are one matrix per layer and head of its output x source size."""
    if not heads or not units[0].generated or 0 in shape:
        return None
    start = units[0].generated.get("start")
    width = len(units[0].tokens) if start is None else start
    outputs = len(units[0].generated["ids"])
    fits = len(heads) == shape[0] and all(len(layer) == shape[1] for layer in heads) and all(
        len(head) == outputs and all(len(row) == width for row in head) for layer in heads for head in layer)
    return heads if fits else None


def _row(run: RunResult, units: list[Example], methods: list[str], heads: list | None) -> dict[str, Any]:
    first = units[0]
    generated = first.generated
    log_probs = generated["log_probs"] if generated else []
    item: dict[str, Any] = {
        "index": first.row,
        "anchor": f"row-{first.row}",
        "source": shown(first.text),
        "reference": None if first.text_pair is None else shown(first.text_pair),
        "output": None if generated is None else shown(generated["text"]),
        "from": None if generated is None else generated["from"],
        "tokens": len(log_probs),
        "mean_log_prob": fmt(sum(log_probs) / len(log_probs)) if log_probs else "-",
        "truncated": first.truncated,
        "error": first.error,
        "method_errors": [f for f in run.failures if f.method and f.example in {u.index for u in units}],
        "chart": None,
        "data_id": None,
        "data": None,
    }
    steps = [unit for unit in units if unit.ok and unit.step is not None]
    if steps:
        pages = -(-len(steps) // PAGE)
        heads = heads if heads is not None and len(steps) == len(heads[0][0]) else None
        template_id = f"{TEMPLATE_ID}-{pages}" + ("-heads" if heads is not None else "")
        data = _matrix_data(run, steps, methods)
        if heads is not None:
            data["gen"] += head_rows(len(methods), heads)
        item.update(data_id=f"row{first.row}-data", data=data, template_id=template_id, pages=pages,
                    shape=(len(heads), len(heads[0])) if heads is not None else None)
        item["chart"] = Chart(f"row{first.row}-alignment", f"token read by output token heatmap, {len(steps)} output "
                              "tokens", template=template_id, data=item["data_id"], css="alignment")
    return item


def _matrix_data(run: RunResult, steps: list[Example], methods: list[str]) -> dict[str, Any]:
    """The chart's datasets: scores per method and output token, the row's tokens, the output tokens."""
    last = steps[-1]
    # A language model reads the prompt and the output before each token; an encoder-decoder the source.
    tokens = last.tokens if last.generated["start"] is None else last.tokens + [last.step["token"]]
    scores = [[_scores(run, method, unit) for unit in steps] for method in methods]
    return {"gen": alignment_rows(scores),
            "pos": [{"i": i, "t": shown(token)} for i, token in enumerate(tokens)],
            "out": [{"k": unit.step["k"], "i": unit.step["position"], "t": shown(unit.step["token"]),
                     "lp": sig(unit.step["log_prob"])} for unit in steps]}


def _scores(run: RunResult, method: str, unit: Example) -> list[float | int | None] | None:
    attribution = run.attributions.get(method, {}).get(unit.index)
    if attribution is None or len(attribution.tokens) != len(unit.tokens):
        return None
    return sigs(attribution.tokens)
