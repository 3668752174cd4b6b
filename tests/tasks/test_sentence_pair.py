"""Sentence pairs (NLI, paraphrase): both texts encoded as the tokenizer pairs them, token types where the model
reads them, words per segment, every method over both segments, the segment-share statistic, checked against
Captum; bad pair columns refused in one line or recorded per example."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

from reportgen.api import explain, write_outputs
from reportgen.errors import ReportgenError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explain.perturbed import PerturbedText, perturbed_text
from reportgen.explain.pooling import example_seed
from reportgen.explainers import explainers
from reportgen.explainers.shap_explainer import pair_pieces
from reportgen.load.data import load_dataset
from reportgen.load.model import load_classifier
from reportgen.measure import compute_metrics
from reportgen.report.charts.examples import BOUNDARY_RULE
from reportgen.report.render import render_html
from reportgen.report.sections.examples import explorer, pair_starts
from reportgen.results import store
from reportgen.results.records import Example, RunResult
from reportgen.results.schema import check_example
from reportgen.tasks.sentence_pair import SentencePair, token_types

from support.captum_checks import assert_batch_invariant, assert_rows_match, captum_occlusion, special_positions
from support.cli import assert_one_line_error, invoke, run_args
from support.pair_models import HYPOTHESES, PAIR_KINDS, build_pair_folder, pair_rows
from support.tiny_models import CORPUS

CHEAP_METHODS = ("attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients",
                 "layer_integrated_gradients", "occlusion", "random")
TEXT_METHODS = ("lime", "shap")  # they perturb the text itself: the pair joined by its separator tokens


@pytest.fixture(scope="module")
def pair_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    return {kind: build_pair_folder(root / kind, kind) for kind in PAIR_KINDS}


@pytest.fixture(scope="module")
def pairs(pair_dirs):
    return {kind: load_classifier(folder, device="cpu", paired=True) for kind, folder in pair_dirs.items()}


@pytest.fixture
def pair_csv(tmp_path):
    path = tmp_path / "pairs.csv"
    pd.DataFrame(pair_rows(2)).to_csv(path, index=False)
    return path


def pair_args(model, data, out, methods, *extra):
    return run_args(model, data, out, methods, "--text-column", "premise", "--text-pair-column", "hypothesis", *extra)


def make_batch(classifier) -> Batch:
    """The tiny corpus against the hypotheses in one right-padded batch, targets cycling through the classes."""
    examples = []
    for i, (text, pair, enc) in enumerate(zip(CORPUS, HYPOTHESES, classifier.encode(list(CORPUS), HYPOTHESES))):
        ex = Example(index=i, text=text, text_pair=pair, label=0, input_ids=enc.input_ids, tokens=enc.tokens,
                     word_ids=enc.word_ids, words=enc.words, word_segments=enc.word_segments)
        ex.target = i % len(classifier.labels)
        examples.append(ex)
    batch = Batch(ModelRunner(classifier), examples)
    assert len(set(batch.lengths)) > 1
    return batch


def tokenizer_types(classifier, batch) -> torch.Tensor:
    """The token types the tokenizer itself gives each pair, padded with 0 (zeros for a model without types)."""
    types = torch.zeros_like(batch.input_ids)
    if classifier.model.config.type_vocab_size > 1:
        enc = classifier.tokenizer(list(CORPUS), HYPOTHESES, return_token_type_ids=True)
        for row, values in enumerate(enc["token_type_ids"]):
            types[row, : len(values)] = torch.tensor(values)
    return types


def own_logits(classifier):
    return lambda ids, mask, types: classifier.model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits


# ----------------------------------------------------------------------------- choosing and encoding


def test_auto_picks_sentence_pair_for_two_texts_and_not_for_one(pairs, pair_dirs):
    assert {classifier.task.name for classifier in pairs.values()} == {"sentence_pair"}
    assert load_classifier(pair_dirs["bert"], device="cpu").task.name == "sequence_classification"
    assert SentencePair.fits(SimpleNamespace(model_type="bert"), paired=True)
    assert not SentencePair.fits(SimpleNamespace(model_type="bert"), paired=False)
    assert not SentencePair.fits(SimpleNamespace(model_type="gpt2"), paired=True)
    assert pairs["bert"].info["segments"] == "token types from the separator"
    assert pairs["roberta"].info["segments"] == "no token types (the model has none)"


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_words_are_cut_per_segment_and_numbered_through(pairs, kind):
    classifier = pairs[kind]
    (enc,) = classifier.encode(["Unbelievable acting, really"], ["The film was FUN"])
    assert enc.words == ["Unbelievable", "acting", ",", "really", "The", "film", "was", "FUN"]
    assert enc.word_segments == [0, 0, 0, 0, 1, 1, 1, 1]
    words = [w for w in enc.word_ids if w is not None]
    assert words == sorted(words) and set(words) == set(range(8))
    separator = classifier.tokenizer.sep_token
    for token, word in zip(enc.tokens, enc.word_ids):
        assert (word is None) == (token in (separator, classifier.tokenizer.cls_token))
    assert enc.tokens.count(separator) == (2 if kind == "bert" else 3)  # RoBERTa: </s></s> between the texts
    assert not enc.truncated


def test_a_long_text_is_cut_first_and_both_segments_stay(pairs):
    classifier = pairs["bert"]
    (enc,) = classifier.task.encode(classifier.tokenizer, [" ".join(["movie"] * 40)], 16, ["the film was fun"])
    assert enc.truncated and len(enc.input_ids) == 16
    assert enc.word_segments.count(1) == 4 and enc.word_segments.count(0) == 16 - 3 - 4
    with pytest.raises(ValueError, match="reads a pair for every text"):
        classifier.task.encode(classifier.tokenizer, ["a text"], 16)


def test_token_types_start_after_the_first_separator_and_padding_is_zero():
    ids = torch.tensor([[2, 7, 3, 8, 9, 3, 0], [2, 7, 7, 3, 8, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]])
    assert token_types(ids, mask, separator=3).tolist() == [[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1, 1]]


def test_the_token_types_reach_the_model_as_the_tokenizer_makes_them(pairs):
    classifier = pairs["bert"]
    batch = make_batch(classifier)
    types = tokenizer_types(classifier, batch)
    assert types.sum() > 0
    model, task = classifier.model, classifier.task
    with torch.no_grad():
        ours = task.forward(model, batch.input_ids, batch.attention_mask).logits
        embeds = classifier.embeddings()(batch.input_ids)
        through_embeds = task.forward(model, batch.input_ids, batch.attention_mask, inputs_embeds=embeds).logits
        theirs = own_logits(classifier)(batch.input_ids, batch.attention_mask, types)
        without_types = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
    torch.testing.assert_close(through_embeds, theirs, rtol=0, atol=1e-5)
    assert (ours - without_types).abs().max() > 1e-3  # the types change the logits (float noise is ~1e-7)


def test_a_model_without_token_types_gets_none(pairs):
    classifier = pairs["roberta"]
    batch = make_batch(classifier)
    with torch.no_grad():
        ours = classifier.task.forward(classifier.model, batch.input_ids, batch.attention_mask).logits
        plain = classifier.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    torch.testing.assert_close(ours, plain, rtol=0, atol=0)


# ----------------------------------------------------------------------------- against Captum


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_integrated_gradients_matches_captum_with_the_same_token_types(pairs, kind):
    classifier = pairs[kind]
    batch = make_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    baseline = torch.where(special_positions(batch), batch.input_ids,
                           torch.full_like(batch.input_ids, classifier.pad_id))
    reference = LayerIntegratedGradients(own_logits(classifier), classifier.embeddings()).attribute(
        batch.input_ids, baselines=baseline, target=batch.targets,
        additional_forward_args=(batch.attention_mask, tokenizer_types(classifier, batch)),
        n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_saliency_matches_captum(pairs, kind):
    classifier = pairs[kind]
    batch = make_batch(classifier)
    ours = explainers.get("saliency")().attribute(batch)
    gradient = LayerGradientXActivation(own_logits(classifier), classifier.embeddings(), multiply_by_inputs=False)
    reference = gradient.attribute(batch.input_ids, target=batch.targets,
                                   additional_forward_args=(batch.attention_mask, tokenizer_types(classifier, batch)))
    assert_rows_match([e.tokens for e in ours], reference.norm(dim=-1), batch)


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_occlusion_matches_captum_feature_ablation(pairs, kind):
    classifier = pairs[kind]
    batch = make_batch(classifier)
    ours = explainers.get("occlusion")().attribute(batch)
    probabilities = lambda *args: torch.softmax(own_logits(classifier)(*args), dim=-1)  # noqa: E731
    reference = captum_occlusion(probabilities, batch, classifier.replacement_id, batch.attention_mask,
                                 tokenizer_types(classifier, batch))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_scores_of_an_example_do_not_depend_on_its_batch(pairs, kind):
    batch = make_batch(pairs[kind])
    methods = ("attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients", "occlusion")
    assert_batch_invariant(batch, methods)


# ----------------------------------------------------------------------------- whole runs


@pytest.fixture(scope="module")
def pair_run(pairs, tmp_path_factory):
    """Every method but lime and shap over the pair data through the API, with every statistic."""
    path = tmp_path_factory.mktemp("pair_data") / "pairs.csv"
    rows = pair_rows(2)
    rows[3]["hypothesis"] = ""  # a missing pair: a recorded failure, the run goes on
    pd.DataFrame(rows).to_csv(path, index=False)
    classifier = pairs["bert"]
    data = load_dataset(path, classifier.labels, text_column="premise", text_pair_column="hypothesis")
    return explain(classifier, data, methods=list(CHEAP_METHODS), progress=False,
                   method_params={"integrated_gradients": {"n_steps": 4}, "layer_integrated_gradients": {"n_steps": 4}})


def test_every_method_scores_tokens_of_both_segments(pair_run):
    explained = [ex for ex in pair_run.examples if ex.ok]
    assert len(explained) == 11 and pair_run.model["task"] == "sentence_pair"
    for method in CHEAP_METHODS:
        for ex in explained:
            words = np.abs(pair_run.attributions[method][ex.index].words)
            segments = np.asarray(ex.word_segments)
            assert words[segments == 0].sum() > 0 and words[segments == 1].sum() > 0, (method, ex.index)


def test_a_missing_pair_is_a_failure_with_its_reason(pair_run):
    (failed,) = [ex for ex in pair_run.examples if not ex.ok]
    assert failed.index == 3 and failed.error == "text pair is empty"
    assert [f.reason for f in pair_run.failures if f.example == 3] == ["text pair is empty"]


def test_faithfulness_and_occlusion_never_remove_special_or_separator_tokens(pairs, pair_run, monkeypatch):
    seen: list[tuple[int, ...]] = []
    original = ModelRunner.predict_ids

    def recorded(self, id_lists, *args, **kwargs):
        seen.extend(tuple(ids) for ids in id_lists)
        return original(self, id_lists, *args, **kwargs)

    monkeypatch.setattr(ModelRunner, "predict_ids", recorded)
    run = RunResult(**{**pair_run.__dict__, "metrics": {}})
    runner = ModelRunner(pairs["bert"])
    compute_metrics(run, runner, ["faithfulness"])
    explainers.get("occlusion")().attribute(Batch(runner, [ex for ex in run.examples if ex.ok]))
    assert run.metrics["faithfulness"].get("error") is None and len(seen) > 100
    replacement = pairs["bert"].replacement_id
    removed_in_pair = 0
    for ids in seen:
        candidates = [ex for ex in run.examples if ex.ok and len(ex.input_ids) == len(ids)]
        changed = [[p for p, (a, b) in enumerate(zip(ex.input_ids, ids)) if a != b] for ex in candidates]
        fits = [(ex, positions) for ex, positions in zip(candidates, changed)
                if all(ex.word_ids[p] is not None and ids[p] == replacement for p in positions)]
        assert fits, "an input changed a special or separator token"
        ex, positions = fits[0]
        removed_in_pair += any(ex.word_segments[ex.word_ids[p]] == 1 for p in positions)
    assert removed_in_pair > 0  # tokens of the pair are removed too


def test_the_results_keep_the_pair_and_segments_and_the_report_shows_both(pair_run, tmp_path):
    outputs = write_outputs(pair_run, tmp_path / "report.html")
    saved = store.load(outputs["results"])
    first = saved.examples[0]
    assert first.text_pair == HYPOTHESES[0] and first.word_segments == pair_run.examples[0].word_segments
    assert saved.metrics["segment_share"]["result"]["methods"][0]["examples"] == 11
    page = outputs["report"].read_text(encoding="utf-8")
    assert '<span class="segment-name">Pair</span> the film was fun' in page
    assert "Text or pair: where the attribution mass lies" in page and "where the pair begins" in page


def test_results_of_one_text_carry_no_pair_fields_and_older_lines_load(classifier, tmp_path):
    run = RunResult(model={"labels": ["negative", "positive"]}, examples=[Example(index=0, text="a film")])
    folder = store.save(run, tmp_path / "results")
    line = json.loads((folder / "examples.jsonl").read_text().splitlines()[0])
    assert "text_pair" not in line and "word_segments" not in line
    loaded = store.load(folder).examples[0]
    assert loaded.text_pair is None and loaded.word_segments is None
    html = render_html(store.load(folder))
    assert "Text or pair" not in html and '<span class="segment-name">' not in html


def test_word_segments_that_do_not_match_the_words_are_refused(pair_run, tmp_path):
    folder = store.save(pair_run, tmp_path / "results")
    row = json.loads((folder / "examples.jsonl").read_text().splitlines()[0])
    check_example(row, 1, path=folder / "examples.jsonl", classes=3, version=store.FORMAT_VERSION)
    row["word_segments"] = row["word_segments"][:-1]
    with pytest.raises(ReportgenError, match="line 1: word_segments holds 12 segments for the 13 words"):
        check_example(row, 1, path=folder / "examples.jsonl", classes=3, version=store.FORMAT_VERSION)
    row["word_segments"] = [2] * 13
    with pytest.raises(ReportgenError, match=r"word_segments\[\d+\] must be at most 1"):
        check_example(row, 1, path=folder / "examples.jsonl", classes=3, version=store.FORMAT_VERSION)


# ----------------------------------------------------------------------------- lime and shap against the packages

JOINERS = {"bert": "[SEP]", "roberta": "</s></s>"}  # what each tokenizer puts between a pair's two texts
TEXT_SEED, LIME_SAMPLES, SHAP_EVALS = 3, 60, 80


def direct_probabilities(classifier, joiner):
    """Class probabilities of joined strings from the model itself: each split at ``joiner`` and encoded as a
    pair by the tokenizer, with the tokenizer's own token types."""

    def probabilities(strings):
        halves = [str(s).split(joiner, 1) for s in strings]
        enc = classifier.tokenizer([a for a, _ in halves], [b for _, b in halves], padding=True, truncation=True,
                                   return_token_type_ids=True,
                                   max_length=classifier.max_length, return_tensors="pt")
        with torch.no_grad():
            return torch.softmax(classifier.model(**enc).logits.float(), dim=-1).double().numpy()

    return probabilities


@pytest.fixture(scope="module")
def text_method_runs(pairs, tmp_path_factory):
    """lime and shap over four pairs, per architecture."""
    path = tmp_path_factory.mktemp("pair_text_methods") / "pairs.csv"
    pd.DataFrame(pair_rows()[:4]).to_csv(path, index=False)
    runs = {}
    for kind, classifier in pairs.items():
        data = load_dataset(path, classifier.labels, text_column="premise", text_pair_column="hypothesis")
        runs[kind] = explain(classifier, data, methods=list(TEXT_METHODS), progress=False, seed=TEXT_SEED,
                             method_params={"lime": {"num_samples": LIME_SAMPLES},
                                            "shap": {"max_evals": SHAP_EVALS}})
    return runs


@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_lime_matches_the_package_on_the_joined_pair(pairs, text_method_runs, kind):
    from lime.lime_text import LimeTextExplainer

    classifier, run = pairs[kind], text_method_runs[kind]
    assert not run.failures
    for ex in run.examples:
        words = list(ex.words)
        explainer = LimeTextExplainer(kernel_width=25, feature_selection="none", split_expression=lambda t: words,
                                      bow=False, mask_string="", random_state=example_seed(TEXT_SEED, ex.index))
        result = explainer.explain_instance(ex.text + JOINERS[kind] + ex.text_pair,
                                            direct_probabilities(classifier, JOINERS[kind]), labels=(ex.target,),
                                            num_features=len(words), num_samples=LIME_SAMPLES)
        expected = np.zeros(len(words))
        for feature, weight in result.local_exp[ex.target]:
            expected[feature] = weight
        got = np.asarray(run.attributions["lime"][ex.index].words)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * max(1.0, np.abs(expected).max()))
        segments = np.asarray(ex.word_segments)
        assert np.abs(got[segments == 0]).sum() > 0 and np.abs(got[segments == 1]).sum() > 0


def test_shap_matches_the_package_on_the_joined_pair(pairs, text_method_runs):
    """BERT: shap's own Text masker cuts "premise[SEP]hypothesis" into the pair's tokens and keeps the [SEP]
    (the documented way to explain a pair with shap), so its values are reportgen's."""
    import shap

    classifier, run = pairs["bert"], text_method_runs["bert"]
    for ex in run.examples:
        probabilities = direct_probabilities(classifier, "[SEP]")
        np.random.seed(example_seed(TEXT_SEED, ex.index))
        explainer = shap.Explainer(lambda strings: probabilities(strings)[:, ex.target],
                                   shap.maskers.Text(classifier.tokenizer))
        result = explainer([ex.text + "[SEP]" + ex.text_pair], max_evals=SHAP_EVALS, silent=True)
        got = run.attributions["shap"][ex.index]
        np.testing.assert_allclose(got.tokens, result.values[0], rtol=0, atol=1e-6)
        assert got.extra["additivity_gap"] == pytest.approx(0, abs=1e-6)
        segments = np.asarray(ex.word_segments)
        assert np.abs(np.asarray(got.words)[segments == 1]).sum() > 0


def test_shap_cuts_a_roberta_pair_into_its_own_tokens(pairs, text_method_runs):
    """RoBERTa's tokenizer shifts the offsets of the second text's first token when the joined string is
    tokenised whole, so reportgen hands the masker the pair's own pieces: they spell the joined string, the
    separators are pieces of their own, and the masked strings split back into two texts."""
    classifier, run = pairs["roberta"], text_method_runs["roberta"]
    ex = run.examples[0]
    pieces = pair_pieces(classifier.tokenizer, ex.text, ex.text_pair, "</s></s>")
    assert "".join(pieces) == ex.text + "</s></s>" + ex.text_pair and pieces.count("</s>") == 2
    assert len(pieces) == len(ex.input_ids) and pieces[0] == pieces[-1] == ""
    for ex in run.examples:
        got = run.attributions["shap"][ex.index]
        assert got.extra["additivity_gap"] == pytest.approx(0, abs=1e-6)
        assert got.extra["evaluations"] <= SHAP_EVALS + 2


def test_a_text_holding_the_separator_is_a_failure_for_lime_and_shap(pairs):
    classifier = pairs["bert"]
    ex = Example(index=0, text="good [SEP] film", text_pair="bad", word_ids=[None, 0, None, 1, None, 2, None],
                 tokens=["[CLS]", "good", "[SEP]", "film", "[SEP]", "bad", "[SEP]"], words=["good", "film", "bad"],
                 word_segments=[0, 0, 1])
    with pytest.raises(ValueError, match=r"holds the separator token '\[SEP\]'"):
        perturbed_text(classifier, ex)
    perturbed = PerturbedText("a[SEP]b", "[SEP]")
    assert perturbed.inputs(["a [MASK][SEP] b"]) == [("a [MASK]", " b")]
    with pytest.raises(ValueError, match="lost the separator"):
        perturbed.inputs(["a b"])


# ----------------------------------------------------------------------------- the command line and bad input


def test_a_missing_or_empty_pair_column_is_one_line_through_the_loader(pairs, tmp_path):
    path = tmp_path / "pairs.jsonl"
    pd.DataFrame({"premise": CORPUS, "hypothesis": [None] * len(CORPUS), "label": ["neutral"] * len(CORPUS)}).to_json(
        path, orient="records", lines=True)
    with pytest.raises(ReportgenError, match="text pair column 'hypothesis' of .* holds no texts"):
        load_dataset(path, pairs["bert"].labels, text_column="premise", text_pair_column="hypothesis")
    with pytest.raises(ReportgenError, match="text pair column 'nope' is not in"):
        load_dataset(path, pairs["bert"].labels, text_column="premise", text_pair_column="nope")


def test_the_cli_runs_every_method_on_pairs_and_auto_picks_the_task(pair_dirs, pair_csv, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(*pair_args(pair_dirs["bert"], pair_csv, out, "all", "--param", "lime.num_samples=40",
                               "--param", "shap.max_evals=64"))
    assert result.exit_code == 0, result.output
    saved = store.load(out.parent / "results")
    assert saved.model["task"] == "sentence_pair"
    for method in CHEAP_METHODS:
        for ex in saved.examples:
            words = np.abs(saved.attributions[method][ex.index].words)
            segments = np.asarray(ex.word_segments)
            assert words[segments == 0].sum() > 0 and words[segments == 1].sum() > 0, (method, ex.index)


def test_lime_and_shap_score_both_segments(pair_dirs, pair_csv, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(*pair_args(pair_dirs["roberta"], pair_csv, out, ",".join(TEXT_METHODS),
                               "--param", "lime.num_samples=40", "--param", "shap.max_evals=64"))
    assert result.exit_code == 0, result.output
    saved = store.load(out.parent / "results")
    assert not saved.failures, saved.failures[0]


def test_a_missing_pair_column_is_one_line(pair_dirs, pair_csv, tmp_path):
    result = invoke(*run_args(pair_dirs["bert"], pair_csv, tmp_path / "r.html", "saliency",
                              "--text-column", "premise", "--text-pair-column", "nope"))
    assert_one_line_error(result, r"text pair column 'nope' is not in")


def test_an_all_empty_pair_column_is_one_line(pair_dirs, tmp_path):
    path = tmp_path / "pairs.csv"
    pd.DataFrame({"premise": CORPUS, "hypothesis": [" "] * len(CORPUS)}).to_csv(path, index=False)
    result = invoke(*pair_args(pair_dirs["bert"], path, tmp_path / "r.html", "saliency"))
    assert_one_line_error(result, r"text pair column 'hypothesis' of .* holds no texts")


def test_a_pair_column_for_a_task_of_one_text_and_the_other_way_round_are_one_line(pair_dirs, pair_csv,
                                                                                   tmp_path):
    result = invoke(*pair_args(pair_dirs["bert"], pair_csv, tmp_path / "r.html", "saliency",
                               "--task", "sequence_classification"))
    assert_one_line_error(result, r"--text-pair-column gives two texts per example, but the "
                                  r"sequence_classification task reads one; .*\(sentence_pair\)")
    result = invoke(*run_args(pair_dirs["bert"], pair_csv, tmp_path / "r.html", "saliency", "--text-column",
                              "premise", "--task", "sentence_pair"))
    assert_one_line_error(result, r"the sentence_pair task reads two texts per example: .*--text-pair-column")


def test_some_empty_pairs_are_recorded_failures_and_the_run_goes_on(pair_dirs, tmp_path):
    rows = pair_rows()
    rows[1]["hypothesis"], rows[4]["hypothesis"] = "", "   "
    path = tmp_path / "pairs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "report.html"
    result = invoke(*pair_args(pair_dirs["bert"], path, out, "saliency"))
    assert result.exit_code == 0, result.output
    saved = store.load(out.parent / "results")
    reasons = {f.example: f.reason for f in saved.failures}
    assert set(reasons) == {1, 4} and all(reason.startswith("text pair is") for reason in reasons.values())
    assert len(saved.attributions["saliency"]) == len(rows) - 2


def test_the_explorer_marks_where_the_pair_begins(pair_run):
    context = explorer(pair_run)
    templates = {t.id: t.spec for t in context["templates"]}
    for template_id in ("tpl-tokens", "tpl-words", "tpl-layers"):
        heat, rule = templates[template_id]["layer"]
        assert heat["mark"]["type"] == "rect" and rule["mark"] == BOUNDARY_RULE
    ex = pair_run.examples[0]
    (row,) = next(item for item in context["examples"] if item["index"] == 0)["data"]["tok"]
    first_pair_word = ex.word_segments.index(1)
    assert row["B"] == first_pair_word and ex.word_ids[row["b"]] == first_pair_word
    assert ex.tokens[row["b"] - 1] == "[SEP]" and context["notes"]["pairs"]
    assert pair_starts(Example(index=9, text="a", words=["a"], word_ids=[None, 0, None], word_segments=[0])) == \
        {"b": -1, "B": -1}
