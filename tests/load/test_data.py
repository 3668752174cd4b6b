import json

import pandas as pd
import pytest

from reportgen.errors import ReportgenError
from reportgen.load.data import load_dataset, match_labels, read_table, stratified_sample

LABELS = ["negative", "positive"]
ROWS = [{"text": "good film", "label": "positive"}, {"text": "bad film", "label": "NEGATIVE"},
        {"text": "fine", "label": 1}]


def write(tmp_path, fmt):
    frame = pd.DataFrame(ROWS).astype({"label": str})
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    elif fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "hf":
        import datasets

        datasets.Dataset.from_pandas(frame).save_to_disk(str(path))
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "hf"])
def test_every_format_loads_and_matches_labels(tmp_path, fmt):
    data = load_dataset(write(tmp_path, fmt), LABELS)
    assert data.texts == ["good film", "bad film", "fine"]
    assert data.labels == [1, 0, 1]
    assert data.rows == [0, 1, 2]


def test_saved_datasetdict_prefers_the_test_split(tmp_path):
    import datasets

    splits = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": ["a"], "label": [0]}),
        "test": datasets.Dataset.from_dict({"text": ["b", "c"], "label": [1, 0]}),
    })
    splits.save_to_disk(str(tmp_path / "dd"))
    data = load_dataset(tmp_path / "dd", LABELS)
    assert data.texts == ["b", "c"] and data.info["split"] == "test"


def test_unknown_label_lists_the_models_labels():
    with pytest.raises(ReportgenError, match="'neutral' in row 1 is not one of the model's labels: negative, positive"):
        match_labels(["positive", "neutral"], LABELS)


@pytest.mark.parametrize("value", ["2", "-1", "1.5", 7, ["positive"], "positive!"])
def test_out_of_range_labels_are_refused(value):
    with pytest.raises(ReportgenError, match="is not one of the model's labels: negative, positive"):
        match_labels([value], LABELS)


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, "", "  ", "NaN", "null", "None", "N/A"])
def test_missing_labels_become_unlabeled(value):
    assert match_labels(["positive", value, 0], LABELS) == [1, None, 0]


def test_a_class_named_like_a_missing_marker_stays_a_class():
    assert match_labels(["None", "other", ""], ["none", "other"]) == [0, 1, None]


def test_unknown_label_message_is_one_escaped_line():
    with pytest.raises(ReportgenError) as err:
        match_labels(["x\n\u202e" * 50], LABELS)
    message = str(err.value)
    assert message.splitlines() == [message] and "\u202e" not in message and len(message) < 200


def test_unlabeled_rows_load_and_are_counted(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"text": "good", "label": "positive"}, {"text": "bad", "label": None}, {"text": "meh"},
            {"text": "fine", "label": float("nan")}]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    data = load_dataset(path, LABELS)
    assert data.labels == [1, None, None, None] and data.rows == [0, 1, 2, 3]
    assert data.info["missing_labels"] == 3


def test_text_cells_that_are_numbers_nulls_or_lists(tmp_path):
    path = tmp_path / "d.jsonl"
    values = ["words", 42, 1.5, True, None, ["a", "b"], {"k": 1}]
    path.write_text("\n".join(json.dumps({"text": v, "label": 0}) for v in values))
    data = load_dataset(path, LABELS)
    assert data.texts[:4] == ["words", "42", "1.5", "True"] and len(data) == len(values)
    assert data.problems == {4: "text is missing", 5: "text is a list, not a string",
                             6: "text is a dict, not a string"}
    assert data.info["unreadable_texts"] == 3
    assert data.subset([0, 5]).problems == {5: "text is a list, not a string"}


def test_duplicate_texts_are_kept_and_counted(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nsame,0\nsame,1\nother,0\nsame,0\n")
    data = load_dataset(path, LABELS)
    assert data.texts == ["same", "same", "other", "same"] and data.info["duplicate_texts"] == 2


def test_lone_surrogates_are_replaced_and_counted(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a \\ud800 b", "label": 0}\n{"text": "\\ud83d\\ude00", "label": 1}\n')
    data = load_dataset(path, LABELS)
    assert data.texts == ["a \ufffd b", "\U0001f600"] and data.info["texts_with_invalid_unicode"] == 1


def test_short_csv_rows_get_missing_cells_and_long_rows_fail(tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("text,label\ngood,1\nno label here\n")
    data = load_dataset(short, LABELS)
    assert data.texts == ["good", "no label here"] and data.labels == [1, None]
    for body, line in (("a,0\nb,1,extra\nc,0\n", 3), ("a,0,x\nb,1,y\n", 2)):
        (tmp_path / "long.csv").write_text("text,label\n" + body)
        with pytest.raises(ReportgenError, match=f"line {line} has 3 fields but the header has 2"):
            load_dataset(tmp_path / "long.csv", LABELS)


def test_stratified_sample_keeps_unlabeled_rows_as_a_stratum():
    labels = [0] * 6 + [None] * 2 + [1] * 2
    chosen = stratified_sample(labels, 5, seed=0)
    assert len(chosen) == 5 and sum(labels[i] is None for i in chosen) == 1


def test_missing_column_names_the_columns(tmp_path):
    with pytest.raises(ReportgenError, match="text column 'review' is not in .*; columns: text, label"):
        load_dataset(write(tmp_path, "csv"), LABELS, text_column="review")


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ReportgenError, match="holds no rows"):
        load_dataset(tmp_path / "empty.csv", LABELS)
    (tmp_path / "header.csv").write_text("text,label\n")
    with pytest.raises(ReportgenError, match="holds no rows"):
        load_dataset(tmp_path / "header.csv", LABELS)
    with pytest.raises(ReportgenError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 0}\n{"text": oops}\n')
    with pytest.raises(ReportgenError, match="line 2 is not valid JSON"):
        read_table(path)
    path.write_text('{"text": "a", "label": 0}\n\n' + "[" * 100000 + "\n")
    with pytest.raises(ReportgenError, match="line 3 is not valid JSON"):
        read_table(path)
    path.write_text('\ufeff{"text": "a\u2028b", "label": 0}\n"just a string"\n', encoding="utf-8")
    with pytest.raises(ReportgenError, match="line 2 is not a JSON object"):
        read_table(path)


def test_jsonl_lines_split_at_newlines_only(tmp_path):
    path = tmp_path / "sep.jsonl"
    path.write_text('\ufeff{"text": "a\u2028b\x85c", "label": 0}\r\n', encoding="utf-8")
    frame, _ = read_table(path)
    assert frame["text"].tolist() == ["a\u2028b\x85c"]


def test_non_utf8_file_names_the_encoding_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9,0\n".encode("latin-1"))
    with pytest.raises(ReportgenError, match="--encoding"):
        read_table(path)
    frame, _ = read_table(path, encoding="latin-1")
    assert frame["text"][0] == "caf\xe9"
    jsonl = tmp_path / "latin.jsonl"
    jsonl.write_bytes('{"text": "ok", "label": 0}\n{"text": "caf\xe9", "label": 0}\n'.encode("latin-1"))
    with pytest.raises(ReportgenError, match="line 2 is not valid utf-8 text; pass its encoding with --encoding"):
        read_table(jsonl)
    with pytest.raises(ReportgenError, match="unknown text encoding 'klingon' given with --encoding"):
        read_table(path, encoding="klingon")


def test_stratified_sample_is_seeded_proportional_and_ordered():
    labels = [0] * 80 + [1] * 20
    first = stratified_sample(labels, 10, seed=3)
    assert first == stratified_sample(labels, 10, seed=3)
    assert first != stratified_sample(labels, 10, seed=4)
    assert first == sorted(first) and len(set(first)) == 10
    assert sum(labels[i] for i in first) == 2
    assert stratified_sample(labels, 500, seed=0) == list(range(100))


def test_a_sample_of_multi_label_or_tagged_data_is_stratified_by_label_set():
    from reportgen.load.data import Dataset, strata

    sets = [[0], [0], [0, 1], [0, 1], [], [], None, None]
    data = Dataset(texts=["t"] * 8, labels=[None] * 8, rows=list(range(8)), label_sets=sets)
    assert strata(data) == [(0,), (0,), (0, 1), (0, 1), (), (), None, None]
    chosen = stratified_sample(strata(data), 4, seed=0)
    assert sorted(strata(data)[i] for i in chosen if strata(data)[i] is not None) == [(), (0,), (0, 1)]
    tagged = Dataset(texts=["t"] * 3, labels=[None] * 3, rows=[0, 1, 2], tag_lists=[[0, 1, 0], [0, 0], None])
    assert strata(tagged) == [(0, 1), (0,), None]
    assert stratified_sample([1, 0, 1, 0], 2, seed=0) == stratified_sample([1, 0, 1, 0], 2, seed=0)
