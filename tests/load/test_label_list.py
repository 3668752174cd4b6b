"""A label the model does not have is refused with a bounded list of the model's labels, however many it has."""

from __future__ import annotations

import csv

from support.cli import assert_one_line_error, invoke, run_args
from support.tiny_models import build_model_folder

N_LABELS = 10_000


def test_an_unknown_label_lists_ten_of_ten_thousand_labels_and_counts_the_rest(tmp_path):
    model = build_model_folder(tmp_path / "many", num_labels=N_LABELS)
    data = tmp_path / "data.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text", "label"], ["a good film", "class_3"], ["a dull film", "class_X"]])
    result = invoke(*run_args(model, data, tmp_path / "report.html", "random"))
    shown = ", ".join(f"class_{i}" for i in range(10))
    assert_one_line_error(result, rf"^error: label 'class_X' in row 1 is not one of the model's labels: {shown} "
                                  rf"and 9,990 more \(or ids 0-9999\)$")
    assert len(result.output) < 300
