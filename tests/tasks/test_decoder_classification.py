"""Decoder-only classifiers (GPT-2, Llama style): read at the last real token, padded with eos when the
tokenizer has no padding token, attention read from the pooled position, checked against transformers'
own pooling and against Captum."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients

from reportgen.errors import ReportgenError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explainers import explainers
from reportgen.load.model import load_classifier
from reportgen.results.records import Example
from reportgen.tasks.decoder_classification import DecoderClassification, last_positions

from support.captum_checks import assert_batch_invariant, assert_rows_match
from support.cli import assert_one_line_error, invoke, run_args
from support.decoder_models import build_decoder_folder
from support.tiny_models import CORPUS

VARIANTS = ("gpt2", "gpt2_pad", "llama", "llama_pad")  # with _pad: the tokenizer has a padding token of its own


@pytest.fixture(scope="module")
def decoder_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("decoders")
    return {name: build_decoder_folder(root / name, name.split("_")[0], pad=name.endswith("_pad"))
            for name in VARIANTS}


@pytest.fixture(scope="module")
def decoders(decoder_dirs):
    return {name: load_classifier(folder, device="cpu") for name, folder in decoder_dirs.items()}


def make_batch(classifier) -> Batch:
    """CORPUS in one right-padded batch (lengths differ), targets cycling through the classes."""
    examples = []
    for i, (text, enc) in enumerate(zip(CORPUS, classifier.encode(list(CORPUS)))):
        ex = Example(index=i, text=text, label=0, input_ids=enc.input_ids, tokens=enc.tokens,
                     word_ids=enc.word_ids, words=enc.words)
        ex.target = i % len(classifier.labels)
        examples.append(ex)
    batch = Batch(ModelRunner(classifier), examples)
    assert len(set(batch.lengths)) > 1
    return batch


def own_logits(classifier):
    """transformers' own pooling from input ids: the rightmost token that is not the padding token."""
    return lambda ids, mask: classifier.model(input_ids=ids, attention_mask=mask).logits


def test_auto_picks_the_decoder_task_for_gpt2_and_llama_and_not_for_bert(decoders, classifier):
    assert {decoders[name].task.name for name in VARIANTS} == {"decoder_classification"}
    assert classifier.task.name == "sequence_classification"
    assert all(decoders[name].info["task"] == "decoder_classification" for name in VARIANTS)


@pytest.mark.parametrize("name", VARIANTS)
def test_a_tokenizer_without_padding_pads_with_eos_and_says_so(decoders, name):
    classifier = decoders[name]
    tokenizer = classifier.tokenizer
    if name.endswith("_pad"):
        assert tokenizer.pad_token == "<pad>" and "padding" not in classifier.info
    else:
        assert tokenizer.pad_token == tokenizer.eos_token and classifier.pad_id == tokenizer.eos_token_id
        assert classifier.info["padding"] == (f"the end-of-sequence token {tokenizer.eos_token!r} "
                                              "(the tokenizer has no padding token)")
    assert classifier.model.config.pad_token_id == tokenizer.pad_token_id
    assert classifier.info["pooling"] == "the last token of each text"


def test_a_decoder_without_eos_or_pad_is_refused_in_one_line(tmp_path):
    folder = build_decoder_folder(tmp_path / "bare", "gpt2", pad=False, eos=False)
    pd.DataFrame({"text": CORPUS, "label": [0, 1] * 3}).to_csv(tmp_path / "data.csv", index=False)
    result = invoke(*run_args(folder, tmp_path / "data.csv", tmp_path / "report.html", "saliency"))
    assert_one_line_error(result, r"is a decoder whose tokenizer has neither a padding nor an end-of-sequence "
                                  r"token; give the tokenizer a pad_token$")


def test_a_decoder_without_a_known_head_is_refused(decoders):
    class Headless(torch.nn.Module):
        base_model_prefix = "transformer"

    with pytest.raises(ReportgenError, match="classification head reportgen does not know"):
        DecoderClassification().prepare(Headless(), decoders["gpt2"].tokenizer, "m")


@pytest.mark.parametrize("name", VARIANTS)
def test_predictions_are_read_at_the_last_real_token_in_any_batch(decoders, name):
    """A right-padded batch through the task gives each text the logits the model gives it alone, unpadded;
    through embeddings (where transformers' own pooling reads the last column, padding included) too."""
    classifier = decoders[name]
    batch = make_batch(classifier)
    task, model = classifier.task, classifier.model
    with torch.no_grad():
        alone = torch.cat([model(input_ids=batch.input_ids[row:row + 1, :length]).logits
                           for row, length in enumerate(batch.lengths)])
        padded = task.forward(model, batch.input_ids, batch.attention_mask).logits
        embeds = classifier.embeddings()(batch.input_ids)
        through_embeds = task.forward(model, batch.input_ids, batch.attention_mask, inputs_embeds=embeds).logits
        transformers_embeds = model(inputs_embeds=embeds, attention_mask=batch.attention_mask).logits
    torch.testing.assert_close(padded, alone, rtol=0, atol=1e-5)
    torch.testing.assert_close(through_embeds, alone, rtol=0, atol=1e-5)
    assert not torch.allclose(transformers_embeds, alone, atol=1e-3)  # the silent error this task avoids


@pytest.mark.parametrize("name", ("gpt2_pad", "llama_pad"))
def test_left_padding_is_read_at_the_last_real_token_too(decoders, name):
    classifier = decoders[name]
    batch = make_batch(classifier)
    longest = batch.input_ids.shape[1]
    ids = torch.full_like(batch.input_ids, classifier.pad_id)
    mask = torch.zeros_like(batch.attention_mask)
    for row, length in enumerate(batch.lengths):
        ids[row, longest - length:] = batch.input_ids[row, :length]
        mask[row, longest - length:] = 1
    assert last_positions(mask).tolist() == [longest - 1] * len(batch.lengths)
    assert last_positions(batch.attention_mask).tolist() == [length - 1 for length in batch.lengths]
    with torch.no_grad():
        ours = classifier.task.forward(classifier.model, ids, mask).logits
        theirs = own_logits(classifier)(ids, mask)  # transformers pools by the padding id: left or right
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", VARIANTS)
def test_attention_methods_read_the_last_token_not_the_first(decoders, name):
    """In a causal model the first token attends only to itself: reading it gave [1, 0, 0, ...]."""
    classifier = decoders[name]
    batch = make_batch(classifier)
    attention = explainers.get("attention")().attribute(batch)
    rollout = explainers.get("attention_rollout")().attribute(batch)
    with torch.no_grad():
        out = classifier.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, output_attentions=True)
    for row, length in enumerate(batch.lengths):
        expected = out.attentions[-1][row, :, length - 1, :length].mean(dim=0).double().numpy()
        np.testing.assert_allclose(attention[row].tokens, expected, rtol=0, atol=1e-6)
        assert np.count_nonzero(attention[row].tokens > 1e-4) > length // 2
        np.testing.assert_allclose(rollout[row].tokens.sum(), 1.0, atol=1e-6)
        assert rollout[row].tokens[0] < 0.9
    assert batch.task.query_positions(batch.examples) == [length - 1 for length in batch.lengths]


@pytest.mark.parametrize("name", VARIANTS)
def test_integrated_gradients_matches_captum(decoders, name):
    classifier = decoders[name]
    batch = make_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    baseline = torch.where(torch.tensor(_special(batch)), batch.input_ids,
                           torch.full_like(batch.input_ids, classifier.pad_id))
    reference = LayerIntegratedGradients(own_logits(classifier), classifier.embeddings()).attribute(
        batch.input_ids, baselines=baseline, target=batch.targets, additional_forward_args=(batch.attention_mask,),
        n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)


@pytest.mark.parametrize("name", VARIANTS)
def test_saliency_and_grad_x_input_match_captum(decoders, name):
    classifier = decoders[name]
    batch = make_batch(classifier)
    saliency = explainers.get("saliency")().attribute(batch)
    grad_x_input = explainers.get("grad_x_input")().attribute(batch)
    args = dict(target=batch.targets, additional_forward_args=(batch.attention_mask,))
    gradient = LayerGradientXActivation(own_logits(classifier), classifier.embeddings(), multiply_by_inputs=False)
    product = LayerGradientXActivation(own_logits(classifier), classifier.embeddings())
    assert_rows_match([e.tokens for e in saliency], gradient.attribute(batch.input_ids, **args).norm(dim=-1), batch)
    assert_rows_match([e.tokens for e in grad_x_input], product.attribute(batch.input_ids, **args).sum(dim=-1), batch)


@pytest.mark.parametrize("name", VARIANTS)
def test_occlusion_matches_captum_feature_ablation(decoders, name):
    """With a word as the replacement: transformers' own pooling skips a last token replaced by the padding
    token (it pools at the last token that is not the padding id), where reportgen reads the last position."""
    assert decoders[name].replacement_id == decoders[name].tokenizer.pad_token_id  # no mask token: padding
    replacement = decoders[name].tokenizer.convert_tokens_to_ids("the")
    classifier = dataclasses.replace(decoders[name], replacement_id=replacement)
    batch = make_batch(classifier)
    ours = explainers.get("occlusion")().attribute(batch)
    probabilities = lambda ids, mask: torch.softmax(own_logits(classifier)(ids, mask), dim=-1)  # noqa: E731
    baselines = torch.where(torch.tensor(_special(batch)), batch.input_ids,
                            torch.full_like(batch.input_ids, replacement))
    with torch.no_grad():
        reference = FeatureAblation(probabilities).attribute(
            batch.input_ids, baselines=baselines, target=batch.targets, additional_forward_args=(batch.attention_mask,))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


def _special(batch: Batch) -> list[list[bool]]:
    width = batch.input_ids.shape[1]
    return [[w is None for w in ex.word_ids] + [True] * (width - len(ex.word_ids)) for ex in batch.examples]


@pytest.mark.parametrize("name", VARIANTS)
def test_scores_of_an_example_do_not_depend_on_its_batch(decoders, name):
    classifier = decoders[name]
    batch = make_batch(classifier)
    methods = ("attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients", "occlusion")
    assert_batch_invariant(batch, methods)


def test_the_cli_runs_every_method_on_gpt2_and_llama_and_records_the_choices(decoder_dirs, tmp_path):
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["negative", "positive"] * 6}).to_csv(data, index=False)
    for name in ("gpt2", "llama"):
        out = tmp_path / name / "report.html"
        result = invoke(*run_args(decoder_dirs[name], data, out, "all", "--replacement", "eos"))
        assert result.exit_code == 0, result.output
        saved = json.loads((out.parent / "results" / "run.json").read_text())
        assert saved["model"]["task"] == "decoder_classification"
        assert saved["model"]["replacement"]["choice"] == "eos"
        assert "the end-of-sequence token" in saved["model"]["padding"]
        page = out.read_text(encoding="utf-8")
        assert "decoder_classification" in page and "end-of-sequence token" in page


def test_a_replacement_outside_the_vocabulary_is_one_line(decoder_dirs, tmp_path):
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS, "label": [0, 1] * 3}).to_csv(data, index=False)
    result = invoke(*run_args(decoder_dirs["gpt2"], data, tmp_path / "r.html", "occlusion", "--replacement", "[MASK]"))
    assert_one_line_error(result, r"--replacement '\[MASK\]' is not a token of the tokenizer's vocabulary")
