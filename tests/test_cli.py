import json
import re

import pytest
from click.testing import CliRunner

from reportgen.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def run_args(model, data, tmp_path, *extra):
    return ["run", "--model", model, "--data", data, "--out", tmp_path / "report.html",
            "--methods", "attention,saliency,grad_x_input", "--quiet", *extra]


def assert_one_line_error(result, pattern):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(pattern, lines[0]), lines[0]


def test_help_of_every_command():
    for command in ([], ["run"], ["demo"], ["render"], ["methods"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_run_writes_report_results_and_model_card(bert_dir, csv_file, tmp_path):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--group-column", "group", "--limit", "6"))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report.html").read_text()
    assert report.count('type="application/json"') >= 6
    meta = json.loads((tmp_path / "results" / "run.json").read_text())
    assert meta["dataset"]["explained"] == 6
    assert (tmp_path / "results" / "attributions" / "saliency.jsonl").is_file()
    assert "Explainability audit" in (tmp_path / "model_card.md").read_text()


def test_render_rebuilds_the_same_report(bert_dir, csv_file, tmp_path):
    assert invoke(*run_args(bert_dir, csv_file, tmp_path, "--results", tmp_path / "res")).exit_code == 0
    result = invoke("render", tmp_path / "res", "--out", tmp_path / "again.html")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again.html").read_text() == (tmp_path / "report.html").read_text()


def test_methods_lists_explainers_and_metrics():
    result = invoke("methods")
    assert result.exit_code == 0
    for name in ("attention", "attention_rollout", "saliency", "grad_x_input"):
        assert re.search(rf"^\s+{name}\s+\S", result.output, re.MULTILINE)


def test_missing_data_file(bert_dir, tmp_path):
    assert_one_line_error(invoke(*run_args(bert_dir, tmp_path / "nope.csv", tmp_path)), r"does not exist")


def test_missing_column(bert_dir, csv_file, tmp_path):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--text-column", "review"))
    assert_one_line_error(result, r"text column 'review' is not in")


def test_empty_file(bert_dir, tmp_path):
    (tmp_path / "empty.csv").write_text("text,label\n")
    assert_one_line_error(invoke(*run_args(bert_dir, tmp_path / "empty.csv", tmp_path)), r"holds no rows")


def test_unknown_label(bert_dir, tmp_path):
    (tmp_path / "d.csv").write_text("text,label\ngood,positive\nmeh,neutral\n")
    result = invoke(*run_args(bert_dir, tmp_path / "d.csv", tmp_path))
    assert_one_line_error(result, r"'neutral' in row 1 is not one of the model's labels: negative, positive")


def test_model_folder_without_weights(bert_dir, csv_file, tmp_path):
    folder = tmp_path / "noweights"
    folder.mkdir()
    (folder / "config.json").write_text((bert_dir / "config.json").read_text())
    assert_one_line_error(invoke(*run_args(folder, csv_file, tmp_path)), r"has no weights")


def test_pickled_weights_need_allow_pickle(bert_dir, csv_file, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickled"
    shutil.copytree(bert_dir, folder)
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    assert_one_line_error(invoke(*run_args(folder, csv_file, tmp_path)), r"pickled weights.*--allow-pickle")
    assert invoke(*run_args(folder, csv_file, tmp_path, "--allow-pickle")).exit_code == 0


def test_unknown_method_lists_valid_names(bert_dir, csv_file, tmp_path):
    args = run_args(bert_dir, csv_file, tmp_path)
    args[args.index("--methods") + 1] = "saliency,magic"
    assert_one_line_error(invoke(*args), r"unknown explainer 'magic'; valid names: .*saliency")


def test_render_of_a_folder_that_is_not_results(tmp_path):
    assert_one_line_error(invoke("render", tmp_path, "--out", tmp_path / "r.html"), r"not a results folder")


@pytest.mark.parametrize("kind", ["distilbert", "roberta"])
def test_other_architectures_run(model_dirs, csv_file, tmp_path, kind):
    assert invoke(*run_args(model_dirs[kind], csv_file, tmp_path)).exit_code == 0
