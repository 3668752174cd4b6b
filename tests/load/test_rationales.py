"""Human rationales (--rationale-column): the three forms of a cell, each mapped to the example's words, and every
malformed cell recorded as that row's rationale error, never a crash."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest

from reportgen.errors import ReportgenError
from reportgen.load.data import load_dataset
from reportgen.load.rationales import Rationale, read_rationale, word_rationale, word_spans

TEXT = "the very good film"
WORDS = ["the", "very", "good", "film"]  # characters [0, 3) [4, 8) [9, 13) [14, 18)


def words_of(cell, text=TEXT, words=WORDS, segments=None):
    return word_rationale(read_rationale(cell, text), text, words, segments)


@pytest.mark.parametrize("cell, expected", [
    ("[2, 0, 2]", [0, 2]),  # word indices: sorted, each once
    ([3, 1], [1, 3]),  # a real list (JSONL)
    (np.array([1, 2]), [1, 2]),  # a Parquet list
    ("[[4, 13]]", [1, 2]),  # character spans: "very good"
    ("[[0, 1], [15, 16]]", [0, 3]),  # a span marks every word it overlaps, even in part
    (np.array([np.array([9, 13])]), [2]),  # spans from Parquet
    ("[[3, 4]]", []),  # the space between two words marks neither
    ("the [[very good]] film", [1, 2]),  # marked text
    ("[[the]] very good [[film]]", [0, 3]),  # marked text that starts with its evidence (not JSON)
    ("the very good film", []),  # the text with nothing marked
    ("[]", []),  # an empty list: nothing marked
])
def test_each_form_becomes_the_words_it_marks(cell, expected):
    assert words_of(cell) == (expected, None)


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan")])
def test_a_missing_or_blank_cell_is_no_rationale(cell):
    assert read_rationale(cell, TEXT) is None
    assert words_of(cell) == (None, None)


@pytest.mark.parametrize("cell, reason", [
    ("[1.5]", r"neither word indices \(whole numbers\) nor \[start, end\] character spans"),
    ("[true, 1]", "neither word indices"),  # a truth value is not a word index
    ("[[0, 3], 5]", "neither word indices"),  # spans and indices mixed
    ("[[1, 2, 3]]", "neither word indices"),
    ("[-1]", "word index -1 is negative"),
    ("[4]", "word index 4 is beyond the example's 4 words"),
    ("[[0, 19]]", r"span \[0, 19\] is not within the text's 18 characters"),
    ("[[5, 2]]", r"span \[5, 2\] is not within"),
    ("the [[very good film", "last \\[\\[ is never closed"),
    ("the very]] good film", r"marks do not pair up: \]\] at character 8 of the cell"),
    ("the [[very [[good]]]] film", r"marks do not pair up: \[\[ at character 11"),
    ("the [[very good]] movie", "differs from the example's text at character 14"),
    ("the very good film ", "differs from the example's text at character 18"),  # one space more
    ("good", "differs from the example's text at character 0"),  # neither JSON nor marked text
    ({"words": [1]}, "the rationale is of type dict, not a JSON list"),
    (7, "the rationale is of type int"),
])
def test_a_malformed_cell_is_the_rows_rationale_error(cell, reason):
    rationale, error = words_of(cell)
    assert rationale is None
    assert re.search(reason, error), error
    assert error.isprintable() and "\n" not in error


def test_word_spans_find_the_tokenizers_words_in_order_and_skip_the_pairs():
    text = "good, not good"
    assert word_spans(text, ["good", ",", "not", "good"]) == [(0, 4), (4, 5), (6, 9), (10, 14)]  # the second "good"
    assert word_spans(text, ["good", "x", "good"]) == [(0, 4), None, (10, 14)]  # a word the text does not spell
    assert word_spans(text, ["good", "pair"], segments=[0, 1]) == [(0, 4), None]
    # a span never marks a word of the second text, whatever its characters
    assert word_rationale(Rationale(spans=((0, 4),)), "good", ["good", "good"], [0, 1]) == ([0], None)


def test_the_rationale_column_is_read_per_row_and_kept_by_a_subset(tmp_path):
    path = tmp_path / "data.csv"
    rows = [("the very good film", "negative", "[1, 2]"), ("a dull film", "positive", "a [[dull]] film"),
            ("bad", "negative", ""), ("fun", "positive", "[[0, 9]]")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "evidence"])
        writer.writerows(rows)
    data = load_dataset(path, ["negative", "positive"], rationale_column="evidence")
    assert data.rationales == [Rationale(words=(1, 2)), Rationale(spans=((2, 6),)), None,
                               Rationale(error="the rationale's span [0, 9] is not within the text's 3 characters")]
    assert data.problems == {}  # a bad rationale does not fail its row
    assert data.info["rationale_column"] == "evidence"
    assert data.subset([1, 2]).rationales == data.rationales[1:3]
    assert load_dataset(path, ["negative", "positive"]).rationales is None


def test_rationales_from_jsonl_and_parquet_lists(tmp_path):
    rows = [{"text": TEXT, "label": 0, "why": [1, 2]}, {"text": TEXT, "label": 1, "why": [[0, 3]]},
            {"text": TEXT, "label": 1, "why": None}]
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    parquet = tmp_path / "data.parquet"
    pd.DataFrame({"text": [TEXT, TEXT], "label": [0, 1], "why": [[1, 2], [3]]}).to_parquet(parquet)
    from_jsonl = load_dataset(jsonl, ["negative", "positive"], rationale_column="why").rationales
    assert from_jsonl == [Rationale(words=(1, 2)), Rationale(spans=((0, 3),)), None]
    assert load_dataset(parquet, ["negative", "positive"], rationale_column="why").rationales == [
        Rationale(words=(1, 2)), Rationale(words=(3,))]


def test_a_missing_rationale_column_is_a_one_line_error_naming_the_columns(csv_file):
    with pytest.raises(ReportgenError, match=r"^rationale column 'why' is not in .*data.csv; columns: text, label, "
                                             r"group$"):
        load_dataset(csv_file, ["negative", "positive"], rationale_column="why")
