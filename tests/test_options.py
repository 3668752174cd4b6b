"""One option table: the command line's flags, the API's keyword arguments and RunConfig are made from it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import reportgen
from reportgen import options as table
from reportgen.cli import cli
from reportgen.errors import ReportgenError, UnknownParameterError
from reportgen.options import OPTIONS, RunConfig

from support import ROOT


@pytest.mark.parametrize("command", ["run", "demo"])
def test_every_flag_of_a_command_comes_from_the_table(command):
    params = {p.name: p for p in cli.commands[command].params}
    expected = [o for o in table.for_command(command) if o.on_command_line]
    assert list(params) == [o.name for o in expected]
    for option in expected:
        assert option.cli_flag in params[option.name].opts
        assert params[option.name].help == option.help_for(command)
        assert params[option.name].required == option.required


@pytest.mark.parametrize("command, function, leading", [("run", reportgen.explain, ["model", "data"]),
                                                        ("demo", reportgen.demo, [])])
def test_the_api_keywords_come_from_the_table(command, function, leading):
    parameters = inspect.signature(function).parameters
    expected = leading + [o.name for o in table.api_options(command)]
    assert list(parameters) == expected
    for option in table.api_options(command):
        assert parameters[option.name].default == option.default
        assert option.name in function.__doc__


def test_run_config_is_the_table_of_settings():
    fields = dataclasses.fields(RunConfig)
    assert [f.name for f in fields] == [o.name for o in OPTIONS if o.group == table.SETTING]
    config = RunConfig()
    for option in table.SETTINGS:
        expected = option.default if option.name != "methods" else reportgen.explainers.explainers.names()
        assert getattr(config, option.name) == expected, option.name
    assert RunConfig().method_params is not RunConfig().method_params  # each config its own dict


@pytest.mark.parametrize("settings, message", [
    ({"target": "both"}, "--target must be one of pred, label, not 'both'"),
    ({"precision": "float8"}, "--precision must be one of float32, bfloat16, not 'float8'"),
    ({"max_batch_size": 0}, "--batch-size must be at least 1, not 0"),
    ({"max_batch_tokens": 2.5}, "--max-batch-tokens must be a whole number, not 2.5"),
    ({"attention_maps": -1}, "attention_maps must be at least 0, not -1"),
    ({"method_params": [1]}, "--param must map names to their parameters"),
    ({"methods": "nope"}, "unknown explainer 'nope'"),
    ({"methods": ["saliency"], "method_params": {"lime": {}}}, "parameters given for 'lime'"),
])
def test_settings_are_checked_in_one_line(settings, message):
    with pytest.raises(ReportgenError, match=message):
        RunConfig(**settings)


def test_an_unknown_keyword_is_named_with_the_valid_ones():
    with pytest.raises(UnknownParameterError, match="function 'explain' has no parameter 'batch'; valid parameters: "
                                                    "task, multi_label, text_column, text_pair_column, label_column"):
        reportgen.explain("model", "data.csv", batch=3)


def test_the_readme_names_every_flag():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("run", "demo"):
        for option in table.for_command(command):
            if option.on_command_line:
                assert option.cli_flag in readme, option.cli_flag
