"""Causal language models (GPT-2, Llama style): each output token explained on its own, with respect to the
prompt and the output before it; checked against a manual forward, transformers' generate, a greedy loop of
our own and Captum (LayerIntegratedGradients, LLMGradientAttribution, FeatureAblation)."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import numpy as np
import pytest
import torch
from captum.attr import (FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients, LLMGradientAttribution,
                         TextTokenInput)

from reportgen.api import explain
from reportgen.errors import ReportgenError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explainers import explainers
from reportgen.load.model import load_classifier
from reportgen.results import store

from support.captum_checks import assert_batch_invariant, assert_rows_match, special_positions
from support.cli import assert_one_line_error, invoke
from support.decoder_models import build_decoder_folder
from support.generation_models import REFERENCES, SOURCES, build_lm_folder, check_gold_alignments, write_generation_data

KINDS = ("gpt2", "llama")
CHEAP = ["attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients", "occlusion", "random"]
FAST = {"integrated_gradients": {"n_steps": 16}}
REFERENCE_COLUMNS = {"source_column": "source", "target_column": "reference", "alignment_column": "gold"}


@pytest.fixture(scope="module")
def lm_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    return {kind: build_lm_folder(root / kind, kind) for kind in KINDS}


@pytest.fixture(scope="module")
def lms(lm_dirs):
    return {kind: load_classifier(folder, device="cpu") for kind, folder in lm_dirs.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("generation_data")
    return {"reference": write_generation_data(root / "references.jsonl"),
            "greedy": write_generation_data(root / "sources.jsonl", references=False)}


@pytest.fixture(scope="module")
def runs(lms, data):
    """Per kind, a teacher-forced run on the references and a greedy one (4 new tokens)."""
    made = {}
    for kind, model in lms.items():
        made[kind, "reference"] = explain(model, data["reference"], methods=CHEAP, progress=False,
                                          method_params=FAST, **REFERENCE_COLUMNS)
        made[kind, "greedy"] = explain(load_classifier(model.name, device="cpu", max_new_tokens=4), data["greedy"],
                                       methods=CHEAP, progress=False, method_params=FAST, source_column="source")
    return made


def units_of(run, row):
    return [ex for ex in run.examples if ex.row == row and ex.step is not None]


def full_logits(model, ids):
    return model.model(input_ids=torch.tensor([ids])).logits[0].float()


def test_auto_picks_generation_for_causal_lms_only(lms, bert_dir, tmp_path):
    assert {model.task.name for model in lms.values()} == {"generation"}
    classifier = build_decoder_folder(tmp_path / "classifier", "gpt2")
    assert load_classifier(classifier, device="cpu").task.name == "decoder_classification"
    with pytest.raises(ReportgenError, match="the generation task reads a causal language model"):
        load_classifier(bert_dir, device="cpu", task="generation")


@pytest.mark.parametrize("kind", KINDS)
def test_a_reference_is_explained_token_by_token_under_teacher_forcing(lms, runs, kind):
    model, run = lms[kind], runs[kind, "reference"]
    for row, reference in enumerate(REFERENCES):
        units = units_of(run, row)
        generated = units[0].generated
        expected_ids = model.tokenizer(" " + reference, add_special_tokens=False)["input_ids"]
        assert generated["ids"] == expected_ids and generated["from"] == "reference"
        prompt = model.tokenizer(SOURCES[row])["input_ids"]
        assert generated["start"] == len(prompt)
        logits = full_logits(model, prompt + expected_ids).log_softmax(dim=-1)
        manual = [float(logits[len(prompt) - 1 + k, token].detach()) for k, token in enumerate(expected_ids)]
        np.testing.assert_allclose(generated["log_probs"], manual, rtol=0, atol=1e-5)
        assert [u.step["k"] for u in units] == list(range(len(expected_ids)))
        for k, unit in enumerate(units):
            assert unit.input_ids == prompt + expected_ids[:k] and unit.target == expected_ids[k]
            assert unit.step["position"] == len(unit.input_ids)


CHAT = "{% for m in messages %}<s>[user] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[bot]\n{% endif %}"


def test_the_chat_template_frames_the_prompt_only_when_asked(lm_dirs, data, tmp_path):
    from transformers import AutoTokenizer

    folder = shutil.copytree(lm_dirs["llama"], tmp_path / "chat")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = CHAT
    tokenizer.save_pretrained(folder)
    framed = load_classifier(folder, device="cpu", chat_template=True)
    chat = explain(framed, data["reference"], methods=["saliency"], progress=False, **REFERENCE_COLUMNS)
    plain = explain(load_classifier(folder, device="cpu"), data["reference"], methods=["saliency"], progress=False,
                    **REFERENCE_COLUMNS)
    for row, source in enumerate(SOURCES):
        text = tokenizer.apply_chat_template([{"role": "user", "content": source}], tokenize=False,
                                             add_generation_prompt=True)
        assert text == f"<s>[user] {source}\n[bot]\n"
        prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
        reference = tokenizer(REFERENCES[row], add_special_tokens=False)["input_ids"]  # the prompt ends in a newline
        generated = units_of(chat, row)[0].generated
        assert units_of(chat, row)[0].input_ids == prompt and generated["ids"] == reference
        logits = full_logits(framed, prompt + reference).log_softmax(dim=-1)
        manual = [float(logits[len(prompt) - 1 + k, token].detach()) for k, token in enumerate(reference)]
        np.testing.assert_allclose(generated["log_probs"], manual, rtol=0, atol=1e-5)
        assert units_of(plain, row)[0].input_ids == tokenizer(source)["input_ids"]
    assert chat.model["chat_template_sha256"] == hashlib.sha256(CHAT.encode()).hexdigest()
    assert "chat_template_sha256" not in plain.model
    assert chat.metrics["alignment"]["result"]["gold_rows"] == len(SOURCES)  # the source found inside the frame
    assert framed.task.fingerprint() == (*load_classifier(folder, device="cpu").task.fingerprint(), "chat_template",
                                         chat.model["chat_template_sha256"])


def test_a_tokenizer_without_a_chat_template_refuses_the_flag(lm_dirs, data, tmp_path):
    result = invoke("run", "--model", lm_dirs["gpt2"], "--data", data["reference"], "--out", tmp_path / "r.html",
                    "--quiet", "--source-column", "source", "--chat-template")
    assert_one_line_error(result, "--chat-template: the tokenizer of model .* has no chat template")


@pytest.mark.parametrize("kind", KINDS)
def test_the_greedy_output_is_generates_and_a_greedy_loop_of_our_own(lms, runs, kind):
    model, run = lms[kind], runs[kind, "greedy"]
    for row, source in enumerate(SOURCES):
        generated = units_of(run, row)[0].generated
        prompt = model.tokenizer(source)["input_ids"]
        ids = list(prompt)
        for _ in range(4):  # argmax of the next token, fed back
            ids.append(int(full_logits(model, ids)[-1].argmax()))
            if ids[-1] == model.tokenizer.eos_token_id:
                break
        assert generated["ids"] == ids[len(prompt):] and generated["from"] == "greedy"
        assert generated["text"] == model.tokenizer.decode(ids[len(prompt):])


def unit_batch(model, run) -> Batch:
    units = [ex for ex in run.examples if ex.step is not None][:8]
    batch = Batch(ModelRunner(model), units)
    assert len(set(batch.lengths)) > 1
    return batch


def target_log_probs(model):
    """The explained token's log-probability from transformers' own language model head, at each row's last
    real token (batches are right-padded)."""
    def forward(ids, mask):
        logits = model.model(input_ids=ids, attention_mask=mask).logits
        last = mask.sum(dim=1) - 1
        return logits[torch.arange(len(ids)), last].float().log_softmax(dim=-1)
    return forward


@pytest.mark.parametrize("kind", KINDS)
def test_integrated_gradients_matches_captum_with_the_output_prefix_held_fixed(lms, runs, kind):
    model = lms[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    kept = special_positions(batch) | torch.tensor(batch.task.held_fixed(batch.examples, batch.input_ids.shape[1]))
    baseline = torch.where(kept, batch.input_ids, torch.full_like(batch.input_ids, model.pad_id))
    reference = LayerIntegratedGradients(target_log_probs(model), model.embeddings()).attribute(
        batch.input_ids, baselines=baseline, target=batch.targets, additional_forward_args=(batch.attention_mask,),
        n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)
    for explanation, ex in zip(ours, batch.examples):
        assert np.all(explanation.tokens[ex.generated["start"]:] == 0)  # the output prefix is held fixed


@pytest.mark.parametrize("kind", KINDS)
def test_saliency_and_grad_x_input_match_captum(lms, runs, kind):
    model = lms[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    saliency = explainers.get("saliency")().attribute(batch)
    grad_x_input = explainers.get("grad_x_input")().attribute(batch)
    args = dict(target=batch.targets, additional_forward_args=(batch.attention_mask,))
    gradient = LayerGradientXActivation(target_log_probs(model), model.embeddings(), multiply_by_inputs=False)
    product = LayerGradientXActivation(target_log_probs(model), model.embeddings())
    assert_rows_match([e.tokens for e in saliency], gradient.attribute(batch.input_ids, **args).norm(dim=-1), batch)
    assert_rows_match([e.tokens for e in grad_x_input], product.attribute(batch.input_ids, **args).sum(dim=-1), batch)


@pytest.mark.parametrize("kind", KINDS)
def test_grad_x_input_equals_captums_llm_attribution_matrix_on_the_prompt(lms, runs, kind):
    """Captum's LLMGradientAttribution gives, per output token, grad x input on the prompt's tokens: the
    prompt's columns of the row's source x target matrix."""
    model, run = lms[kind], runs[kind, "reference"]
    units = units_of(run, 0)
    start = units[0].generated["start"]
    tokens = torch.tensor(units[0].generated["ids"])
    prompt = TextTokenInput(SOURCES[0], model.tokenizer, skip_tokens=[])
    llm = LLMGradientAttribution(LayerGradientXActivation(model.model, model.embeddings()), model.tokenizer)
    reference = llm.attribute(prompt, target=tokens).token_attr.detach().double().numpy()
    ours = np.array([run.attributions["grad_x_input"][unit.index].tokens[:start] for unit in units])
    assert reference.shape == ours.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5 * np.abs(reference).max())


@pytest.mark.parametrize("kind", KINDS)
def test_occlusion_matches_captum_feature_ablation(lms, runs, kind):
    model = lms[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    ours = explainers.get("occlusion")().attribute(batch)
    probabilities = lambda ids, mask: target_log_probs(model)(ids, mask).exp()  # noqa: E731
    baselines = torch.where(special_positions(batch), batch.input_ids,
                            torch.full_like(batch.input_ids, model.replacement_id))
    with torch.no_grad():
        reference = FeatureAblation(probabilities).attribute(
            batch.input_ids, baselines=baselines, target=batch.targets, additional_forward_args=(batch.attention_mask,))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_scores_of_a_unit_do_not_depend_on_its_batch(lms, runs, kind):
    batch = unit_batch(lms[kind], runs[kind, "reference"])
    assert_batch_invariant(batch, ("attention", "attention_rollout", "saliency", "grad_x_input",
                                   "integrated_gradients", "occlusion"))


def test_the_attention_methods_read_the_position_that_predicts_the_token(lms, runs):
    batch = unit_batch(lms["gpt2"], runs["gpt2", "reference"])
    assert batch.task.query_positions(batch.examples) == [length - 1 for length in batch.lengths]
    scores = explainers.get("attention")().attribute(batch)
    last = batch.attentions()[-1].mean(dim=1)
    for row, (explanation, length) in enumerate(zip(scores, batch.lengths)):
        np.testing.assert_allclose(explanation.tokens, last[row, length - 1, :length].numpy(), atol=1e-6)


def test_perplexity_and_log_probabilities_are_the_outputs(runs):
    run = runs["gpt2", "reference"]
    result = run.metrics["generation"]["result"]
    log_probs = [p for row in range(len(SOURCES)) for p in units_of(run, row)[0].generated["log_probs"]]
    assert result["tokens"] == len(log_probs) and result["rows"] == len(SOURCES) == result["references"]
    assert result["perplexity"] == pytest.approx(math.exp(-sum(log_probs) / len(log_probs)))
    per_row = [np.mean(units_of(run, row)[0].generated["log_probs"]) for row in range(len(SOURCES))]
    assert result["mean_log_probability"] == pytest.approx(np.mean(per_row))
    assert result["mean_log_probability_se"] == pytest.approx(np.std(per_row, ddof=1) / math.sqrt(len(per_row)))
    assert {"faithfulness", "agreement", "cost", "generation"} <= set(run.metrics)
    assert not {"performance", "calibration", "global_words"} & set(run.metrics)


def test_results_load_back_and_a_tampered_output_or_step_is_refused(lms, data, tmp_path):
    from reportgen.results.schema import check_example

    run = explain(lms["gpt2"], data["reference"], methods=["saliency"], progress=False, **REFERENCE_COLUMNS)
    folder = store.save(run, tmp_path / "results")
    back = store.load(folder)
    assert [(ex.step, ex.generated) for ex in back.examples] == [(ex.step, ex.generated) for ex in run.examples]
    row = json.loads((folder / "examples.jsonl").read_text().splitlines()[1])
    vocabulary = run.model["vocabulary"]
    check = lambda r: check_example(r, 2, path=folder / "examples.jsonl", classes=vocabulary,  # noqa: E731
                                    version=store.FORMAT_VERSION)
    check(row)
    generated, step = row["generated"], row["step"]
    for field, value, problem in [
        ("step", {**step, "position": step["position"] + 1}, "step 1 at position"),
        ("step", {**step, "k": 99}, "step 99 at position"),
        ("target", (row["target"] + 1) % vocabulary, "is not the output token after"),
        ("generated", {**generated, "log_probs": generated["log_probs"][:-1]}, "log-probabilities, for a vocabulary"),
        ("generated", {**generated, "ids": [vocabulary] * len(generated["ids"])}, "not a class of the model|the largest"),
        ("generated", {**generated, "from": "sampled"}, "generated.from"),
        ("step", {**step, "log_prob": 0.5}, "step.log_prob must be at most 0"),
    ]:
        with pytest.raises(ReportgenError, match=problem):
            check({**row, field: value})


def test_a_resumed_run_recomputes_nothing(lms, data, tmp_path, monkeypatch):
    first = explain(lms["gpt2"], data["reference"], methods=["saliency", "occlusion"], progress=False,
                    results=tmp_path / "r", **REFERENCE_COLUMNS)
    from reportgen.explain import engine

    monkeypatch.setattr(engine.Engine, "_compute_unit", lambda *a: pytest.fail("recomputed a method's work"))
    monkeypatch.setattr(type(lms["gpt2"].task), "answers", lambda *a: pytest.fail("answered a row again"))
    again = explain(lms["gpt2"], data["reference"], methods=["saliency", "occlusion"], progress=False,
                    results=tmp_path / "r", **REFERENCE_COLUMNS)
    assert [a.tokens for a in again.attributions["occlusion"].values()] == \
        [a.tokens for a in first.attributions["occlusion"].values()]


def test_a_reference_longer_than_the_model_reads_is_cut_and_counted(lm_dirs, tmp_path):
    path = tmp_path / "long.jsonl"
    rows = [{"source": SOURCES[0], "reference": " ".join(["good"] * 80), "gold": "0-0"},
            {"source": SOURCES[1], "reference": "fun", "gold": "0-0"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = explain(load_classifier(lm_dirs["gpt2"], device="cpu"), path, methods=["saliency"], progress=False,
                  **REFERENCE_COLUMNS)
    long, short = units_of(run, 0), units_of(run, 1)
    assert long[0].truncated and not short[0].truncated
    assert long[-1].step["position"] == 63  # the model reads 64 positions
    assert run.dataset["truncated"] >= 1 or any(ex.truncated for ex in run.examples)
    alignment = run.metrics["alignment"]["result"]
    assert (alignment["gold_rows"], alignment["gold_unmatched"]) == (1, 1)  # a cut output cannot be aligned
    assert long[0].generated["gold_words"]["target"] is None


def test_the_cli_writes_a_generation_report(lm_dirs, data, tmp_path):
    out = tmp_path / "report.html"
    result = invoke("run", "--model", lm_dirs["llama"], "--data", data["reference"], "--out", out, "--methods", "all",
                    "--source-column", "source", "--target-column", "reference", "--prompt-template",
                    "Review: {source}", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results" / "run.json").read_text())
    assert saved["model"]["task"] == "generation" and saved["model"]["prompt_template"] == "Review: {source}"
    assert set(saved["model"]["methods_not_applicable"]) == {"lime", "shap"}
    page = out.read_text(encoding="utf-8")
    assert 'id="outputs"' in page and 'id="examples"' not in page and "Output log-probability" in page


@pytest.mark.parametrize("extra, pattern", [
    (["--source-column", "missing", "--target-column", "reference"], "text column 'missing' is not in"),
    (["--source-column", "source", "--target-column", "missing"], "target column 'missing' is not in"),
    (["--source-column", "source", "--prompt-template", "no slot"], "--prompt-template must hold {source} once"),
    (["--source-column", "source", "--methods", "lime"], "lime does not apply to the generation task"),
    (["--source-column", "source", "--text-pair-column", "reference"], "name a generation model's reference"),
    (["--source-column", "source", "--threshold", "0.3"], "--threshold applies to multi-label tasks"),
    (["--source-column", "source", "--alignment-column", "gold"], "--alignment-column needs --target-column"),
    (["--source-column", "source", "--target-column", "reference", "--alignment-column", "links"],
     "alignment column 'links' is not in"),
    (["--source-column", "source", "--rationale-column", "reference"], "--rationale-column gives classifiers'"),
])
def test_bad_generation_input_is_a_one_line_error(lm_dirs, data, tmp_path, extra, pattern):
    result = invoke("run", "--model", lm_dirs["gpt2"], "--data", data["reference"], "--out", tmp_path / "r.html",
                    "--quiet", *extra)
    assert_one_line_error(result, pattern)


@pytest.mark.parametrize("extra, pattern", [
    (["--target-column", "label"], "--target-column applies to the generation, translation and summarization"),
    (["--prompt-template", "x {source}"], "--prompt-template applies to the generation, translation and"),
    (["--max-new-tokens", "3"], "--max-new-tokens applies to the generation, translation and summarization"),
    (["--alignment-column", "label"], "--alignment-column applies to the generation, translation and"),
    (["--chat-template"], "--chat-template applies to the generation, translation and summarization"),
])
def test_generation_options_given_to_a_classifier_are_one_line_errors(bert_dir, csv_file, tmp_path, extra, pattern):
    result = invoke("run", "--model", bert_dir, "--data", csv_file, "--out", tmp_path / "r.html", "--quiet", *extra)
    assert_one_line_error(result, pattern)


def test_an_empty_reference_fails_its_row_alone(lm_dirs, tmp_path):
    path = tmp_path / "some_empty.jsonl"
    rows = [{"source": SOURCES[0], "reference": "", "gold": ""}, {"source": SOURCES[1], "reference": REFERENCES[1]}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = explain(load_classifier(lm_dirs["gpt2"], device="cpu"), path, methods=["saliency"], progress=False,
                  **REFERENCE_COLUMNS)
    assert [f.reason for f in run.failures] == ["target is empty"]
    assert units_of(run, 1)


def test_a_bad_gold_alignment_fails_its_row_alone(lm_dirs, tmp_path):
    path = tmp_path / "bad_gold.jsonl"
    rows = [{"source": SOURCES[0], "reference": REFERENCES[0], "gold": "0-0 one-two"},
            {"source": SOURCES[1], "reference": REFERENCES[1], "gold": "0-0"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = explain(load_classifier(lm_dirs["gpt2"], device="cpu"), path, methods=["saliency"], progress=False,
                  **REFERENCE_COLUMNS)
    assert [f.reason for f in run.failures] == ["alignment: 'one-two' is not a Pharaoh link 'i-j' (or 'i?j')"]
    assert units_of(run, 1) and run.metrics["alignment"]["result"]["gold_rows"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_gold_alignments_are_scored_per_method_and_per_head(lms, runs, kind):
    """The AER of every method from its stored scores, and of every head from the model's own self-attention
    onto the prompt at the positions that predict the output (one call with attention weights)."""
    check_gold_alignments(runs[kind, "reference"], lambda units: self_attention(lms[kind], units))


def self_attention(model, units):
    """[layers, heads, output tokens, prompt tokens] from a manual teacher-forced call."""
    start, ids = units[0].generated["start"], units[0].generated["ids"]
    with torch.no_grad():
        out = model.model(input_ids=torch.tensor([units[0].input_ids[:start] + ids[:-1]]), output_attentions=True)
    return torch.stack(out.attentions)[:, 0, :, start - 1 :, :start].numpy()
