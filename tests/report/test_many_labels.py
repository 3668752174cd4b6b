"""A model with thousands of classes through the command line: bounded per-class tables, the bound stated."""

from __future__ import annotations

import csv
import json

import pytest

from reportgen.measure.performance import MAX_CLASSES, OTHER
from reportgen.report.charts.performance import confusion_heatmap

from support.cli import invoke, run_args
from support.tiny_models import WORDS, build_model_folder

ROWS = 40


def many_label_data(path, rows: int = ROWS):
    """``rows`` texts whose labels span 34 classes: class_7 five times, class_3 three times, 32 others once."""
    labels = [7] * 5 + [3] * 3 + [11 + 9 * k for k in range(rows - 8)]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i, label in enumerate(labels):
            writer.writerow([" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(6 + i % 5)), f"class_{label}"])
    return path


@pytest.mark.parametrize("num_labels", [300, 10_000])
def test_many_label_run_saves_bounded_tables_and_states_the_bound(tmp_path, num_labels):
    model = build_model_folder(tmp_path / "model", num_labels=num_labels)
    out = tmp_path / "out" / "report.html"
    result = invoke(*run_args(model, many_label_data(tmp_path / "data.csv"), out, "attention,random"))
    assert result.exit_code == 0, result.output
    saved = json.loads((out.parent / "results" / "run.json").read_text())["metrics"]
    performance = saved["performance"]["result"]
    assert len(performance["per_class"]) == MAX_CLASSES + 1
    assert performance["per_class"][0]["class"] == "class_7" and performance["per_class"][1]["class"] == "class_3"
    assert performance["per_class"][-1]["folded_classes"] == num_labels - MAX_CLASSES
    assert 0 < len(performance["confusion"]) <= min(ROWS, (MAX_CLASSES + 1) ** 2)
    assert performance["overall"]["examples"] == ROWS
    assert sum(row["support"] for row in performance["per_class"]) == ROWS
    words = saved["top_words"]["result"]
    assert len({row["class_id"] for row in words["words"]}) <= MAX_CLASSES
    page = out.read_text(encoding="utf-8")
    assert f"This model has {num_labels:,} classes and the tables list at most {MAX_CLASSES}" in page
    assert f"({num_labels - MAX_CLASSES:,} other classes)" in page


def test_the_confusion_chart_draws_every_cell_of_the_listed_grid():
    cells = [{"true": "a", "predicted": OTHER, "true_id": 4, "predicted_id": None, "count": 3, "share_of_true": 0.75},
             {"true": "a", "predicted": "a", "true_id": 4, "predicted_id": 4, "count": 1, "share_of_true": 0.25},
             {"true": OTHER, "predicted": "a", "true_id": None, "predicted_id": 4, "count": 2, "share_of_true": 1.0}]
    chart = confusion_heatmap("c", cells, [(4, "a"), (9, "b"), (None, "(8 other classes)")])
    values = {(v["true"], v["predicted"]): (v["count"], v["share"]) for v in chart.spec["data"]["values"]}
    assert len(values) == 9
    assert values[("a", "(8 other classes)")] == (3, 0.75) and values[("a", "b")] == (0, 0)
    assert values[("b", "a")] == (0, None)  # no example of b: no share to colour
    assert values[("(8 other classes)", "a")] == (2, 1.0)
    assert "other classes" in chart.label
