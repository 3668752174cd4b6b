import json
import re

import click
import pytest

from reportgen.cli import cli
from reportgen.results import RunResult, manifest, store

from support.cli import assert_one_line_error, invoke
from support.cli import run_args as cli_run_args


def run_args(model, data, tmp_path, *extra):
    return cli_run_args(model, data, tmp_path / "report.html", "attention,saliency,grad_x_input", *extra)



def test_help_of_every_command():
    for command in ([], ["run"], ["demo"], ["render"], ["card"], ["export"], ["compare"], ["methods"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("command", ["run", "demo", "render", "card", "export", "compare", "methods"])
def test_every_option_has_help_text(command):
    options = [param for param in cli.commands[command].params if isinstance(param, click.Option)]
    assert options and [option.opts for option in options if not option.help] == []
    result = invoke(command, "--help")
    for option in options:
        assert re.search(rf"^  {re.escape(option.opts[0])}\b.*\S", result.output, re.MULTILINE), option.opts


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


@pytest.mark.parametrize("param, pattern", [
    ("saliency.foo=1", r"method 'saliency' has no parameter 'foo'; it takes no parameters$"),
    ("attention.lyr=2", r"method 'attention' has no parameter 'lyr'; valid parameters: layer, map_decimals, query$"),
])
def test_unknown_method_parameter_names_the_method_and_the_valid_ones(bert_dir, csv_file, tmp_path, param, pattern):
    assert_one_line_error(invoke(*run_args(bert_dir, csv_file, tmp_path, "--param", param)), pattern)


@pytest.fixture
def results_dir(tmp_path):
    """A valid (empty) results folder, to damage."""
    return store.save(RunResult(), tmp_path / "results")


@pytest.mark.parametrize("name, content, pattern", [
    ("run.json", "{not json", r"cannot read results file .*run\.json: Expecting property name"),
    ("run.json", '{"format_version": 3}', r"results file .*run\.json: the file lacks \"config\""),
    ("run.json", '{"format_version": 1}', r"holds results format 1; this reportgen reads formats 2 and 3"),
    ("run.json", "[1, 2]", r"cannot read results file .*run\.json: it holds no JSON object"),
    ("run.json", '{"format_version": "\\u001b[2J"}', r"holds results format '\\x1b\[2J'; this reportgen reads"),
    ("run.json", b"\xff\xfe{", r"cannot read results file .*run\.json: 'utf-8' codec can't decode"),
    ("examples.jsonl", '{"text": "no example"}\n',
     r"results file .*examples\.jsonl, line 1: the line lacks \"example\""),
    ("examples.jsonl", '{"example": 0}\n{cut', r"cannot read results file .*examples\.jsonl, line 2: Expecting"),
])
def test_render_of_a_damaged_results_folder(results_dir, tmp_path, name, content, pattern):
    """Damage that passes the manifest (whoever edits a folder can seal it again) is still refused in one line."""
    assert invoke("render", results_dir, "--out", tmp_path / "ok.html").exit_code == 0
    path = results_dir / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_one_line_error(invoke("render", results_dir, "--out", tmp_path / "unsealed.html"),
                          r"does not match its manifest: " + re.escape(name))
    manifest.reseal(results_dir)
    assert_one_line_error(invoke("render", results_dir, "--out", tmp_path / "r.html"), pattern)


def test_render_of_a_file(csv_file, tmp_path):
    result = invoke("render", csv_file, "--out", tmp_path / "r.html")
    assert_one_line_error(result, r"data\.csv is not a results folder")


@pytest.mark.parametrize("out, pattern", [
    ("/proc/no_such_folder/r.html", r"cannot write to output folder /proc/no_such_folder: "),
    ("{csv}/r.html", r"output folder .*data\.csv is a file$"),
])
def test_output_folder_that_cannot_be_made_fails_before_any_work(bert_dir, csv_file, tmp_path, monkeypatch, out,
                                                                   pattern):
    import reportgen.api

    monkeypatch.setattr(reportgen.api, "load_classifier", lambda *a, **k: pytest.fail("work began"))
    out = out.format(csv=csv_file)
    args = run_args(bert_dir, csv_file, tmp_path)
    args[args.index("--out") + 1] = out
    assert_one_line_error(invoke(*args), pattern)
    assert_one_line_error(invoke("render", tmp_path, "--out", out), pattern)


def test_os_error_while_writing_is_one_line(results_dir, tmp_path, monkeypatch):
    import reportgen.report.render

    def disk_full(run, out):
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr(reportgen.report.render, "write_report", disk_full)
    result = invoke("render", results_dir, "--out", tmp_path / "r.html")
    assert_one_line_error(result, r"^error: .*r\.html: No space left on device$")


def test_demo_budgets_apply_only_to_the_methods_run_and_yield_to_given_parameters():
    from reportgen.api import DEMO_BUDGETS, demo_params

    assert demo_params("all", {}) == DEMO_BUDGETS
    assert demo_params("saliency,lime", {}) == {"lime": DEMO_BUDGETS["lime"]}
    assert demo_params("lime", {"lime": {"num_samples": 50, "kernel_width": 5.0}}) == {
        "lime": {"num_samples": 50, "kernel_width": 5.0}}
    assert demo_params("lime,occlusion", {"occlusion": {"replacement": "pad"}}, default_budgets=True) == {
        "occlusion": {"replacement": "pad"}}


@pytest.mark.parametrize("flag, value, pattern", [
    ("--limit", "0", r"Invalid value for '--limit': 0 is not in the range x>=1\. \(see reportgen run --help\)$"),
    ("--batch-size", "x", r"Invalid value for '--batch-size': 'x' is not a valid integer"),
    ("--target", "both", r"Invalid value for '--target'"),
])
def test_a_bad_flag_value_is_one_line(bert_dir, csv_file, tmp_path, flag, value, pattern):
    assert_one_line_error(invoke(*cli_run_args(bert_dir, csv_file, tmp_path / "r.html", "saliency", flag, value)),
                          pattern)


def test_a_missing_required_option_is_one_line(csv_file):
    assert_one_line_error(invoke("run", "--data", csv_file), r"give the model: --model .*, or --predict")
