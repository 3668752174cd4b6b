"""Encoder-decoders (T5, BART, Marian style): each output token explained on its own with respect to the
source; checked against a manual forward, a greedy loop of our own and Captum (IntegratedGradients, Saliency,
InputXGradient and FeatureAblation on the model's own forward)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients, Saliency

from reportgen.api import explain
from reportgen.errors import ReportgenError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explainers import explainers
from reportgen.load.model import load_classifier
from reportgen.results import store

from support.captum_checks import assert_batch_invariant, assert_rows_match, special_positions
from support.cli import invoke
from support.generation_models import REFERENCES, SOURCES, build_lm_folder, check_gold_alignments, write_generation_data
from support.seq2seq_models import KINDS, build_seq2seq_folder

CHEAP = ["attention", "saliency", "grad_x_input", "integrated_gradients", "occlusion", "random"]
FAST = {"integrated_gradients": {"n_steps": 16}}
COLUMNS = {"source_column": "source", "target_column": "reference", "alignment_column": "gold"}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq2seq")
    return {kind: build_seq2seq_folder(root / kind, kind) for kind in KINDS}


@pytest.fixture(scope="module")
def models(folders):
    return {kind: load_classifier(folder, device="cpu") for kind, folder in folders.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq2seq_data")
    return {"reference": write_generation_data(root / "references.jsonl"),
            "greedy": write_generation_data(root / "sources.jsonl", references=False)}


@pytest.fixture(scope="module")
def runs(models, folders, data):
    made = {}
    for kind, model in models.items():
        made[kind, "reference"] = explain(model, data["reference"], methods=CHEAP, progress=False,
                                          method_params=FAST, **COLUMNS)
        greedy = load_classifier(folders[kind], device="cpu", max_new_tokens=4)
        made[kind, "greedy"] = explain(greedy, data["greedy"], methods=["saliency"], progress=False,
                                       source_column="source")
    return made


def units_of(run, row):
    return [ex for ex in run.examples if ex.row == row and ex.step is not None]


def test_auto_picks_translation_or_summarization_by_model_type(models, folders, tmp_path):
    assert {kind: model.task.name for kind, model in models.items()} == {
        "t5": "translation", "marian": "translation", "bart": "summarization"}
    assert models["marian"].task.embed_scale == pytest.approx(32 ** 0.5)  # Marian scales its embeddings
    assert models["t5"].task.embed_scale == 1.0
    with pytest.raises(ReportgenError, match="the translation task reads an encoder-decoder"):
        load_classifier(build_lm_folder(tmp_path / "lm", "gpt2"), device="cpu", task="translation")
    with pytest.raises(ReportgenError, match="--chat-template applies to a causal language model"):
        load_classifier(folders["marian"], device="cpu", chat_template=True)


@pytest.mark.parametrize("kind", KINDS)
def test_the_reference_is_teacher_forced_after_the_decoder_start(models, runs, kind):
    model, run = models[kind], runs[kind, "reference"]
    start = model.model.config.decoder_start_token_id
    for row, (source, reference) in enumerate(zip(SOURCES, REFERENCES)):
        units = units_of(run, row)
        generated = units[0].generated
        labels = model.tokenizer(text_target=reference)["input_ids"]
        assert generated["ids"] == labels and generated["start"] is None and generated["decoder_start"] == start
        ids = model.tokenizer(source)["input_ids"]
        with torch.no_grad():
            logits = model.model(input_ids=torch.tensor([ids]),
                                 decoder_input_ids=torch.tensor([[start, *labels[:-1]]])).logits[0]
        manual = logits.log_softmax(dim=-1)[torch.arange(len(labels)), labels]
        np.testing.assert_allclose(generated["log_probs"], manual.numpy(), rtol=0, atol=1e-5)
        for k, unit in enumerate(units):
            assert unit.input_ids == ids and unit.target == labels[k]
            assert unit.step["prefix"] == [start, *labels[:k]] and unit.step["position"] == k


@pytest.mark.parametrize("kind", KINDS)
def test_the_greedy_output_is_generates_and_a_greedy_loop_where_nothing_is_forced(models, runs, kind):
    """Greedy: transformers' generate without sampling or beams, under the rest of the model's generation config
    (Marian's forces its last token); where the config forces nothing, the argmax at every step."""
    model = models[kind]
    start, eos = model.model.config.decoder_start_token_id, model.tokenizer.eos_token_id
    for row, source in enumerate(SOURCES):
        ids = torch.tensor([model.tokenizer(source)["input_ids"]])
        ours = units_of(runs[kind, "greedy"], row)[0].generated["ids"]
        generated = model.model.generate(input_ids=ids, max_new_tokens=4, do_sample=False, num_beams=1)
        assert ours == generated[0, 1:].tolist()
        decoder = [start]
        for _ in range(4):
            with torch.no_grad():
                logits = model.model(input_ids=ids, decoder_input_ids=torch.tensor([decoder])).logits[0, -1]
            decoder.append(int(logits.argmax()))
            if decoder[-1] == eos:
                break
        forced = model.model.generation_config.forced_eos_token_id is not None
        assert ours[:-1] == decoder[1:-1] if forced else ours == decoder[1:]


@pytest.mark.parametrize("kind", KINDS)
def test_beside_a_reference_the_greedy_output_is_made_and_scored(models, runs, kind):
    run = runs[kind, "reference"]
    model = models[kind]
    for row, source in enumerate(SOURCES):
        ids = torch.tensor([model.tokenizer(source)["input_ids"]])
        generated = model.model.generate(input_ids=ids, max_new_tokens=20, do_sample=False, num_beams=1)
        expected = model.tokenizer.decode(generated[0, 1:], skip_special_tokens=True)
        assert units_of(run, row)[0].generated["greedy"] == expected
    result = run.metrics["output_quality"]["result"]
    names = {"translation": ["BLEU", "chrF"], "summarization": ["ROUGE-1", "ROUGE-2", "ROUGE-L"]}[model.task.name]
    assert result["rows"] == len(SOURCES) and [row["score"] for row in result["scores"]] == names


def unit_batch(model, run) -> Batch:
    """Up to three units of each row: sources of different lengths, decoder inputs of different lengths."""
    units = [unit for row in range(len(SOURCES)) for unit in units_of(run, row)[:3]]
    batch = Batch(ModelRunner(model), units)
    assert len(set(batch.lengths)) > 1 and len({len(ex.step["prefix"]) for ex in batch.examples}) > 1
    return batch


def decoder_inputs(batch):
    prefix = batch.targets[:, 1:]
    return prefix.clamp(min=0), (prefix >= 0).long()


def log_probs_of_embeddings(model):
    """The explained token's log-probability from the model's own forward, fed the source's embeddings as its
    encoder reads them (Marian's scale applied here, from the model itself)."""
    scale = float(getattr(model.model.get_encoder(), "embed_scale", 1.0) or 1.0)
    if model.model.config.model_type != "marian":
        scale = 1.0  # T5 and BART's encoders read their input embeddings as given

    def forward(embeds, mask, decoder_ids, decoder_mask):
        out = model.model(inputs_embeds=embeds * scale, attention_mask=mask, decoder_input_ids=decoder_ids,
                          decoder_attention_mask=decoder_mask)
        last = decoder_mask.sum(dim=1) - 1
        return out.logits[torch.arange(len(embeds)), last].float().log_softmax(dim=-1)
    return forward


@pytest.mark.parametrize("kind", KINDS)
def test_integrated_gradients_matches_captum_on_the_source_embeddings(models, runs, kind):
    model = models[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    embed = model.model.get_input_embeddings()
    baseline = torch.where(special_positions(batch), batch.input_ids, torch.full_like(batch.input_ids, model.pad_id))
    with torch.no_grad():
        inputs, baselines = embed(batch.input_ids), embed(baseline)
    reference = IntegratedGradients(log_probs_of_embeddings(model)).attribute(
        inputs, baselines=baselines, target=batch.targets[:, 0],
        additional_forward_args=(batch.attention_mask, *decoder_inputs(batch)), n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", KINDS)
def test_saliency_and_grad_x_input_match_captum(models, runs, kind):
    model = models[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    with torch.no_grad():
        inputs = model.model.get_input_embeddings()(batch.input_ids)
    args = dict(target=batch.targets[:, 0], additional_forward_args=(batch.attention_mask, *decoder_inputs(batch)))
    forward = log_probs_of_embeddings(model)
    gradient = Saliency(forward).attribute(inputs, abs=False, **args)
    product = InputXGradient(forward).attribute(inputs, **args)
    assert_rows_match([e.tokens for e in explainers.get("saliency")().attribute(batch)], gradient.norm(dim=-1), batch)
    assert_rows_match([e.tokens for e in explainers.get("grad_x_input")().attribute(batch)], product.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", KINDS)
def test_occlusion_matches_captum_feature_ablation(models, runs, kind):
    model = models[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    ours = explainers.get("occlusion")().attribute(batch)

    def probabilities(ids, mask, decoder_ids, decoder_mask):
        out = model.model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids,
                          decoder_attention_mask=decoder_mask)
        return out.logits[torch.arange(len(ids)), decoder_mask.sum(dim=1) - 1].float().softmax(dim=-1)

    baselines = torch.where(special_positions(batch), batch.input_ids,
                            torch.full_like(batch.input_ids, model.replacement_id))
    with torch.no_grad():
        reference = FeatureAblation(probabilities).attribute(
            batch.input_ids, baselines=baselines, target=batch.targets[:, 0],
            additional_forward_args=(batch.attention_mask, *decoder_inputs(batch)))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_attention_is_the_last_layers_cross_attention_from_the_decoders_last_position(models, runs, kind):
    model = models[kind]
    batch = unit_batch(model, runs[kind, "reference"])
    ours = explainers.get("attention")().attribute(batch)
    for row, ex in enumerate(batch.examples):
        with torch.no_grad():
            out = model.model(input_ids=torch.tensor([ex.input_ids]), decoder_input_ids=torch.tensor([ex.step["prefix"]]),
                              output_attentions=True)
        expected = out.cross_attentions[-1][0, :, -1].mean(dim=0)
        np.testing.assert_allclose(ours[row].tokens, expected.numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_scores_of_a_unit_do_not_depend_on_its_batch(models, runs, kind):
    batch = unit_batch(models[kind], runs[kind, "reference"])
    # Float32 rounding through T5's padded encoder moves integrated gradients by about 1e-6 of its largest score.
    assert_batch_invariant(batch, ("attention", "saliency", "grad_x_input", "integrated_gradients", "occlusion"),
                           atol=1e-5)


def test_results_load_back_and_a_tampered_prefix_is_refused(runs, tmp_path):
    from reportgen.results.schema import check_example

    run = runs["t5", "reference"]
    folder = store.save(run, tmp_path / "results")
    back = store.load(folder)
    assert [(ex.step, ex.generated) for ex in back.examples] == [(ex.step, ex.generated) for ex in run.examples]
    row = json.loads((folder / "examples.jsonl").read_text().splitlines()[1])
    check = lambda r: check_example(r, 2, path=folder / "examples.jsonl", classes=run.model["vocabulary"],  # noqa: E731
                                    version=store.FORMAT_VERSION)
    check(row)
    for step in ({**row["step"], "prefix": row["step"]["prefix"][:-1]}, {**row["step"], "position": 5}):
        with pytest.raises(ReportgenError, match="is not the output token after"):
            check({**row, "step": step})


def test_the_cli_writes_a_translation_report_with_every_method_that_applies(folders, data, tmp_path):
    out = tmp_path / "report.html"
    result = invoke("run", "--model", folders["t5"], "--data", data["reference"], "--out", out, "--methods", "all",
                    "--source-column", "source", "--target-column", "reference", "--prompt-template",
                    "translate English to German: {source}", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results" / "run.json").read_text())
    assert saved["model"]["task"] == "translation"
    assert set(saved["model"]["methods_not_applicable"]) == {"lime", "shap", "attention_rollout", "value_zeroing",
                                                             "layer_integrated_gradients"}
    page = out.read_text(encoding="utf-8")
    assert 'id="outputs"' in page and "translate English to German" in page


@pytest.mark.parametrize("kind", KINDS)
def test_every_method_gets_its_alignment_figures_over_the_source(runs, kind):
    """Attention weights sum to 1 over the source, so their special share is what lies on the source's special
    tokens: the figures of the stored attention rows, recomputed here."""
    from reportgen.measure.alignment import matrix_figures

    run = runs[kind, "reference"]
    result = {row["method"]: row for row in run.metrics["alignment"]["result"]["methods"]}
    assert set(result) == set(CHEAP) and all(row["rows"] == len(SOURCES) for row in result.values())
    for row in result.values():
        assert all(0 <= row[key] <= 1 for key in ("entropy", "diagonal", "special", "coverage"))
    expected = []
    for row in range(len(SOURCES)):
        units = units_of(run, row)
        matrix = np.array([run.attributions["attention"][u.index].tokens for u in units])
        expected.append(matrix_figures(matrix, np.array([w is not None for w in units[0].word_ids])))
    assert result["attention"]["special"] == pytest.approx(np.mean([e["special"] for e in expected]))
    assert result["attention"]["coverage"] == pytest.approx(np.mean([e["coverage"] for e in expected]))


@pytest.mark.parametrize("kind", KINDS)
def test_gold_alignments_are_scored_per_method_and_per_head(models, runs, kind):
    """The AER of every method from its stored scores, and of every head from the decoder's own
    cross-attention over the source (one teacher-forced call with attention weights)."""
    model = models[kind].model

    def cross_attention(units):
        generated = units[0].generated
        decoder = [[generated["decoder_start"], *generated["ids"][:-1]]]
        with torch.no_grad():
            out = model(input_ids=torch.tensor([units[0].input_ids]), decoder_input_ids=torch.tensor(decoder),
                        output_attentions=True)
        return torch.stack(out.cross_attentions)[:, 0].numpy()

    check_gold_alignments(runs[kind, "reference"], cross_attention)


def test_bfloat16_runs_the_decoder_under_autocast_as_the_encoder(models, runs):
    """The decoder runs in target_logits, after the runner's call: it re-enters the encoder's autocast, so a
    unit's score is the whole model's under bfloat16 autocast, not a float32 decoder's."""
    model = models["marian"]
    unit = units_of(runs["marian", "reference"], 0)[2]
    ids = torch.tensor([unit.input_ids])
    prefix = torch.tensor([unit.step["prefix"]])
    targets = model.task.target_tensor([unit], ids.shape[1], "cpu")

    def whole_model(enabled):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
            logits = model.model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=prefix).logits
        return float(logits[0, -1].float().log_softmax(-1)[unit.target])

    scored = {}
    for precision in ("float32", "bfloat16"):
        runner = ModelRunner(model, precision=precision)
        with torch.no_grad():
            encoded = runner.forward(ids, torch.ones_like(ids)).logits
            scored[precision] = float(model.task.target_logits(encoded, targets)[0])
    assert scored["float32"] == pytest.approx(whole_model(False), abs=1e-5)
    assert scored["bfloat16"] == pytest.approx(whole_model(True), abs=1e-5)
    assert abs(whole_model(True) - whole_model(False)) > 1e-4  # the two precisions differ, so the check can fail
