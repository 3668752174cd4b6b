"""Inputs at the edges, through the command line: a huge text cell is cut before it is tokenised, a
mistyped path is refused without the hub, a malformed label map, seed or weights index is one line."""

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from support.cli import assert_one_line_error, invoke
from support.cli import run_args as cli_run_args
from support.tiny_models import CORPUS

# The tiny models read 64 tokens; a text is cut at 64 characters a token (tasks.base.CHARS_PER_TOKEN).
KEPT_CHARACTERS = 64 * 64
END_MARKER = "zzendmarkerzz"


def run_args(model, data, tmp_path, *extra):
    return cli_run_args(model, data, tmp_path / "out" / "report.html", "attention", *extra)


def write_csv(path: Path, rows, header=("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def results_of(tmp_path: Path) -> tuple[dict, list[dict]]:
    folder = tmp_path / "out" / "results"
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    examples = [json.loads(line) for line in (folder / "examples.jsonl").read_text(encoding="utf-8").splitlines()]
    return run, examples


@pytest.fixture
def model_copy(bert_dir, tmp_path) -> Path:
    return shutil.copytree(bert_dir, tmp_path / "model")


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


# ----------------------------------------------------------------------------- a huge text cell


def test_a_huge_text_cell_is_cut_counted_and_kept_only_as_an_excerpt(bert_dir, tmp_path):
    huge = ("the movie was good and the cast was great " * 120_000)[:5_000_000] + END_MARKER
    data = write_csv(tmp_path / "huge.csv", [(text, "positive") for text in CORPUS[:3]] + [(huge, "negative")])
    result = invoke(*run_args(bert_dir, data, tmp_path))
    assert result.exit_code == 0, result.output
    run, examples = results_of(tmp_path)
    assert run["dataset"]["texts_cut"] == 1 and run["dataset"]["cut_at_characters"] == KEPT_CHARACTERS
    assert examples[3]["text"] == huge[:KEPT_CHARACTERS] and examples[3]["truncated"] is True
    assert [ex["truncated"] for ex in examples[:3]] == [False] * 3  # tokens past the window still decide it
    results_bytes = sum(path.stat().st_size for path in (tmp_path / "out" / "results").rglob("*") if path.is_file())
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert results_bytes < 500_000 and len(report) < 3_000_000  # the cell alone is 5 MB
    assert END_MARKER not in report and END_MARKER not in (tmp_path / "out" / "results" / "examples.jsonl").read_text()
    assert f"1 text was longer than {KEPT_CHARACTERS:,} characters and cut to their first {KEPT_CHARACTERS:,}" in report


# ----------------------------------------------------------------------------- a local path or a hub id


@pytest.fixture
def recorded_hub_calls(monkeypatch) -> list[str]:
    """transformers' loader patched: it records what it was asked for and never reaches the network."""
    import transformers

    calls: list[str] = []

    def record(source, *args, **kwargs):
        calls.append(str(source))
        raise OSError("no hub in the tests")

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", record)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", record)
    return calls


def test_a_missing_folder_whose_parent_exists_is_refused_without_the_hub(recorded_hub_calls, csv_file, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "bert-posneg").mkdir(parents=True)
    result = invoke(*run_args("models/bert-posnge", csv_file, tmp_path))
    assert_one_line_error(result, r"^error: model folder models/bert-posnge does not exist$")
    assert recorded_hub_calls == []


def test_a_hub_id_is_fetched_from_the_hub_saying_so(recorded_hub_calls, csv_file, tmp_path, monkeypatch):
    """`model/bert-posneg` for `models/bert-posneg` is a well-formed hub id: reportgen says at once that it
    goes to the hub, and a failure names the hub."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "bert-posneg").mkdir(parents=True)
    result = invoke(*run_args("model/bert-posneg", csv_file, tmp_path))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        "model model/bert-posneg is not a local folder; fetching it from the Hugging Face hub",
        "error: cannot load the config of model 'model/bert-posneg' from the Hugging Face hub: no hub in the tests",
    ]
    assert recorded_hub_calls == ["model/bert-posneg"]


# ----------------------------------------------------------------------------- label maps, seeds, sizes


@pytest.mark.parametrize("changes, pattern", [
    ({"id2label": {"1": "negative", "2": "positive"}, "label2id": {"negative": 1, "positive": 2}},
     r"id2label has ids 1, 2; they must be 0 to 1, one per class"),
    ({"id2label": {"0": "negative", "2": "positive"}, "label2id": {"negative": 0, "positive": 2}},
     r"id2label has ids 0, 2; they must be 0 to 1, one per class"),
    ({"id2label": {"zero": "negative", "one": "positive"}, "label2id": {}},
     r"id2label key 'zero' is not a whole number"),
    ({"label2id": {"negative": "0", "positive": "one"}}, r"label2id gives 'positive' the id 'one', not a whole"),
    ({"label2id": {"negative": 1, "positive": 0}}, r"label2id gives 'negative' id 1 but id2label gives it id 0"),
    ({"num_labels": 3}, r"num_labels is 3 but id2label names 2 classes"),
])
def test_a_malformed_label_map_is_one_line(model_copy, csv_file, tmp_path, changes, pattern):
    edit_config(model_copy, **changes)
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, r"^error: model '.*' has a malformed label map in its config: " + pattern)


def test_duplicate_class_names_are_refused(model_copy, csv_file, tmp_path):
    edit_config(model_copy, id2label={"0": "positive", "1": "Positive"}, label2id={"positive": 0, "Positive": 1})
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, r"id2label gives ids 0 and 1 the same class name \('positive', 'Positive'; names "
                                  r"match in any case\)")


@pytest.mark.parametrize("seed", ["-1", str(2**70), str(2**32)])
def test_a_seed_numpy_cannot_take_is_one_line(bert_dir, csv_file, tmp_path, seed):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--seed", seed))
    assert_one_line_error(result, rf"^error: --seed must be a whole number from 0 to 4294967295, not {seed}$")


def test_the_largest_seed_runs(bert_dir, csv_file, tmp_path):
    """The control for the test above: the bound is numpy's, not tighter."""
    result = invoke(*cli_run_args(bert_dir, csv_file, tmp_path / "report.html", "random", "--quiet",
                                  "--seed", str(2**32 - 1), "--limit", "4"))
    assert result.exit_code == 0, result.output


def test_weights_that_do_not_fit_the_labels_name_the_layer_and_shapes(model_copy, csv_file, tmp_path):
    edit_config(model_copy, id2label={"0": "negative", "1": "positive", "2": "neutral"},
                label2id={"negative": 0, "positive": 1, "neutral": 2})
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, r"the weights of model '.*' do not fit its config \(3 classes\): classifier\.bias "
                                  r"is 2 in the weights but 3 for the config; classifier\.weight is 2x32 in the "
                                  r"weights but 3x32 for the config$")


# ----------------------------------------------------------------------------- yes/no labels: one rule


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_yes_no_labels_are_refused_for_a_model_without_such_classes(bert_dir, tmp_path, kind):
    rows = [(CORPUS[0], True), (CORPUS[1], False)]
    data = write_csv(tmp_path / "d.csv", rows) if kind == "csv" else \
        write_jsonl(tmp_path / "d.jsonl", [{"text": text, "label": label} for text, label in rows])
    result = invoke(*run_args(bert_dir, data, tmp_path))
    assert_one_line_error(result, r"label '?True'? in row 0 is not one of the model's labels: negative, positive "
                                  r"\(or ids 0-1\); a yes/no label matches only a class named true or false$")


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_yes_no_labels_match_classes_of_that_name(model_copy, tmp_path, kind):
    """The control for the test above, and the bug it replaces: JSON true was id 1 whatever class 1 is called."""
    edit_config(model_copy, id2label={"0": "true", "1": "false"}, label2id={"true": 0, "false": 1})
    rows = [(CORPUS[0], True), (CORPUS[1], False), (CORPUS[2], True)]
    data = write_csv(tmp_path / "d.csv", rows) if kind == "csv" else \
        write_jsonl(tmp_path / "d.jsonl", [{"text": text, "label": label} for text, label in rows])
    result = invoke(*run_args(model_copy, data, tmp_path))
    assert result.exit_code == 0, result.output
    assert [ex["label"] for ex in results_of(tmp_path)[1]] == [0, 1, 0]


# ----------------------------------------------------------------------------- the shards of a safetensors index


def write_index(folder: Path, shard_of) -> None:
    keys = load_file(folder / "model.safetensors").keys()
    index = {"metadata": {}, "weight_map": {key: shard_of(key) for key in keys}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def test_an_index_that_names_pickled_weights_is_refused(model_copy, csv_file, tmp_path):
    torch.save(load_file(model_copy / "model.safetensors"), model_copy / "pytorch_model.bin")
    write_index(model_copy, lambda key: "pytorch_model.bin")
    (model_copy / "model.safetensors").unlink()
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, r"model\.safetensors\.index\.json names the weights file 'pytorch_model\.bin', "
                                  r"which is not a \.safetensors file")


@pytest.mark.parametrize("shard, problem", [
    ("../elsewhere/model.safetensors", "which is outside the model folder"),
    ("{outside}", "which is outside the model folder"),
    ("model-00002-of-00002.safetensors", "which is not in the folder"),
])
def test_an_index_shard_outside_the_folder_or_missing_is_refused(model_copy, csv_file, tmp_path, shard, problem):
    outside = tmp_path / "elsewhere" / "model.safetensors"
    outside.parent.mkdir()
    shutil.copy(model_copy / "model.safetensors", outside)
    shard = shard.format(outside=outside)
    write_index(model_copy, lambda key: shard)
    (model_copy / "model.safetensors").unlink()
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, rf"names the weights file '{re.escape(shard[:60])}.*, {problem}$")


def test_an_index_of_safetensors_shards_in_the_folder_loads(model_copy, csv_file, tmp_path):
    """The control for the tests above: a sharded model whose index is sound runs."""
    weights = load_file(model_copy / "model.safetensors")
    names = sorted(weights)
    halves = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for shard, keys in halves.items():
        save_file({key: weights[key] for key in keys}, model_copy / shard, metadata={"format": "pt"})
    write_index(model_copy, lambda key: next(shard for shard, keys in halves.items() if key in keys))
    (model_copy / "model.safetensors").unlink()
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert result.exit_code == 0, result.output
