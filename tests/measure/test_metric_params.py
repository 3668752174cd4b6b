"""Every metric's parameters are declared and checked when the metric is made, before any use.

- (tests/test_parameters.py checks that every parameter of every metric is declared and refuses bad values);
- the attention atlas refuses a query position the model cannot read;
- through the Python API, a bad metric parameter is a one-line error.
"""

from __future__ import annotations

import pytest

from reportgen.errors import ReportgenError
from reportgen.explain.batching import ModelRunner
from reportgen.load.data import Dataset
from reportgen.measure import Metric, compute_metrics, metrics
from reportgen.options import RunConfig

from support.runs import measured, small_run



@pytest.mark.parametrize("name, params, message", [
    ("faithfulness", {"fractions": [0.1, 0]}, r"^faithfulness: fractions must be a list of 1 to 100 finite numbers "
                                              r"in \(0, 1\], not \[0.1, 0\]$"),
    ("faithfulness", {"fractions": []}, "fractions must be a list of 1 to 100"),
    ("calibration", {"n_bins": 10**12}, r"^calibration: n_bins must be a whole number from 1 to 1000, not 10{12}$"),
    ("top_words", {"class_by": "group"}, r"^top_words: class_by must be one of target, prediction, label, not 'group'"),
    ("error_words", {"smoothing": 0}, r"^error_words: smoothing must be a finite number > 0, not 0$"),
    ("agreement", {"absolute": "yes"}, r"^agreement: absolute must be true or false, not 'yes'$"),
])
def test_what_a_refusal_says(name, params, message):
    with pytest.raises(ReportgenError, match=message):
        metrics.get(name)(**params)


def test_the_atlas_refuses_a_query_the_model_cannot_read(classifier):
    run = small_run(classifier)
    runner = ModelRunner(classifier, 512, 8)
    compute_metrics(run, runner, ["attention_atlas"], {"attention_atlas": {"query": 10**12}})
    assert run.metrics["attention_atlas"]["error"] == (
        "ParameterError: attention_atlas: query must be a whole number from 0 to 63 (the model reads at most "
        "64 tokens), not 1000000000000")
    compute_metrics(run, runner, ["attention_atlas"], {"attention_atlas": {"query": None}})
    assert "error" not in run.metrics["attention_atlas"]


def test_a_bad_metric_parameter_through_the_api_is_one_line(classifier):
    data = Dataset(["a good film", "a dull film"], [1, 0], [0, 1], info={"name": "tiny"})
    config = RunConfig(methods=["saliency"], metrics=["calibration"], metric_params={"calibration": {"n_bins": "ten"}})
    with pytest.raises(ReportgenError, match=r"^calibration: n_bins must be a whole number from 1 to 1000, not 'ten'$"):
        measured(classifier, data, config)


class OnlyDefaults(Metric):
    name = "only_defaults_for_test"
    defaults = {"anything": 1}


def test_a_metric_with_only_defaults_takes_any_value_of_its_own_names():
    assert OnlyDefaults(anything=[1, "x"]).params == {"anything": [1, "x"]}
    with pytest.raises(ReportgenError, match="has no parameter 'other'"):
        OnlyDefaults(other=1)
