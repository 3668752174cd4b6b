"""--precision bfloat16: model calls run under bfloat16 autocast, and the scores stay within the
stated tolerance of float32.

The tolerance (README, benchmarks/RESULTS.md section 5), on the demo model: the same prediction on every
example, class probabilities within 0.02, and for every method a median Spearman correlation of at
least 0.95 between an example's bfloat16 and float32 word scores. The tiny random models of the fast
tests have score differences near bfloat16's resolution for the perturbation methods, so there the
check covers the predictions and the attention and gradient methods only.
"""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from reportgen.errors import ReportgenError
from reportgen.explain.batching import ModelRunner
from reportgen.explain.checkpoint import Checkpoint
from reportgen.explain.engine import Engine
from reportgen.explainers import explainers
from reportgen.load.data import Dataset
from reportgen.options import RunConfig
from reportgen.report.sections.methodology import PRECISION_NOTE, methodology

from support.cli import invoke, run_args
from support.tiny_models import CORPUS

EXACT_ENOUGH = ["attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients",
                "layer_integrated_gradients"]
SMALL = {"lime": {"num_samples": 40}, "shap": {"max_evals": 40}, "layer_integrated_gradients": {"n_steps": 8}}


def corpus() -> Dataset:
    return Dataset(list(CORPUS), [i % 2 for i in range(len(CORPUS))], list(range(len(CORPUS))))


def run(classifier, precision, methods, data=None, params=None, results=None, overwrite=False):
    params = {name: value for name, value in (params or SMALL).items() if name in methods}
    config = RunConfig(methods=methods, method_params=params, metrics=[], precision=precision)
    checkpoint = Checkpoint(results, overwrite=overwrite) if results is not None else None
    return Engine(classifier, config, checkpoint=checkpoint, progress=False).run(data or corpus())


def relative_l1(values, reference) -> float:
    values, reference = np.asarray(values), np.asarray(reference)
    return float(np.abs(values - reference).sum() / max(np.abs(reference).sum(), 1e-12))


def probabilities(result) -> np.ndarray:
    return np.array([ex.probabilities for ex in result.examples])


@pytest.mark.parametrize("precision, dtype", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_model_calls_run_in_the_chosen_precision(classifier, precision, dtype):
    seen = []
    first_linear = next(m for m in classifier.model.modules() if isinstance(m, torch.nn.Linear))
    handle = first_linear.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    try:
        runner = ModelRunner(classifier, precision=precision)
        probs = runner.predict_ids([classifier.tokenizer("a fine film")["input_ids"]])
    finally:
        handle.remove()
    assert seen == [dtype]
    assert probs.dtype == np.float64 and np.isclose(probs.sum(), 1.0)
    assert first_linear.weight.dtype == torch.float32  # the weights are never converted


def test_an_unknown_precision_is_refused():
    with pytest.raises(ReportgenError, match="--precision must be one of float32, bfloat16, not 'float8'"):
        RunConfig(methods=["saliency"], precision="float8")


@pytest.mark.parametrize("kind", ["bert", "distilbert", "roberta"])
def test_every_method_runs_in_bfloat16_close_to_float32(classifiers, kind):
    classifier, methods = classifiers[kind], explainers.names()
    half, full = run(classifier, "bfloat16", methods), run(classifier, "float32", methods)
    assert half.failures == [] and half.config["precision"] == "bfloat16"
    assert [ex.prediction for ex in half.examples] == [ex.prediction for ex in full.examples]
    assert np.abs(probabilities(half) - probabilities(full)).max() <= 0.02
    for method in methods:
        for attribution in half.attributions[method].values():
            assert np.isfinite(attribution.tokens).all(), method
    for method in EXACT_ENOUGH:
        distances = [relative_l1(half.attributions[method][i].tokens, a.tokens)
                     for i, a in full.attributions[method].items()]
        assert np.median(distances) <= 0.05, (method, distances)


def test_the_report_states_the_precision_of_a_bfloat16_run(classifier):
    half = run(classifier, "bfloat16", ["saliency"])
    assert ("precision", "bfloat16") in methodology(half)["config"]
    assert PRECISION_NOTE in methodology(half)["display"]
    assert PRECISION_NOTE not in methodology(run(classifier, "float32", ["saliency"]))["display"]


def test_a_changed_precision_discards_stored_work(classifier, tmp_path, monkeypatch):
    full = run(classifier, "float32", ["saliency"], results=tmp_path / "r")
    calls = []
    forward = ModelRunner.forward

    def recorded(runner, *args, **kwargs):
        calls.append(runner.precision)
        return forward(runner, *args, **kwargs)

    monkeypatch.setattr(ModelRunner, "forward", recorded)
    half = run(classifier, "bfloat16", ["saliency"], results=tmp_path / "r", overwrite=True)
    assert calls and set(calls) == {"bfloat16"}  # predictions and gradients computed again, in bfloat16
    assert half.attributions["saliency"] != full.attributions["saliency"]


def test_the_command_line_takes_precision(bert_dir, csv_file, tmp_path):
    import json

    out = tmp_path / "report.html"
    result = invoke(*run_args(bert_dir, csv_file, out, "attention,saliency", "--precision", "bfloat16"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "results" / "run.json").read_text())["config"]["precision"] == "bfloat16"
    refused = invoke(*run_args(bert_dir, csv_file, out, "saliency", "--precision", "float8"))
    assert refused.exit_code == 2 and "'float8' is not one of 'float32', 'bfloat16'" in refused.output


@pytest.mark.slow
def test_bfloat16_stays_within_the_stated_tolerance_on_the_demo_model():
    from reportgen.api import DEMO_BUDGETS
    from reportgen.load.data import stratified_sample
    from reportgen.load.demo import default_model_dir, load_corpus
    from reportgen.load.model import load_classifier

    classifier = load_classifier(default_model_dir(progress=False))
    held = load_corpus().held_out
    data = held.subset(stratified_sample(held.labels, 12, 0))
    methods = explainers.names()
    half, full = (run(classifier, p, methods, data, DEMO_BUDGETS) for p in ("bfloat16", "float32"))
    assert [ex.prediction for ex in half.examples] == [ex.prediction for ex in full.examples]
    assert np.abs(probabilities(half) - probabilities(full)).max() <= 0.02
    for method in methods:
        rhos = [spearmanr(half.attributions[method][i].words, a.words).statistic
                for i, a in full.attributions[method].items() if len(a.words) > 2]
        assert np.median(rhos) >= 0.95, (method, rhos)
