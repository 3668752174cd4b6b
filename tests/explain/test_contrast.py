"""A misclassified example is explained a second time, for its true class (with --target label: its predicted
one), by every method whose scores depend on the class: the scores equal those of a run that explains that
class, and nothing else changes."""

from __future__ import annotations

import pytest

from reportgen.explain.contrast import contrast_target
from reportgen.load.data import Dataset
from reportgen.options import RunConfig
from reportgen.results.records import Example

from support.runs import measured
from support.tiny_models import CORPUS

TEXTS = CORPUS + ["the film was fun", "boring and slow, but the music is great"]
METHODS = ["attention", "random", "saliency", "grad_x_input", "integrated_gradients", "occlusion"]
CLASS_FREE = {"attention", "random"}  # the same scores whatever the class: no second pass


def run_of(classifier, labels, **settings):
    data = Dataset(TEXTS, labels, list(range(len(TEXTS))), info={"path": "inline", "rows": len(TEXTS)})
    config = RunConfig(methods=METHODS, metrics=[], method_params={"integrated_gradients": {"n_steps": 4}},
                       **settings)
    return measured(classifier, data, config)


@pytest.fixture(scope="module")
def labels(classifier):
    """Labels that make half the texts errors of the tiny model: the predicted class, flipped on even rows."""
    predicted = run_of(classifier, [0] * len(TEXTS), contrast=False)
    return [ex.prediction if i % 2 else 1 - ex.prediction for i, ex in enumerate(predicted.examples)]


@pytest.mark.parametrize("target", ["pred", "label"])
def test_an_error_s_contrast_equals_the_explanation_of_its_other_class(classifier, labels, target):
    run = run_of(classifier, labels, target=target)
    other = run_of(classifier, labels, target="label" if target == "pred" else "pred", contrast=False)
    errors = [ex for ex in run.examples if ex.correct is False]
    assert 0 < len(errors) < len(run.examples)
    for method in METHODS:
        for ex in run.examples:
            extra = run.attributions[method][ex.index].extra
            if ex.correct is False and method not in CLASS_FREE:
                assert extra["contrast"]["target"] == (ex.label if target == "pred" else ex.prediction)
                assert extra["contrast"]["tokens"] == pytest.approx(other.attributions[method][ex.index].tokens,
                                                                    rel=1e-5, abs=1e-7)
                assert extra["contrast"]["words"] == pytest.approx(other.attributions[method][ex.index].words,
                                                                   rel=1e-5, abs=1e-7)
            else:
                assert "contrast" not in extra
    # The main explanation and the methods' cost figures are those of the first pass alone.
    plain = run_of(classifier, labels, target=target, contrast=False)
    for method in METHODS:
        assert run.methods[method].examples == plain.methods[method].examples == len(run.examples)
        for ex in run.examples:
            assert run.attributions[method][ex.index].tokens == pytest.approx(plain.attributions[method][ex.index].tokens)
    assert "contrast" in run.timings and "contrast" not in plain.timings


def test_only_a_labeled_explained_error_has_a_contrast_class():
    def example(label, prediction, target, tokens=("a",)):
        ex = Example(index=0, text="a", label=label, prediction=prediction, target=target)
        ex.input_ids, ex.tokens, ex.word_ids, ex.words = [1], list(tokens), [0], ["a"]
        return ex

    assert contrast_target(example(1, 0, 0)) == 1  # --target pred: the true class
    assert contrast_target(example(1, 0, 1)) == 0  # --target label: the predicted class
    assert contrast_target(example(1, 1, 1)) is None  # correct
    assert contrast_target(example(None, 0, 0)) is None  # unlabeled
    failed = example(1, 0, 0)
    failed.error = "text is empty"
    assert contrast_target(failed) is None
