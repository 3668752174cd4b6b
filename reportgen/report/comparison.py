"""``reportgen compare``: two runs on the same rows side by side (two models, two checkpoints, float32 against
bfloat16, before and after a fine-tune), computed from their results folders alone.

The model figures are compared on the examples both runs explained with a label: accuracy with McNemar's exact
test, macro-F1 and the expected calibration error with a paired bootstrap interval of their difference. Then the
flipped predictions, how far each method's word scores moved (Spearman per example), the top words per class
that entered or left, and the faithfulness differences, paired over examples and read by the report's one rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ReportgenError
from ..measure.agreement import spearman
from ..measure.calibration import calibrate
from ..measure.performance import summary as performance_summary
from ..ops.paired import BOOTSTRAP_RESAMPLES, bootstrap_interval, mcnemar
from ..ops.stats import compared, mean, paired_difference, standard_error
from ..results.records import Example, RunResult
from ..tasks import task_of
from .card_metadata import model_title
from .charts import Chart
from .figures import dataset_name, metric
from .format import fmt, fmt_se, label_name, shown, signed

COMPARABLE_TASKS = ("sequence_classification", "decoder_classification", "sentence_pair", "black_box")
MOST_FLIPS_SHOWN = 500
FLIP_ORDER = {"broken": 0, "fixed": 1, "changed": 2}
READINGS = {"better": "B better", "worse": "B worse", "tied": "tied", None: "not tested"}
DEFINITIONS = {
    "rows": "The runs are compared on the rows both explained with a label and an answer (the first run is A, "
            "the second B); a row is the same when its id, text (and second text) and label are.",
    "mcnemar": "Accuracy: McNemar's exact test on the rows only one model gets right (A only: b, B only: c): "
               "p = twice the binomial(b + c, 1/2) probability of a count at most min(b, c), at most 1.",
    "bootstrap": f"Macro-F1 and expected calibration error: a paired bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples of "
                 "the rows with replacement (seeded), each scoring both models on the same rows; the interval is "
                 "the 2.5th to 97.5th percentile of B - A. The statistics are the report's own (performance and "
                 "calibration, with its number of bins).",
    "shift": "Attribution shift: per row both explained and method both ran, Spearman's rank correlation "
             "between A's and B's word scores (constant vectors left out); the method's value is the mean over "
             "rows with its standard error, over every row and over the flipped ones.",
    "top_words": "Top words: per method and class, the words of B's top-words list that A's lacks (entered) and "
                 "those of A's that B's lacks (left), in rank order.",
    "faithfulness": "Faithfulness: per method, B - A of each row's comprehensiveness and sufficiency (AOPC), "
                    "paired over the rows both scored, with the standard error of the differences; a difference "
                    "counts beyond two standard errors (the report's one rule). Higher comprehensiveness and "
                    "lower sufficiency are better.",
}


def matched(a: RunResult, b: RunResult) -> list[tuple[Example, Example]]:
    """The two runs' examples, row by row; runs of other tasks, other classes or other rows are refused."""
    for run, which in ((a, "first"), (b, "second")):
        if task_of(run).name not in COMPARABLE_TASKS:
            raise ReportgenError(f"reportgen compare reads classifiers of one class per example; the {which} run "
                                 f"is {task_of(run).name}")
    if a.labels != b.labels:
        raise ReportgenError(f"the two models' classes differ ({len(a.labels)} and {len(b.labels)} classes, or "
                             "other names or order): compare models of the same classes")
    rows_a, rows_b = {ex.index: ex for ex in a.examples}, {ex.index: ex for ex in b.examples}
    differ_a = [row for row, ex in rows_a.items() if row not in rows_b or not _same_row(ex, rows_b[row])]
    differ_b = [row for row in rows_b if row not in rows_a]
    if differ_a or differ_b:
        raise ReportgenError(
            f"the two runs explain different rows: {len(differ_a)} of the first run's {len(rows_a)} rows are not "
            f"in the second with the same id, text and label, and {len(differ_b)} of the second's {len(rows_b)} "
            "are not in the first; compare runs of the same data, --limit and --seed")
    return [(rows_a[row], rows_b[row]) for row in sorted(rows_a)]


def _same_row(x: Example, y: Example) -> bool:
    return (x.text, x.text_pair, x.label) == (y.text, y.text_pair, y.label)


def answered(pairs: list[tuple[Example, Example]]) -> list[tuple[Example, Example]]:
    return [(x, y) for x, y in pairs if x.ok and y.ok and x.label is not None
            and x.prediction is not None and y.prediction is not None]


def model_rows(a: RunResult, b: RunResult, pairs: list[tuple[Example, Example]], seed: int) -> list[dict[str, Any]]:
    """Accuracy, macro-F1 and ECE of both models on the same rows, with their test."""
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    only_a = sum(x.correct and not y.correct for x, y in pairs)
    only_b = sum(y.correct and not x.correct for x, y in pairs)
    bins = len((metric(a, "calibration") or {}).get("bins") or []) or 10
    first, second = performance_summary(xs), performance_summary(ys)

    def ece(examples: list[Example]) -> float | None:
        return calibrate(examples, bins)[0]["ece"] if examples else None

    def delta(statistic):
        def on(indices):
            x, y = statistic([xs[i] for i in indices]), statistic([ys[i] for i in indices])
            return None if x is None or y is None else y - x
        return on

    f1 = bootstrap_interval(delta(lambda e: performance_summary(e)["macro_f1"]), len(pairs), seed)
    calibration = bootstrap_interval(delta(ece), len(pairs), seed + 1)
    return [
        _row("accuracy", first["accuracy"], second["accuracy"],
             f"McNemar exact p = {fmt(mcnemar(only_a, only_b))} (A only right: {only_a}, B only right: {only_b})",
             only_a=only_a, only_b=only_b, p=mcnemar(only_a, only_b)),
        _row("macro-F1", first["macro_f1"], second["macro_f1"], _interval_text(f1), interval=f1),
        _row("expected calibration error", ece(xs), ece(ys), _interval_text(calibration), interval=calibration),
    ]


def _row(label: str, first: float | None, second: float | None, test: str, **values: Any) -> dict[str, Any]:
    difference = None if first is None or second is None else second - first
    return {"label": label, "a": first, "b": second, "delta": difference, "test": test,
            "shown": {"a": fmt(first), "b": fmt(second), "delta": signed(difference)}, **values}


def _interval_text(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return "no interval (under two rows)"
    return f"paired bootstrap 95% interval of B - A: {interval[0]:+.3f} to {interval[1]:+.3f}"


def flips(a: RunResult, b: RunResult, pairs, shifts: dict[str, dict[int, float]]) -> dict[str, Any]:
    """The rows whose prediction changed: broken (A right, B wrong), fixed, or changed (neither right)."""
    rows = []
    for x, y in pairs:
        if x.prediction == y.prediction:
            continue
        kind = "broken" if x.correct else "fixed" if y.correct else "changed"
        rows.append({"kind": kind, "row": x.index, "text": shown(x.text),
                     "pair": shown(x.text_pair) if x.text_pair is not None else None,
                     "label": label_name(a, x.label),
                     "a": f"{label_name(a, x.prediction)} ({fmt(x.probabilities[x.prediction])})",
                     "b": f"{label_name(b, y.prediction)} ({fmt(y.probabilities[y.prediction])})",
                     "shift": {method: fmt(by_row.get(x.index)) for method, by_row in shifts.items()}})
    rows.sort(key=lambda row: (FLIP_ORDER[row["kind"]], row["row"]))
    counts = {kind: sum(row["kind"] == kind for row in rows) for kind in FLIP_ORDER}
    return {"counts": counts, "total": len(rows), "rows": rows[:MOST_FLIPS_SHOWN], "methods": list(shifts)}


def attribution_shifts(a: RunResult, b: RunResult, pairs) -> dict[str, dict[int, float]]:
    """Per method both ran, per row both explained with as many words: Spearman of A's and B's word scores."""
    shifts: dict[str, dict[int, float]] = {}
    for method in [m for m in a.methods if m in a.attributions and m in b.attributions]:
        by_row = {}
        for x, _ in pairs:
            first, second = a.attributions[method].get(x.index), b.attributions[method].get(x.index)
            if first is None or second is None or len(first.words) != len(second.words):
                continue
            rho = spearman(np.asarray(first.words, dtype=np.float64), np.asarray(second.words, dtype=np.float64))
            if np.isfinite(rho):
                by_row[x.index] = rho
        shifts[method] = by_row
    return shifts


def shift_rows(shifts: dict[str, dict[int, float]], flipped: set[int]) -> list[dict[str, Any]]:
    rows = []
    for method, by_row in shifts.items():
        on_flips = [rho for row, rho in by_row.items() if row in flipped]
        row = {"method": method, "rows": len(by_row), "spearman": mean(by_row.values()),
               "spearman_se": standard_error(by_row.values()), "flipped_rows": len(on_flips),
               "flipped_spearman": mean(on_flips)}
        rows.append({**row, "shown": {key: fmt(row[key]) for key in ("spearman", "spearman_se", "flipped_spearman")}})
    return rows


def shift_chart(rows: list[dict[str, Any]]) -> Chart | None:
    values = [{"method": row["method"], "o": i, "rho": round(row["spearman"], 4),
               "low": round(row["spearman"] - 2 * (row["spearman_se"] or 0), 4),
               "high": round(row["spearman"] + 2 * (row["spearman_se"] or 0), 4)}
              for i, row in enumerate(rows) if row["spearman"] is not None]
    if not values:
        return None
    y = {"field": "method", "type": "nominal", "sort": {"field": "o", "op": "min"}, "title": None,
         "axis": {"labelLimit": 200}}
    spec = {"data": {"values": values}, "width": 320, "height": {"step": 20},
            "layer": [{"mark": {"type": "bar", "color": "#2458a6"},
                       "encoding": {"y": y, "x": {"field": "rho", "type": "quantitative", "scale": {"domain": [-1, 1]},
                                                  "title": "mean Spearman of A's and B's word scores (± 2 se)"},
                                    "tooltip": [{"field": "method", "type": "nominal"},
                                                {"field": "rho", "type": "quantitative", "title": "Spearman"}]}},
                      {"mark": {"type": "rule", "color": "#222"},
                       "encoding": {"y": y, "x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}}]}
    return Chart("chart-compare-shift", "bar chart of the mean rank correlation of each method's word scores "
                 "between the two runs", spec)


def top_word_changes(a: RunResult, b: RunResult) -> list[dict[str, Any]] | None:
    first, second = metric(a, "top_words"), metric(b, "top_words")
    if not first or not second:
        return None

    def lists(result):
        found: dict[tuple[str, str], list[str]] = {}
        for row in sorted(result["words"], key=lambda row: row["rank"]):
            found.setdefault((row["method"], row["class"]), []).append(row["word"])
        return found

    old, new = lists(first), lists(second)
    rows = []
    for key in [key for key in old if key in new]:
        entered = [word for word in new[key] if word not in old[key]]
        left = [word for word in old[key] if word not in new[key]]
        rows.append({"method": key[0], "class": shown(key[1]), "entered": [shown(w) for w in entered],
                     "left": [shown(w) for w in left], "kept": len(new[key]) - len(entered)})
    return rows


def faithfulness_rows(a: RunResult, b: RunResult) -> list[dict[str, Any]] | None:
    first, second = metric(a, "faithfulness"), metric(b, "faithfulness")
    if not first or not second:
        return None
    scored = {(row["method"], row["example"]): row for row in second["per_example"]}
    rows = []
    for method in [row["method"] for row in first["summary"]]:
        paired = [(row, scored[method, row["example"]]) for row in first["per_example"]
                  if row["method"] == method and (method, row["example"]) in scored]
        row = {"method": method, "rows": len(paired)}
        for key, higher_is_better in (("comprehensiveness", True), ("sufficiency", False)):
            differences = [y[key] - x[key] for x, y in paired if x[key] is not None and y[key] is not None]
            centre, se = paired_difference(differences) if len(differences) >= 2 else (None, None)
            reading = compared(centre if higher_is_better or centre is None else -centre, se)
            row.update({f"{key}_a": mean(x[key] for x, _ in paired), f"{key}_b": mean(y[key] for _, y in paired),
                        f"{key}_delta": centre, f"{key}_se": se, f"{key}_reading": reading})
        rows.append({**row, "shown": _faithfulness_shown(row)})
    return rows


def _faithfulness_shown(row: dict[str, Any]) -> dict[str, str]:
    shown_row = {}
    for key in ("comprehensiveness", "sufficiency"):
        shown_row.update({f"{key}_a": fmt(row[f"{key}_a"]), f"{key}_b": fmt(row[f"{key}_b"]),
                          f"{key}_delta": fmt_se(row[f"{key}_delta"], row[f"{key}_se"]),
                          f"{key}_reading": READINGS[row[f"{key}_reading"]]})
    return shown_row


def comparison(a: RunResult, b: RunResult, seed: int = 0) -> dict[str, Any]:
    """The comparison page's (and compare.md's) context."""
    pairs = matched(a, b)
    both = answered(pairs)
    shifts = attribution_shifts(a, b, [(x, y) for x, y in pairs if x.ok and y.ok])
    flipped = flips(a, b, both, shifts)
    shift = shift_rows(shifts, {row["row"] for row in flipped["rows"]})
    return {
        **dict(zip(("a", "b"), _sides(a, b))), "rows": len(pairs), "answered": len(both),
        "models": model_rows(a, b, both, seed), "flips": flipped, "shift": shift, "shift_chart": shift_chart(shift),
        "top_words": top_word_changes(a, b), "faithfulness": faithfulness_rows(a, b), "definitions": DEFINITIONS,
    }


def _sides(a: RunResult, b: RunResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the page calls each run: its model, and, for two runs of one model, what tells them apart."""
    sides = []
    for run in (a, b):
        sides.append({"model": shown(model_title(run)), "data": dataset_name(run), "created": shown(run.created),
                      "precision": shown(run.config.get("precision", "float32"))})
    first, second = sides
    for side in sides:
        side["label"] = side["model"]
        if first["model"] == second["model"]:
            side["label"] += f", {side['precision']}" if first["precision"] != second["precision"] else \
                f", run {side['created']}"
    return first, second
