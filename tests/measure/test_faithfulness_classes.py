"""Faithfulness on a model with many classes asks the runner for the target's probability only, and scores
exactly as it did from the probabilities over every class."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.explain.batching import ModelRunner
from reportgen.load.data import Dataset
from reportgen.measure import metrics
from reportgen.options import RunConfig

from support.runs import measured
from support.tiny_models import CORPUS, build_model_folder

N_CLASSES = 500
# the same text twice under two labels: one id list asked for two classes
TEXTS = CORPUS + ["a dull film", "a dull film"]
LABELS = [7, 0, 499, 3, 250, 7, 11, 12]


@pytest.fixture(scope="module")
def many_class_classifier(tmp_path_factory):
    from reportgen.load.model import load_classifier

    folder = build_model_folder(tmp_path_factory.mktemp("many") / "bert500", num_labels=N_CLASSES)
    return load_classifier(folder, device="cpu")


@pytest.fixture(scope="module")
def explained_run(many_class_classifier):
    """Two methods explained for the label (two examples share their text but not their label)."""
    data = Dataset(TEXTS, LABELS, list(range(len(TEXTS))), info={"path": "inline", "rows": len(TEXTS)})
    config = RunConfig(methods=["saliency", "random"], metrics=[], target="label", seed=0)
    return measured(many_class_classifier, data, config)


class Recording:
    """A runner that hands every call on and records the shape of what came back."""

    def __init__(self, runner):
        self.runner = runner
        self.shapes: list[tuple[int, tuple[int, ...]]] = []

    def __getattr__(self, name):
        return getattr(self.runner, name)

    def predict_ids(self, id_lists, classes=None, explained=None):
        out = self.runner.predict_ids(id_lists, classes, explained)
        self.shapes.append((len(id_lists), np.shape(out)))
        return out


class FullRows(Recording):
    """The runner as faithfulness used it before: every class's probability per input, then the column."""

    def predict_ids(self, id_lists, classes=None, explained=None):
        full = self.runner.predict_ids(id_lists)
        self.shapes.append((len(id_lists), np.shape(full)))
        if explained is not None:
            classes = [ex.target for ex in explained]
        return full if classes is None else full[np.arange(len(id_lists)), np.asarray(classes, dtype=int)]


def faithfulness(run, runner, **params) -> dict:
    result = metrics.get("faithfulness")(**params).compute(run, runner)
    return {key: value for key, value in result.items() if key != "seconds"}


@pytest.mark.parametrize("chunk_size", [8192, 7])
def test_faithfulness_scores_as_it_did_from_every_class(many_class_classifier, explained_run, chunk_size):
    params = {"chunk_size": chunk_size, "decimals": 15, "per_example_curves": True}
    picked = Recording(ModelRunner(many_class_classifier))
    full = FullRows(ModelRunner(many_class_classifier))
    ours, slow = faithfulness(explained_run, picked, **params), faithfulness(explained_run, full, **params)
    assert ours == slow
    assert len(ours["per_example"]) == 2 * len(TEXTS)
    assert all(shape == (n, N_CLASSES) for n, shape in full.shapes)
    # one probability per perturbed input comes back, never a row over the 500 classes
    assert picked.shapes and all(shape == (n,) for n, shape in picked.shapes)
    assert picked.runner.evaluations == full.runner.evaluations


def test_the_runner_picks_each_inputs_class_from_the_full_softmax(many_class_classifier):
    runner = ModelRunner(many_class_classifier, max_batch_tokens=24)
    lists = [e.input_ids for e in many_class_classifier.encode(TEXTS)]
    lists += [lists[0], lists[-1]]  # repeated inputs, asked for other classes
    classes = [3, 499, 0, 17, 250, 1, 42, 42, 498, 5]
    picked = runner.predict_ids(lists, classes=classes)
    evaluations = runner.evaluations
    full = runner.predict_ids(lists)
    assert picked.dtype == np.float64 and picked.shape == (len(lists),)
    np.testing.assert_array_equal(picked, full[np.arange(len(lists)), classes])
    assert evaluations == runner.evaluations - evaluations == len(TEXTS) - 1  # identical inputs run once
    assert runner.predict_ids([], classes=[]).shape == (0,)
