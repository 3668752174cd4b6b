"""--zero-shot-labels: zero-shot classification through an NLI model, as transformers' pipeline does it."""

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

from reportgen.api import explain, write_outputs
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explain.pooling import example_seed
from reportgen.explainers import explainers
from reportgen.load.model import load_classifier
from support.captum_checks import assert_rows_match, captum_occlusion, special_positions
from support.cli import assert_one_line_error, invoke, run_args
from support.pair_models import build_pair_folder
from support.tiny_models import CORPUS

CANDIDATES = ["good", "bad", "fun"]
TEMPLATE = "This review is {}."
CHEAP = {"lime": {"num_samples": 60}, "shap": {"max_evals": 40}, "layer_integrated_gradients": {"n_steps": 4}}


@pytest.fixture(scope="module")
def nli_dir(tmp_path_factory):
    return build_pair_folder(tmp_path_factory.mktemp("nli") / "bert", "bert")


@pytest.fixture(scope="module")
def zero_shot(nli_dir):
    return load_classifier(nli_dir, device="cpu", zero_shot_labels=",".join(CANDIDATES), hypothesis_template=TEMPLATE)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    path = tmp_path_factory.mktemp("zero_shot_data") / "reviews.csv"
    pd.DataFrame({"text": CORPUS, "label": [CANDIDATES[i % 3] for i in range(len(CORPUS))]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def zero_shot_run(zero_shot, reviews):
    return explain(zero_shot, reviews, methods="all", progress=False, method_params=CHEAP)


def test_the_prediction_is_the_pipelines(zero_shot, zero_shot_run):
    from transformers import pipeline

    zero_shot.tokenizer.model_input_names = ["input_ids", "token_type_ids", "attention_mask"]  # BERT's types
    pipe = pipeline("zero-shot-classification", model=zero_shot.model, tokenizer=zero_shot.tokenizer, device="cpu")
    for ex in zero_shot_run.examples:
        answer = pipe(ex.text, candidate_labels=CANDIDATES, hypothesis_template=TEMPLATE)
        expected = [dict(zip(answer["labels"], answer["scores"]))[label] for label in CANDIDATES]
        np.testing.assert_allclose(ex.probabilities, expected, rtol=0, atol=1e-6)
        assert ex.prediction == int(np.argmax(expected))
    assert zero_shot_run.model["zero_shot"]["template"] == TEMPLATE and zero_shot_run.model["labels"] == CANDIDATES


def test_each_text_is_explained_with_its_predicted_labels_hypothesis(zero_shot, zero_shot_run):
    for ex in zero_shot_run.examples:
        hypothesis = zero_shot.tokenizer(TEMPLATE.format(CANDIDATES[ex.target]), add_special_tokens=False)["input_ids"]
        separator = ex.tokens.index("[SEP]")
        assert ex.input_ids[separator + 1: -1] == hypothesis and ex.target == ex.prediction
        assert all(word is None for word in ex.word_ids[separator:])  # never scored, removed or perturbed
        (alone,) = zero_shot.encode([ex.text])
        assert ex.words == alone.words and ex.input_ids[: separator + 1] == alone.input_ids
    assert not zero_shot_run.failures
    assert all(len(table) == len(CORPUS) for table in zero_shot_run.attributions.values())


def explained_batch(zero_shot, zero_shot_run):
    batch = Batch(ModelRunner(zero_shot), list(zero_shot_run.examples))
    assert len(set(batch.lengths)) > 1 and set(batch.targets.tolist()) == {zero_shot.task.entailment_id}
    return batch


def token_types(zero_shot, batch):
    types = torch.zeros_like(batch.input_ids)
    texts = [ex.text for ex in batch.examples]
    hypotheses = [TEMPLATE.format(CANDIDATES[ex.target]) for ex in batch.examples]
    for row, values in enumerate(zero_shot.tokenizer(texts, hypotheses, return_token_type_ids=True)["token_type_ids"]):
        types[row, : len(values)] = torch.tensor(values)
    return types


def entailment_logits(zero_shot):
    return lambda ids, mask, types: zero_shot.model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits


def test_integrated_gradients_and_saliency_match_captum_on_the_entailment_logit(zero_shot, zero_shot_run):
    batch = explained_batch(zero_shot, zero_shot_run)
    arguments = (batch.attention_mask, token_types(zero_shot, batch))
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    baseline = torch.where(special_positions(batch), batch.input_ids, torch.full_like(batch.input_ids, zero_shot.pad_id))
    reference = LayerIntegratedGradients(entailment_logits(zero_shot), zero_shot.embeddings()).attribute(
        batch.input_ids, baselines=baseline, target=batch.targets, additional_forward_args=arguments, n_steps=16,
        method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)
    gradient = LayerGradientXActivation(entailment_logits(zero_shot), zero_shot.embeddings(), multiply_by_inputs=False)
    reference = gradient.attribute(batch.input_ids, target=batch.targets, additional_forward_args=arguments)
    assert_rows_match([e.tokens for e in explainers.get("saliency")().attribute(batch)], reference.norm(dim=-1), batch)


def test_occlusion_matches_captum_and_never_touches_the_hypothesis(zero_shot, zero_shot_run):
    batch = explained_batch(zero_shot, zero_shot_run)
    probabilities = lambda *args: torch.softmax(entailment_logits(zero_shot)(*args), dim=-1)  # noqa: E731
    reference = captum_occlusion(probabilities, batch, zero_shot.replacement_id, batch.attention_mask,
                                 token_types(zero_shot, batch))
    assert_rows_match([e.tokens for e in explainers.get("occlusion")().attribute(batch)], reference, batch, scale=0.1)


def test_lime_and_shap_match_the_packages_with_the_hypothesis_fixed(zero_shot, zero_shot_run):
    import shap
    from lime.lime_text import LimeTextExplainer

    runner = ModelRunner(zero_shot)
    entail = zero_shot.task.entailment_id
    for ex in zero_shot_run.examples[:3]:
        hypothesis = TEMPLATE.format(CANDIDATES[ex.target])
        paired = lambda strings, h=hypothesis: runner.predict_texts(list(strings), [h] * len(strings))  # noqa: E731
        words = list(ex.words)
        lime = LimeTextExplainer(kernel_width=25, feature_selection="none", split_expression=lambda t: words, bow=False,
                                 mask_string="", random_state=example_seed(0, ex.index))
        result = lime.explain_instance(ex.text, paired, labels=(entail,), num_features=len(words),
                                       num_samples=CHEAP["lime"]["num_samples"])
        expected = np.zeros(len(words))
        for feature, weight in result.local_exp[entail]:
            expected[feature] = weight
        np.testing.assert_allclose(zero_shot_run.attributions["lime"][ex.index].words, expected, atol=1e-9)
        np.random.seed(example_seed(0, ex.index))
        values = shap.Explainer(lambda s: paired(s)[:, entail], shap.maskers.Text(zero_shot.tokenizer))(
            [ex.text], max_evals=CHEAP["shap"]["max_evals"], silent=True).values[0]
        owners = zero_shot.tokenizer(ex.text).word_ids()
        folded = np.zeros(len(words))
        for value, word in zip(values, owners):
            if word is not None:
                folded[word] += value
        np.testing.assert_allclose(zero_shot_run.attributions["shap"][ex.index].words, folded, atol=1e-7)  # float32


def test_a_resumed_run_recomputes_nothing_and_other_labels_are_another_run(zero_shot, nli_dir, reviews, tmp_path,
                                                                         monkeypatch):
    from reportgen.explain.engine import Engine

    first = explain(zero_shot, reviews, methods=["saliency"], progress=False, results=tmp_path / "r")

    def refused(*args, **kwargs):
        raise AssertionError("recomputed stored work")

    with monkeypatch.context() as patched:
        patched.setattr(Engine, "_compute_unit", refused)
        patched.setattr(Engine, "_predict", refused)
        again = explain(zero_shot, reviews, methods=["saliency"], progress=False, results=tmp_path / "r")
    assert [ex.input_ids for ex in again.examples] == [ex.input_ids for ex in first.examples]
    other = load_classifier(nli_dir, device="cpu", zero_shot_labels="good,bad,fun", hypothesis_template="It is {}.")
    result = invoke(*run_args(nli_dir, reviews, tmp_path / "o.html", "saliency", "--results", tmp_path / "r",
                              "--zero-shot-labels", "good,bad,fun", "--hypothesis-template", "It is {}."))
    assert other.task.fingerprint() != zero_shot.task.fingerprint()
    assert_one_line_error(result, r"holds another run \(other model, data or settings\)")


def test_the_report_names_the_labels_and_template(zero_shot_run, tmp_path):
    html = write_outputs(zero_shot_run, out=tmp_path / "report.html")["report"].read_text()
    assert "Zero-shot labels good, bad, fun" in html and "This review is {}." in html


@pytest.mark.parametrize("extra, pattern", [
    (["--zero-shot-labels", "good"], r"needs two or more comma-separated labels"),
    (["--zero-shot-labels", "a,b", "--hypothesis-template", "no slot"], r"must hold one \{\} for the label"),
    (["--zero-shot-labels", "a,b", "--hypothesis-template", "{} and {}"], r"must hold one \{\}"),
    (["--hypothesis-template", "It is {}."], r"--hypothesis-template applies to --zero-shot-labels"),
    (["--task", "zero_shot"], r"--task zero_shot needs the candidate labels"),
    (["--zero-shot-labels", "a,b", "--multi-label"], r"--multi-label asks for another"),
])
def test_bad_zero_shot_options_are_one_line_errors(nli_dir, reviews, tmp_path, extra, pattern):
    out = tmp_path / "report.html"
    assert_one_line_error(invoke(*run_args(nli_dir, reviews, out, "saliency", *extra)), pattern)
    assert not out.exists()


def test_a_model_without_an_entailment_class_is_refused(bert_dir, reviews, tmp_path):
    result = invoke(*run_args(bert_dir, reviews, tmp_path / "r.html", "saliency", "--zero-shot-labels", "a,b"))
    assert_one_line_error(result, r"needs an NLI model with one entailment class.*'negative', 'positive'")
