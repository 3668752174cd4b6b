"""Data without labels (production traffic): --label-column none, or a file without the default 'label'
column; everything that needs no label is computed, and the report says plainly that quality is not measured."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from reportgen.errors import ReportgenError
from reportgen.load.data import load_dataset

from support.cli import assert_one_line_error, invoke, run_args
from support.tiny_models import CORPUS

NO_LABELS = "No explained example has a label"


def _page_text(path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_label_column_none_reads_every_row_as_unlabeled(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS, "label": ["negative"] * 6}).to_csv(path, index=False)
    data = load_dataset(path, ["negative", "positive"], label_column="none")
    assert data.labels == [None] * 6 and data.info["label_column"] is None and data.info["missing_labels"] == 6


def test_a_file_without_the_default_label_column_is_unlabeled_saying_so(tmp_path, capsys):
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS}).to_csv(path, index=False)
    data = load_dataset(path, ["negative", "positive"])
    assert data.labels == [None] * 6
    assert "has no 'label' column: explaining it without labels" in capsys.readouterr().err


def test_a_named_label_column_that_is_missing_is_still_an_error(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS}).to_csv(path, index=False)
    with pytest.raises(ReportgenError, match="label column 'sentiment' is not in"):
        load_dataset(path, ["negative", "positive"], label_column="sentiment")


def test_an_unlabeled_run_computes_what_needs_no_label_and_says_so(bert_dir, tmp_path):
    data = tmp_path / "traffic.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["positive", "negative"] * 6}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    result = invoke(*run_args(bert_dir, data, out, "saliency,occlusion,random", "--label-column", "none"))
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results" / "run.json").read_text())
    assert saved["metrics"]["performance"]["result"]["overall"]["examples"] == 0
    assert saved["metrics"]["faithfulness"]["result"]["summary"]  # needs no label
    text = _page_text(out)
    assert NO_LABELS in text and "Predicted classes" in text
    assert "none has a label, so no accuracy is measured" in text


def test_explaining_the_label_of_data_without_labels_is_refused_in_one_line(bert_dir, tmp_path):
    data = tmp_path / "traffic.csv"
    pd.DataFrame({"text": CORPUS}).to_csv(data, index=False)
    result = invoke(*run_args(bert_dir, data, tmp_path / "report.html", "saliency", "--target", "label",
                              "--label-column", "none"))
    assert_one_line_error(result, r"--target label explains each example's label, and the data has no labels")


def test_a_second_text_column_is_read_beside_the_first(tmp_path):
    """The data side of sentence pairs (the pair task itself is not built yet): missing cells are named."""
    path = tmp_path / "pairs.jsonl"
    rows = [{"text": "a premise", "pair": "a hypothesis", "label": "positive"},
            {"text": "another premise", "pair": None, "label": "negative"}]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    data = load_dataset(path, ["negative", "positive"], text_pair_column="pair")
    assert data.pairs == ["a hypothesis", ""] and data.problems == {1: "text pair is missing"}
    assert data.subset([0]).pairs == ["a hypothesis"]
    with pytest.raises(ReportgenError, match="text pair column 'second' is not in"):
        load_dataset(path, ["negative", "positive"], text_pair_column="second")
