import json

import pandas as pd
import pytest

from reportgen.data import load_dataset, match_labels, read_table, stratified_sample
from reportgen.errors import ReportgenError

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


@pytest.mark.parametrize("value", ["2", "-1", "1.5", None, float("nan")])
def test_out_of_range_or_missing_labels_are_refused(value):
    with pytest.raises(ReportgenError):
        match_labels([value], LABELS)


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


def test_non_utf8_file_names_the_encoding_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9,0\n".encode("latin-1"))
    with pytest.raises(ReportgenError, match="--encoding"):
        read_table(path)
    frame, _ = read_table(path, encoding="latin-1")
    assert frame["text"][0] == "caf\xe9"


def test_stratified_sample_is_seeded_proportional_and_ordered():
    labels = [0] * 80 + [1] * 20
    first = stratified_sample(labels, 10, seed=3)
    assert first == stratified_sample(labels, 10, seed=3)
    assert first != stratified_sample(labels, 10, seed=4)
    assert first == sorted(first) and len(set(first)) == 10
    assert sum(labels[i] for i in first) == 2
    assert stratified_sample(labels, 500, seed=0) == list(range(100))
