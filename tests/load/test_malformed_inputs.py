"""Malformed and messy data through the command line.

Each input either stops the run with one line on stderr and exit code 2 (never a traceback), or
runs to the end with every row accounted for: explained, or recorded in results/run.json as a
failure with its reason.
"""

import csv
import json
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
import pytest

from support.cli import assert_one_line_error, invoke
from support.cli import run_args as cli_run_args

METHODS = "attention,saliency,random"



def run_args(model, data, tmp_path, *extra):
    return cli_run_args(model, data, tmp_path / "report.html", METHODS, *extra)



def write_csv(path, rows, header=("text", "label")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def garbage(seed, size=4096):
    """Random bytes (seeded), none of them a NUL-free text by accident."""
    return random.Random(seed).randbytes(size)


# ----------------------------------------------------------------------------- exit code 2, one line


def test_non_utf8_csv_names_the_encoding_option(bert_dir, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9 cr\xe8me,positive\n".encode("latin-1"))
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"not valid utf-8 text; .*--encoding")
    result = invoke(*run_args(bert_dir, path, tmp_path, "--encoding", "latin-1"))
    assert result.exit_code == 0, result.output


def test_non_utf8_jsonl_names_the_line_and_the_encoding_option(bert_dir, tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"text": "fine", "label": 0}\n{"text": "caf\xe9", "label": 1}\n'.encode("latin-1"))
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"line 2 is not valid utf-8 text; .*--encoding")


def test_unknown_encoding(bert_dir, csv_file, tmp_path):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--encoding", "no-such-codec"))
    assert_one_line_error(result, r"unknown text encoding 'no-such-codec' given with --encoding")


@pytest.mark.parametrize("line, pattern", [
    ('{"text": "broken", "label": }', r"line 3 is not valid JSON: Expecting value"),
    ('{"text": "unterminated', r"line 3 is not valid JSON: Unterminated string"),
    ('["text", "label"]', r"line 3 is not a JSON object"),
    ("[" * 50000, r"line 3 is not valid JSON"),
    ('{"text": "' + "9" * 10 + '", "label": ' + "9" * 5000 + "}", r"line 3 is not valid JSON"),
])
def test_malformed_jsonl_line_is_named(bert_dir, tmp_path, line, pattern):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "good film", "label": 1}\n\n' + line + '\n{"text": "bad", "label": 0}\n')
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), pattern)


def test_label_outside_the_models_set_lists_the_labels(bert_dir, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "good", "label": "positive"}, {"text": "x", "label": 7}])
    result = invoke(*run_args(bert_dir, path, tmp_path))
    expected = r"label 7 in row 1 is not one of the model's labels: negative, positive \(or ids 0-1\)"
    assert_one_line_error(result, expected)


def test_hostile_label_is_shown_escaped_on_one_line(bert_dir, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "good", "label": "\u202e\x1b[31mred\n\r" * 40}])
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"is not one of the model's labels")


def test_ragged_csv_with_a_long_row_names_the_line(bert_dir, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\ngood film,positive\nbad, really bad film,negative\nfine,positive\n")
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"line 3 has 3 fields but the header has 2")


def test_csv_whose_rows_are_all_longer_than_the_header_is_not_shifted(bert_dir, tmp_path):
    path = tmp_path / "shifted.csv"
    path.write_text("text,label\ngood film,positive,x\nbad film,negative,y\n")
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"line 2 has 3 fields but the header has 2")


def test_ragged_tsv(bert_dir, tmp_path):
    path = tmp_path / "ragged.tsv"
    path.write_text("text\tlabel\ngood\tpositive\nbad\tnegative\textra\n")
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"line 3 has 3 fields .*\(tab\)")


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_garbage_is_one_line(bert_dir, tmp_path, suffix, seed):
    path = tmp_path / f"garbage.{suffix}"
    path.write_bytes(garbage(seed, size=[64, 4096, 70000][seed]))
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"(not valid|cannot parse|is not in)")


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl"])
def test_binary_garbage_decoded_as_latin1_is_still_one_line(bert_dir, tmp_path, suffix):
    for seed in range(8):
        path = tmp_path / f"garbage{seed}.{suffix}"
        path.write_bytes(garbage(100 + seed))
        result = invoke(*run_args(bert_dir, path, tmp_path, "--encoding", "latin-1"))
        assert_one_line_error(result, r"(cannot parse|is not in|is not valid JSON|has \d+ fields|no rows)")


def test_garbage_column_names_are_escaped_and_cut(bert_dir, tmp_path):
    path = tmp_path / "cols.csv"
    header = ["col\x1b[2J\u202e%d" % i for i in range(60)]
    path.write_text(",".join(header) + "\n" + ",".join("v" for _ in header) + "\n")
    result = invoke(*run_args(bert_dir, path, tmp_path))
    assert_one_line_error(result, r"text column 'text' is not in .* and 40 more$")
    assert "\x1b" not in result.output and "\u202e" not in result.output


def test_truncated_parquet(bert_dir, tmp_path):
    path = tmp_path / "cut.parquet"
    pd.DataFrame({"text": ["good film"] * 50, "label": [1] * 50}).to_parquet(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"cannot parse .*cut\.parquet as parquet")


def test_garbage_datasets_folder(bert_dir, tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "dataset_info.json").write_bytes(garbage(7, 300))
    (folder / "state.json").write_text("{not json")
    (folder / "data-00000-of-00001.arrow").write_bytes(garbage(8, 300))
    assert_one_line_error(invoke(*run_args(bert_dir, folder, tmp_path)), r"is not a saved datasets folder")


def test_unsupported_file_type(bert_dir, tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(garbage(9, 100))
    assert_one_line_error(invoke(*run_args(bert_dir, path, tmp_path)), r"cannot read data\.xlsx: use one of")


def test_garbage_in_a_real_process_prints_no_traceback(bert_dir, tmp_path):
    """Through `python -m reportgen` (warnings, progress bars and all), not only click's runner."""
    path = tmp_path / "garbage.parquet"
    path.write_bytes(garbage(3))
    args = [sys.executable, "-m", "reportgen", *map(str, run_args(bert_dir, path, tmp_path))]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "default"})
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: cannot parse")


# ----------------------------------------------------------------------------- exit code 0, every row accounted for


class SummaryText(HTMLParser):
    """The text of the report's summary section."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "section" and ("id", "summary") in attrs:
            self.depth = 1
        elif self.depth and tag == "section":
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth and tag == "section":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def run_ok(model, data, tmp_path, *extra):
    result = invoke(*run_args(model, data, tmp_path, *extra))
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "results" / "run.json").read_text(encoding="utf-8"))
    lines = (tmp_path / "results" / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines]
    failed = {f["example"]: f["reason"] for f in meta["failures"] if f["method"] is None}
    assert failed == {ex["example"]: ex["error"] for ex in examples if ex["error"] is not None}
    page = SummaryText()
    page.feed((tmp_path / "report.html").read_text(encoding="utf-8"))
    return meta, examples, failed, " ".join(" ".join(page.parts).split())


def assert_accounted(meta, examples, summary, rows, sampled=None):
    """Every row read is an example or not sampled; every example is explained or failed."""
    sampled = rows if sampled is None else sampled
    explained = [ex for ex in examples if ex["error"] is None and ex["prediction"] is not None]
    failed = [ex for ex in examples if ex["error"] is not None]
    assert meta["dataset"]["rows"] == rows and len(examples) == sampled
    assert len(explained) + len(failed) == sampled
    balance = f"{rows} rows read = {rows - sampled} not sampled + {len(explained)} explained + {len(failed)} failed."
    assert balance in summary, summary[:2000]


def test_empty_whitespace_and_control_texts_are_recorded_failures(bert_dir, tmp_path):
    rows = [("good film", "positive"), ("", "negative"), ("   \t\n ", "positive"), ("\x00\x01\x02", "negative"),
            ("bad film", "negative")]
    meta, examples, failed, summary = run_ok(bert_dir, write_csv(tmp_path / "d.csv", rows), tmp_path)
    assert failed == {1: "text is empty", 2: "text is empty", 3: "text has no tokens after tokenisation"}
    assert_accounted(meta, examples, summary, rows=5)
    assert "text is empty 2" in summary and "text has no tokens after tokenisation 1" in summary


def test_missing_labels_are_unlabeled_examples(bert_dir, tmp_path):
    rows = [{"text": "good film", "label": "positive"}, {"text": "bad film", "label": None},
            {"text": "dull plot"}, {"text": "fun cast", "label": "NaN"}, {"text": "sad end", "label": ""}]
    meta, examples, failed, summary = run_ok(bert_dir, write_jsonl(tmp_path / "d.jsonl", rows), tmp_path)
    assert failed == {} and [ex["label"] for ex in examples] == [1, None, None, None, None]
    assert all(ex["prediction"] is not None for ex in examples)
    counts = meta["metrics"]["performance"]["result"]["counts"]
    assert counts["unlabeled"] == 4 and counts["scored"] == 1
    assert meta["dataset"]["missing_labels"] == 4
    assert_accounted(meta, examples, summary, rows=5)
    assert "explained, unlabeled 4" in summary


def test_missing_labels_fail_with_target_label(bert_dir, tmp_path):
    rows = [{"text": "good film", "label": "positive"}, {"text": "bad film", "label": None}]
    meta, examples, failed, summary = run_ok(bert_dir, write_jsonl(tmp_path / "d.jsonl", rows), tmp_path,
                                             "--target", "label")
    assert failed == {1: "no label to explain"}
    assert_accounted(meta, examples, summary, rows=2)


def test_long_texts_are_truncated_and_counted_in_the_summary(bert_dir, tmp_path):
    rows = [("good film " * 400, "positive"), ("bad film", "negative"), ("the plot " * 100, "negative")]
    meta, examples, failed, summary = run_ok(bert_dir, write_csv(tmp_path / "d.csv", rows), tmp_path)
    assert [ex["truncated"] for ex in examples] == [True, False, True] and failed == {}
    assert all(len(ex["input_ids"]) <= meta["model"]["max_length"] for ex in examples)
    assert meta["dataset"]["truncated"] == 2
    assert "2 truncated to the maximum length" in summary  # a headline figure
    assert re.search(r"truncated 2 longer than the model's maximum length \(\d+ tokens\)", summary)
    assert_accounted(meta, examples, summary, rows=3)


def test_duplicate_rows_are_each_explained_and_counted(bert_dir, tmp_path):
    rows = [("good film", "positive"), ("good film", "positive"), ("bad film", "negative"),
            ("good film", "negative")]
    meta, examples, failed, summary = run_ok(bert_dir, write_csv(tmp_path / "d.csv", rows), tmp_path)
    assert meta["dataset"]["duplicate_texts"] == 2 and failed == {}
    saliency = (tmp_path / "results" / "attributions" / "saliency.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["example"] for line in saliency) == [0, 1, 2, 3]
    assert "duplicate texts 2" in summary
    assert_accounted(meta, examples, summary, rows=4)


def test_text_column_with_numbers_nulls_and_lists(bert_dir, tmp_path):
    rows = [{"text": "good film", "label": 1}, {"text": 42, "label": 0}, {"text": None, "label": 1},
            {"label": 0}, {"text": ["a", "list"], "label": 1}, {"text": 3.5, "label": 0}]
    meta, examples, failed, summary = run_ok(bert_dir, write_jsonl(tmp_path / "d.jsonl", rows), tmp_path)
    assert failed == {2: "text is missing", 3: "text is missing", 4: "text is a list, not a string"}
    assert [ex["text"] for ex in examples][:2] == ["good film", "42"] and examples[5]["text"] == "3.5"
    assert_accounted(meta, examples, summary, rows=6)


def test_csv_with_short_rows_gets_missing_cells(bert_dir, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("text,label\ngood film,positive\nno label here\n\nbad film,negative\n")
    meta, examples, failed, summary = run_ok(bert_dir, path, tmp_path)
    assert [ex["label"] for ex in examples] == [1, None, 0] and failed == {}
    assert_accounted(meta, examples, summary, rows=3)


def test_limit_accounts_for_rows_not_sampled(bert_dir, tmp_path):
    rows = [(f"good film {i}" if i % 4 else "", "positive" if i % 2 else "negative") for i in range(20)]
    meta, examples, failed, summary = run_ok(bert_dir, write_csv(tmp_path / "d.csv", rows), tmp_path,
                                             "--limit", "8")
    assert_accounted(meta, examples, summary, rows=20, sampled=8)
    assert "left out by --limit" in summary


def test_lone_surrogates_are_replaced_not_fatal(bert_dir, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "good \\ud800 film", "label": 1}\n{"text": "\\udfff", "label": 0}\n')
    meta, examples, failed, summary = run_ok(bert_dir, path, tmp_path)
    assert examples[0]["text"] == "good \ufffd film" and meta["dataset"]["texts_with_invalid_unicode"] == 2
    assert_accounted(meta, examples, summary, rows=2)
