"""Hand-made tamperings of a saved results folder, rendered through the command line: a folder that breaks
what the report reads is refused in one line naming the file and the field; one that does not renders
(issue 14, finding 10). The manifest is resealed after each change, as anyone who edits a folder can."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from reportgen.results import manifest, store

from support.cli import assert_one_line_error, invoke
from support.runs import demo_like_run


@pytest.fixture(scope="module")
def template(classifier, tmp_path_factory) -> Path:
    return store.save(demo_like_run(classifier), tmp_path_factory.mktemp("tampered") / "template")


def tampered(template: Path, tmp_path: Path, name: str, change: Callable[[Any], None], line: int = 0) -> Path:
    """A copy of the saved folder with ``change`` applied to run.json or to one line of a .jsonl file."""
    folder = tmp_path / "results"
    shutil.copytree(template, folder)
    path = folder / name
    if name == "run.json":
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document, indent=1))
    else:
        lines = path.read_text().splitlines()
        row = json.loads(lines[line])
        change(row)
        lines[line] = json.dumps(row)
        path.write_text("\n".join(lines) + "\n")
    manifest.reseal(folder)
    return folder


def render(folder: Path):
    return invoke("render", folder, "--out", folder.parent / "report.html")


def metric_result(name: str, document: dict) -> dict:
    return document["metrics"][name]["result"]


REFUSED = [
    ("metrics null", "run.json", lambda d: d.update(metrics=None), r"run\.json: metrics must be an object, not null"),
    ("a string where a metric belongs", "run.json", lambda d: d["metrics"].update(performance="x"),
     r"run\.json: metrics\.performance must be an object, not \"x\""),
    ("a string as the accuracy", "run.json",
     lambda d: metric_result("performance", d)["overall"].update(accuracy="x"),
     r"run\.json: metrics\.performance\.result\.overall\.accuracy must be a number or null, not \"x\""),
    ('"slow" as seconds', "run.json", lambda d: d["methods"][0].update(seconds="slow"),
     r"run\.json: methods\[0\]\.seconds must be a number, not \"slow\""),
    ("a NaN count", "run.json", lambda d: metric_result("calibration", d)["bins"][-1].update(count=float("nan")),
     r"run\.json: metrics\.calibration\.result\.bins\[9\]\.count must be a whole number, not NaN"),
    ("a deleted key", "run.json", lambda d: metric_result("performance", d).pop("overall"),
     r"run\.json: metrics\.performance\.result lacks \"overall\""),
    ("a number too large for a float", "run.json",
     lambda d: metric_result("cost", d)["methods"][0].update(seconds=10 ** 400),
     r"metrics\.cost\.result\.methods\[0\]\.seconds must be a finite number, not a number of 401 digits"),
    ("more correct examples than examples", "run.json",
     lambda d: metric_result("performance", d)["overall"].update(correct=10 ** 6),
     r"overall\.correct \(1000000\) must be at most overall\.examples \(\d+\)"),
    ("a value nested 900 deep", "run.json", lambda d: d["config"].update(deep=json.loads("[" * 900 + "]" * 900)),
     r"run\.json: config\.deep\[0\]\[0\]\[0\]\[0\]\.\.\. is nested more than 32 levels deep"),
    ("a key with a line break", "run.json", lambda d: d["metrics"].update({"a\nb": 1}),
     r'run\.json: metrics\["a\\nb"\] must be an object, not 1'),
]


@pytest.mark.parametrize("change, pattern", [case[2:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_a_tampered_run_json_is_refused_naming_the_field(template, tmp_path, change, pattern):
    assert_one_line_error(render(tampered(template, tmp_path, "run.json", change)), pattern)


def test_scores_for_another_number_of_tokens_are_refused(template, tmp_path):
    folder = tampered(template, tmp_path, "attributions/saliency.jsonl", lambda row: row["tokens"].pop())
    assert_one_line_error(render(folder), r"attributions/saliency\.jsonl, line 1: tokens holds 10 scores for the 11 "
                                          r"tokens of example 0$")


def test_a_layer_row_for_another_number_of_tokens_is_refused(template, tmp_path):
    folder = tampered(template, tmp_path, "attributions/layer_integrated_gradients.jsonl",
                      lambda row: row["extra"]["layers"][1].append(0.5))
    assert_one_line_error(render(folder), r"layer_integrated_gradients\.jsonl, line 1: extra\.layers\[1\] holds 12 "
                                          r"scores for the 11 tokens of example 0$")


def test_an_attribution_in_another_methods_file_is_refused(template, tmp_path):
    folder = tampered(template, tmp_path, "attributions/saliency.jsonl", lambda row: row.update(method="lime"))
    assert_one_line_error(render(folder), r'saliency\.jsonl, line 1: method must be "saliency", the file\'s method, '
                                          r'not "lime"')


def test_a_label_beyond_the_models_classes_is_refused(template, tmp_path):
    folder = tampered(template, tmp_path, "examples.jsonl", lambda row: row.update(label=10 ** 6), line=2)
    assert_one_line_error(render(folder), r"examples\.jsonl, line 3: label 1000000 is not a class of the model, "
                                          r"which has 2$")


def test_an_attention_map_of_a_millionth_layer_is_refused(template, tmp_path):
    rows = (template / "attributions" / "attention.jsonl").read_text().splitlines()
    line = next(i for i, text in enumerate(rows) if "maps" in json.loads(text)["extra"])  # an example with maps
    folder = tampered(template, tmp_path, "attributions/attention.jsonl",
                      lambda row: row["extra"]["maps"][0].update(layer=10 ** 6), line)
    assert_one_line_error(render(folder), rf"attention\.jsonl, line {line + 1}: extra\.maps\[0\]\.layer must be at "
                                          r"most 4095, not 1000000")


def test_a_line_that_is_not_json_is_named(template, tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(template, folder)
    path = folder / "examples.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], "{not json", *lines[3:]]) + "\n")
    manifest.reseal(folder)
    assert_one_line_error(render(folder), r"examples\.jsonl, line 3: Expecting property name")


RENDERED = [
    ("a failed metric", lambda d: d["metrics"].update(performance={
        "description": "d", "params": {}, "result": None, "error": "RuntimeError: the disk caught fire", "seconds": 0.5}),
     "the disk caught fire"),
    ("a plugin's metric holding anything", lambda d: d["metrics"].update(mine={
        "description": "my own statistic", "params": {"p": [1, None]}, "seconds": None,
        "result": {"definition": "how mine is computed", "anything": [1, {"x": float("nan")}, "y"]}}),
     "how mine is computed"),
    ("a top-words rank far beyond the others", lambda d: metric_result("top_words", d)["words"][0].update(rank=10 ** 6),
     '<td class="num">1000000</td>'),
]


@pytest.mark.parametrize("change, shown", [case[1:] for case in RENDERED], ids=[case[0] for case in RENDERED])
def test_a_folder_the_report_can_read_renders(template, tmp_path, change, shown):
    result = render(tampered(template, tmp_path, "run.json", change))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert shown in page
    assert len(page) < 5_000_000  # the top-words table gets one row for the far rank, not a million


def test_scores_that_are_not_finite_render_as_the_writer_writes_them(template, tmp_path):
    def non_finite(row):
        row["tokens"][1:3] = [float("nan"), float("inf")]
    result = render(tampered(template, tmp_path, "attributions/saliency.jsonl", non_finite))
    assert result.exit_code == 0, result.output
