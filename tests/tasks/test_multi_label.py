"""Multi-label classifiers: a sigmoid per label, each row explained once per predicted (or true) label, every
method checked against Captum, lime and shap on the label's own score; label lists read from the data; bad
label data refused in one line or recorded per row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients

from reportgen.api import explain, write_outputs
from reportgen.errors import ReportgenError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explain.pooling import example_seed
from reportgen.explainers import explainers
from reportgen.load.data import load_dataset
from reportgen.load.model import load_classifier
from reportgen.results import store
from reportgen.results.records import Example
from reportgen.results.schema import check_example

from support.captum_checks import assert_batch_invariant, assert_rows_match, special_positions
from support.cli import assert_one_line_error, invoke, run_args
from support.multi_label_models import (MULTI_LABEL_KINDS, TOPICS, build_multi_label_folder, multi_label_rows,
                                        write_multi_label_data)
from support.tiny_models import CORPUS, build_model_folder

CHEAP_METHODS = ("attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients",
                 "layer_integrated_gradients", "occlusion", "random")
FAST = {"integrated_gradients": {"n_steps": 4}, "layer_integrated_gradients": {"n_steps": 4}}


@pytest.fixture(scope="module")
def label_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi_label")
    return {kind: build_multi_label_folder(root / kind, kind) for kind in MULTI_LABEL_KINDS}


@pytest.fixture(scope="module")
def taggers(label_dirs):
    return {kind: load_classifier(folder, device="cpu") for kind, folder in label_dirs.items()}


@pytest.fixture(scope="module")
def label_data(tmp_path_factory):
    return write_multi_label_data(tmp_path_factory.mktemp("multi_label_data") / "topics.jsonl", repeat=2)


def make_batch(classifier) -> Batch:
    """The tiny corpus in one right-padded batch, targets cycling through the labels."""
    examples = []
    for i, (text, enc) in enumerate(zip(CORPUS, classifier.encode(list(CORPUS)))):
        ex = Example(index=i, text=text, source=i, input_ids=enc.input_ids, tokens=enc.tokens,
                     word_ids=enc.word_ids, words=enc.words, target=i % len(TOPICS))
        examples.append(ex)
    batch = Batch(ModelRunner(classifier), examples)
    assert len(set(batch.lengths)) > 1
    return batch


def own_logits(classifier):
    return lambda ids, mask: classifier.model(input_ids=ids, attention_mask=mask).logits


# ----------------------------------------------------------------------------- choosing the task


def test_the_config_or_the_flag_picks_the_multi_label_task(taggers, tmp_path):
    assert {classifier.task.name for classifier in taggers.values()} == {"multi_label"}
    plain = build_multi_label_folder(tmp_path / "plain", problem_type=None)
    assert load_classifier(plain, device="cpu").task.name == "sequence_classification"
    assert load_classifier(plain, device="cpu", multi_label=True).task.name == "multi_label"


def test_predictions_are_a_sigmoid_per_label(taggers):
    classifier = taggers["roberta"]
    batch = make_batch(classifier)
    with torch.no_grad():
        logits = own_logits(classifier)(batch.input_ids, batch.attention_mask)
    np.testing.assert_allclose(batch.predict(), torch.sigmoid(logits).double().numpy(), rtol=0, atol=1e-7)


# ----------------------------------------------------------------------------- against Captum, per label


@pytest.mark.parametrize("kind", MULTI_LABEL_KINDS)
def test_integrated_gradients_matches_captum_on_the_label_logit(taggers, kind):
    classifier = taggers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    baseline = torch.where(special_positions(batch), batch.input_ids,
                           torch.full_like(batch.input_ids, classifier.pad_id))
    reference = LayerIntegratedGradients(own_logits(classifier), classifier.embeddings()).attribute(
        batch.input_ids, baselines=baseline, target=batch.targets, additional_forward_args=(batch.attention_mask,),
        n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", MULTI_LABEL_KINDS)
def test_saliency_matches_captum(taggers, kind):
    classifier = taggers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("saliency")().attribute(batch)
    gradient = LayerGradientXActivation(own_logits(classifier), classifier.embeddings(), multiply_by_inputs=False)
    reference = gradient.attribute(batch.input_ids, target=batch.targets,
                                   additional_forward_args=(batch.attention_mask,))
    assert_rows_match([e.tokens for e in ours], reference.norm(dim=-1), batch)


@pytest.mark.parametrize("kind", MULTI_LABEL_KINDS)
def test_occlusion_matches_captum_feature_ablation_on_the_label_sigmoid(taggers, kind):
    classifier = taggers[kind]
    batch = make_batch(classifier)
    ours = explainers.get("occlusion")().attribute(batch)
    sigmoid = lambda *args: torch.sigmoid(own_logits(classifier)(*args))  # noqa: E731
    baselines = torch.where(special_positions(batch), batch.input_ids,
                            torch.full_like(batch.input_ids, classifier.replacement_id))
    with torch.no_grad():
        reference = FeatureAblation(sigmoid).attribute(batch.input_ids, baselines=baselines, target=batch.targets,
                                                       additional_forward_args=(batch.attention_mask,))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


def test_scores_of_a_unit_do_not_depend_on_its_batch(taggers):
    batch = make_batch(taggers["roberta"])
    methods = ("attention", "saliency", "grad_x_input", "integrated_gradients", "occlusion")
    assert_batch_invariant(batch, methods)


# ----------------------------------------------------------------------------- whole runs: one unit per label


@pytest.fixture(scope="module")
def label_run(taggers, tmp_path_factory):
    """Every method but lime and shap over the topic data through the API, a bad list in row 4."""
    rows = multi_label_rows(2)
    rows[4]["label"] = '["plot", '
    path = tmp_path_factory.mktemp("multi_label_run") / "topics.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    classifier = taggers["roberta"]
    data = load_dataset(path, classifier.labels, multi_label=True)
    return explain(classifier, data, methods=list(CHEAP_METHODS), progress=False, method_params=FAST)


def test_each_row_is_explained_once_per_predicted_label(label_run):
    by_row: dict[int, list[Example]] = {}
    for unit in label_run.examples:
        by_row.setdefault(unit.source, []).append(unit)
    assert sorted(by_row) == list(range(12)) and [u.index for u in label_run.examples] == list(
        range(len(label_run.examples)))
    assert len(label_run.examples) > 12  # the random model predicts several labels for some rows
    for row, units in by_row.items():
        first = units[0]
        if not first.ok:
            continue
        predicted = [t for t, p in enumerate(first.probabilities) if p >= 0.5]
        assert first.predicted == predicted
        assert [u.target for u in units] == (predicted or [None])
        for unit in units:
            assert unit.probabilities == first.probabilities and unit.labels == first.labels
            explained = unit.target is not None
            for method in CHEAP_METHODS:
                assert (unit.index in label_run.attributions[method]) == explained


def test_a_label_list_that_does_not_parse_is_a_failure_of_its_row(label_run):
    (failed,) = [u for u in label_run.examples if not u.ok]
    assert failed.source == 4 and "does not parse as JSON" in failed.error
    assert [f.example for f in label_run.failures] == [failed.index]


def test_each_label_is_explained_with_its_own_score(label_run, taggers):
    """Units of one row that explain two labels differ, and each equals the label explained alone."""
    units = [u for u in label_run.examples if u.ok and u.target is not None]
    rows = {}
    for unit in units:
        rows.setdefault(unit.source, []).append(unit)
    first, second = next(pair for pair in rows.values() if len(pair) >= 2)[:2]
    scores = label_run.attributions["integrated_gradients"]
    assert not np.allclose(scores[first.index].tokens, scores[second.index].tokens)
    alone = explainers.get("integrated_gradients")(**FAST["integrated_gradients"]).attribute(
        Batch(ModelRunner(taggers["roberta"]), [second]))
    np.testing.assert_allclose(alone[0].tokens, scores[second.index].tokens, rtol=1e-4, atol=1e-6)


def test_target_label_explains_every_true_label(taggers, label_data):
    run = explain(taggers["roberta"], load_dataset(label_data, taggers["roberta"].labels, multi_label=True),
                  methods=["saliency"], target="label", progress=False)
    for unit in run.examples:
        assert unit.target is None if not unit.labels else unit.target in unit.labels
    assert {(u.source, u.target) for u in run.examples if u.target is not None} == {
        (u.source, t) for u in run.examples for t in u.labels}


def test_faithfulness_and_top_words_are_given_per_label(label_run):
    rows = label_run.metrics["faithfulness"]["result"]["by_class"]
    explained = {u.target for u in label_run.examples if u.target is not None}
    assert {r["class_id"] for r in rows} == explained and {r["class"] for r in rows} <= set(TOPICS)
    for row in rows:
        n = sum(u.target == row["class_id"] for u in label_run.examples)
        assert row["examples"] == n
    words = label_run.metrics["top_words"]["result"]["words"]
    assert words and {w["class_id"] for w in words} <= explained  # pooled per explained label
    assert "performance" not in label_run.metrics and "calibration" not in label_run.metrics


def test_the_results_keep_the_units_and_refuse_labels_beyond_the_model(label_run, tmp_path):
    outputs = write_outputs(label_run, tmp_path / "report.html")
    saved = store.load(outputs["results"])
    assert [(u.source, u.labels, u.predicted, u.target) for u in saved.examples] == [
        (u.source, u.labels, u.predicted, u.target) for u in label_run.examples]
    folder = outputs["results"]
    row = json.loads((folder / "examples.jsonl").read_text().splitlines()[0])
    check_example(row, 1, path=folder / "examples.jsonl", classes=4, version=store.FORMAT_VERSION)
    row["predicted"] = [1, 9]
    with pytest.raises(ReportgenError, match="line 1: predicted holds 9, not a class of the model, which has 4"):
        check_example(row, 1, path=folder / "examples.jsonl", classes=4, version=store.FORMAT_VERSION)
    page = outputs["report"].read_text(encoding="utf-8")
    assert "explains <b><bdi>" in page and "Comprehensiveness per explained class" in page
    explained = sum(u.target is not None for u in label_run.examples)
    assert f"On these {explained} explanations" in page  # not "examples": a row is explained once per label


def test_results_of_one_class_per_example_carry_no_unit_fields(tmp_path):
    from reportgen.results.records import RunResult

    run = RunResult(model={"labels": ["negative", "positive"]}, examples=[Example(index=0, text="a film")])
    folder = store.save(run, tmp_path / "results")
    line = json.loads((folder / "examples.jsonl").read_text().splitlines()[0])
    assert not {"source", "labels", "predicted"} & set(line)


# ----------------------------------------------------------------------------- lime and shap against the packages

TEXT_SEED, LIME_SAMPLES, SHAP_EVALS = 3, 60, 80


def sigmoid_of(classifier):
    def probabilities(strings):
        enc = classifier.tokenizer([str(s) for s in strings], padding=True, truncation=True,
                                   max_length=classifier.max_length, return_tensors="pt")
        with torch.no_grad():
            return torch.sigmoid(classifier.model(**enc).logits.float()).double().numpy()

    return probabilities


@pytest.fixture(scope="module")
def text_method_run(taggers, tmp_path_factory):
    path = write_multi_label_data(tmp_path_factory.mktemp("multi_label_text") / "topics.jsonl")
    classifier = taggers["bert"]
    data = load_dataset(path, classifier.labels, multi_label=True).subset(range(3))
    return explain(classifier, data, methods=["lime", "shap"], progress=False, seed=TEXT_SEED,
                   method_params={"lime": {"num_samples": LIME_SAMPLES}, "shap": {"max_evals": SHAP_EVALS}})


def test_lime_matches_the_package_on_the_label_sigmoid(taggers, text_method_run):
    from lime.lime_text import LimeTextExplainer

    classifier, run = taggers["bert"], text_method_run
    units = [u for u in run.examples if u.target is not None]
    assert units and not run.failures
    for unit in units:
        words = list(unit.words)
        explainer = LimeTextExplainer(kernel_width=25, feature_selection="none", split_expression=lambda t: words,
                                      bow=False, mask_string="", random_state=example_seed(TEXT_SEED, unit.index))
        result = explainer.explain_instance(unit.text, sigmoid_of(classifier), labels=(unit.target,),
                                            num_features=len(words), num_samples=LIME_SAMPLES)
        expected = np.zeros(len(words))
        for feature, weight in result.local_exp[unit.target]:
            expected[feature] = weight
        got = np.asarray(run.attributions["lime"][unit.index].words)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * max(1.0, np.abs(expected).max()))


def test_shap_matches_the_package_on_the_label_sigmoid(taggers, text_method_run):
    import shap

    classifier, run = taggers["bert"], text_method_run
    for unit in [u for u in run.examples if u.target is not None]:
        probabilities = sigmoid_of(classifier)
        np.random.seed(example_seed(TEXT_SEED, unit.index))
        explainer = shap.Explainer(lambda strings: probabilities(strings)[:, unit.target],
                                   shap.maskers.Text(classifier.tokenizer))
        result = explainer([unit.text], max_evals=SHAP_EVALS, silent=True)
        got = run.attributions["shap"][unit.index]
        np.testing.assert_allclose(got.tokens, result.values[0], rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- bad input through the CLI


def test_the_cli_runs_every_method_on_a_multi_label_model(label_dirs, label_data, tmp_path):
    out = tmp_path / "out" / "report.html"
    result = invoke(*run_args(label_dirs["roberta"], label_data, out, "all", "--threshold", "0.4",
                              "--param", "lime.num_samples=40", "--param", "shap.max_evals=40",
                              "--param", "layer_integrated_gradients.n_steps=4"))
    assert result.exit_code == 0, result.output
    saved = store.load(out.parent / "results")
    assert saved.config["threshold"] == 0.4 and saved.model["task"] == "multi_label"
    assert all(u.predicted == [t for t, p in enumerate(u.probabilities) if p >= 0.4] for u in saved.examples)
    assert set(saved.attributions) == set(explainers.names())
    assert saved.metrics["multi_label"].get("error") is None


def test_a_separator_splits_names_in_a_csv_cell(label_dirs, tmp_path):
    path = tmp_path / "topics.csv"
    pd.DataFrame({"text": CORPUS[:3], "tags": ["acting|plot", "music", ""]}).to_csv(path, index=False)
    data = load_dataset(path, list(TOPICS), label_column="tags", label_separator="|", multi_label=True)
    assert data.label_sets == [[0, 1], [2], None] and data.info["label_separator"] == "|"


@pytest.mark.parametrize("labels, extra, problem", [
    (["acting", "plot", "music"], (), "the labels hold one class per row, and a multi-label model needs"),
    (['["acting"', "[1,", "[x"], (), "no row's label list can be read; row 0: label list"),
    (['["acting"]'] * 3, ("--threshold", "1.5"), "--threshold must be a number between 0 and 1, not 1.5"),
    (['["acting"]'] * 3, ("--multi-label", "--task", "sentence_pair"), "--multi-label takes the multi_label task"),
])
def test_bad_multi_label_input_is_one_line(label_dirs, tmp_path, labels, extra, problem):
    path = tmp_path / "topics.csv"
    pd.DataFrame({"text": CORPUS[:3], "label": labels}).to_csv(path, index=False)
    result = invoke(*run_args(label_dirs["roberta"], path, tmp_path / "r.html", "saliency", *extra))
    assert_one_line_error(result, problem)


def test_a_threshold_for_a_one_class_model_and_pairs_for_a_multi_label_model_are_refused(label_dirs, tmp_path):
    single = build_model_folder(tmp_path / "single")
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS[:3], "label": ["positive"] * 3, "other": CORPUS[3:6]}).to_csv(path, index=False)
    result = invoke(*run_args(single, path, tmp_path / "r.html", "saliency", "--threshold", "0.3"))
    assert_one_line_error(result, "--threshold applies to multi-label tasks, and the sequence_classification task")
    result = invoke(*run_args(label_dirs["roberta"], path, tmp_path / "r.html", "saliency",
                              "--text-pair-column", "other"))
    assert_one_line_error(result, "declares problem_type 'multi_label_classification'")


def test_a_resumed_run_reads_back_its_predictions_and_units(taggers, label_data, tmp_path, monkeypatch):
    from reportgen.explain.engine import Engine

    classifier = taggers["roberta"]
    data = load_dataset(label_data, classifier.labels, multi_label=True)
    first = explain(classifier, data, methods=["saliency", "occlusion"], progress=False, results=tmp_path / "r")

    def refused(*args, **kwargs):
        raise AssertionError("recomputed stored work")

    monkeypatch.setattr(Engine, "_compute_unit", refused)
    monkeypatch.setattr(Engine, "_predict", refused)
    again = explain(classifier, data, methods=["saliency", "occlusion"], progress=False, results=tmp_path / "r")
    assert [(u.index, u.source, u.target) for u in again.examples] == [
        (u.index, u.source, u.target) for u in first.examples]
    for method in ("saliency", "occlusion"):
        assert {i: a.tokens for i, a in again.attributions[method].items()} == {
            i: a.tokens for i, a in first.attributions[method].items()}
