"""Every method's parameters are declared and checked before any use; the command line refuses bad ones in one line.

- (tests/test_parameters.py checks that every parameter of every method is declared and refuses bad values);
- a layer or a position the model does not have is refused once the model is known;
- a class that declares only ``defaults`` (a plug-in) still works;
- through the command line: the cases of issue 14 and a --methods that names nothing.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from reportgen.errors import ReportgenError
from reportgen.explainers import Explainer, explainers
from reportgen.ops.params import Whole

from support.cli import assert_one_line_error, invoke, run_args
from support.params import assert_refused

ON_THE_MODEL = [(cls.name, key) for cls in explainers for key, param in cls.parameters.items()
                if isinstance(param, Whole) and param.model_range is not None]
HANG_GUARD_SECONDS = 600  # only so that the code as it was (which never returns) fails instead of hanging the suite


@pytest.mark.parametrize("name, key", ON_THE_MODEL)
def test_a_value_past_the_model_is_refused_once_the_model_is_known(classifier, name, key):
    cls = explainers.get(name)
    low, high, why = cls.parameters[key].model_range(classifier)
    for fits in (low, high):
        cls(**{key: fits}).check_model(classifier)
    for value in (low - 1, high + 1, 10**12):
        if cls.parameters[key].problem(key, value):  # refused before the model is known (query=-1)
            assert_refused(cls, key, value)
            continue
        expected = rf"^{name}: {key} must be a whole number from {low} to {high} \({why}\), not {value}$"
        with pytest.raises(ReportgenError, match=expected):
            cls(**{key: value}).check_model(classifier)


def test_the_layer_range_says_how_many_layers_the_model_has(classifier):
    with pytest.raises(ReportgenError) as caught:
        explainers.get("attention")(layer=2).check_model(classifier)
    assert str(caught.value) == "attention: layer must be a whole number from -2 to 1 (the model has 2 layers), not 2"


def test_a_query_past_an_example_fails_that_example_and_says_why(classifier):
    from reportgen.explain.engine import Engine
    from reportgen.load.data import Dataset
    from reportgen.options import RunConfig

    data = Dataset(["good", "a much longer text than the first one is"], [0, 1], [0, 1], info={"name": "tiny"})
    config = RunConfig(methods=["attention", "attention_rollout"], metrics=[], method_params={
        "attention": {"query": 5}, "attention_rollout": {"query": 5}})
    run = Engine(classifier, config, progress=False).run(data)
    assert sorted((f.method, f.example) for f in run.failures) == [("attention", 0), ("attention_rollout", 0)]
    assert all("query position 5 is past the example's last token (it has 3 tokens)" in f.reason for f in run.failures)
    assert set(run.attributions["attention"]) == {1}


class OnlyDefaults(Explainer):
    name = "only_defaults_for_test"
    description = "A plug-in's way: defaults and no declarations."
    defaults = {"anything": 1}


def test_a_class_with_only_defaults_takes_any_value_of_its_own_names():
    assert OnlyDefaults(anything="whatever").params == {"anything": "whatever"}
    with pytest.raises(ReportgenError, match="has no parameter 'other'"):
        OnlyDefaults(other=1)


def test_a_subclass_that_changes_a_default_keeps_the_checks_of_the_rest():
    lime = explainers.get("lime")
    cheaper = type("CheaperLime", (lime,), {"name": "cheaper_lime_for_test",
                                             "defaults": dict(lime.defaults, num_samples=50)})
    assert cheaper().params["num_samples"] == 50
    assert_refused(cheaper, "num_samples", 1)


# Through the command line (issue 14, finding 5; finding 12 for --methods) -----------------------------


@pytest.mark.parametrize("typed", ["abc", "NaN", "1.5", "10**12", "1000000000000", "true", "", "[1]"])
def test_a_bad_layer_on_the_command_line_is_one_line(bert_dir, csv_file, tmp_path, typed):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "report.html", "attention",
                              "--param", f"attention.layer={typed}"))
    assert_one_line_error(result, r"^error: attention: layer must be a whole number")


def test_map_decimals_of_a_trillion_is_refused_without_being_used(bert_dir, csv_file, tmp_path):
    command = [sys.executable, "-m", "reportgen", *run_args(bert_dir, csv_file, tmp_path / "report.html", "attention",
                                                            "--param", "attention.map_decimals=1000000000000")]
    try:
        done = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                              timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail("map_decimals=1000000000000 was used before it was checked: the run never returned")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: attention: map_decimals must be a whole number from 0 to 4, not 1000000000000"


@pytest.mark.parametrize("param", ["attention.layer", "attention", "attention=1", ".layer=1", "attention.=1"])
def test_a_param_without_method_key_and_value_is_refused(bert_dir, csv_file, tmp_path, param):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "report.html", "attention", "--param", param))
    assert_one_line_error(result, rf"--param '{param}' is not METHOD\.KEY=VALUE$")


@pytest.mark.parametrize("methods", ["", " ", ",", " , ,"])
def test_methods_that_name_nothing_are_refused(bert_dir, csv_file, tmp_path, methods):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "report.html", methods))
    assert_one_line_error(result, r"no explainer named in .*; give 'all' or some of: attention, ")
    assert not (tmp_path / "report.html").exists()


def test_an_empty_list_of_names_still_asks_for_none():
    assert explainers.resolve([]) == []
    with pytest.raises(ReportgenError, match="no explainer named in"):
        explainers.resolve(["", " "])
    with pytest.raises(ReportgenError, match="must be a comma-separated text or a list of texts, not 5"):
        explainers.resolve(5)
