"""--long-text window: documents longer than the model reads, in overlapping windows of whole words."""

import csv

import numpy as np
import pytest
import torch

from reportgen.api import explain, write_outputs
from reportgen.explain.batch import Batch
from reportgen.explain.engine import Engine
from reportgen.explain.explainer import explainers
from reportgen.explain.windows import Windows
from reportgen.ops.words import word_starts
from reportgen.load.model import load_classifier
from reportgen.results import store
from support.cli import assert_one_line_error, invoke, run_args
from support.tiny_models import WORDS

WINDOW = 16  # tokens the tiny BERT reads here: [CLS], 14 tokens of text, [SEP]
CHEAP = {"lime": {"num_samples": 40}, "shap": {"max_evals": 24}, "layer_integrated_gradients": {"n_steps": 4},
         "integrated_gradients": {"n_steps": 8}}


@pytest.fixture(scope="module")
def short_model(bert_dir):
    return load_classifier(bert_dir, device="cpu", max_length=WINDOW)


def documents(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, n)) for n in lengths]


def write_rows(path, texts, label):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([text, label] for text in texts)
    return path


def windowed(model, path, methods, **options):
    chosen = list(explainers.resolve(methods))
    return explain(model, path, long_text="window", methods=chosen, progress=False, **options,
                   method_params={name: params for name, params in CHEAP.items() if name in chosen})


# --- the windows themselves


def word_ids_of(word_lengths, prefix=1, suffix=1):
    ids = [None] * prefix
    for word, length in enumerate(word_lengths):
        ids += [word] * length
    return ids + [None] * suffix


@pytest.mark.parametrize("stride", [1, 3, 7, 14])
@pytest.mark.parametrize("seed", range(5))
def test_windows_cover_every_token_in_whole_words_within_the_window(stride, seed):
    rng = np.random.default_rng(seed)
    word_ids = word_ids_of(rng.integers(1, 4, size=40).tolist())
    windows = Windows(length=WINDOW, stride=stride, max_windows=100, prefix=1, suffix=1)
    spans = windows.spans(word_ids)
    covered = set()
    for number, (start, end) in enumerate(spans):
        assert end - start <= windows.room
        assert word_ids[start] != word_ids[start - 1] or start == 1  # starts at a word
        assert end == len(word_ids) - 1 or word_ids[end] != word_ids[end - 1]  # ends after a word
        covered |= set(range(start, end))
        if number:
            previous = spans[number - 1]
            assert previous[0] < start <= previous[1]  # moves on, and leaves no gap
            assert start - previous[0] <= stride or all(  # at most the stride, unless no word starts sooner
                word_ids[p] == word_ids[p - 1] for p in range(previous[0] + 1, previous[0] + stride + 1))
    assert covered == set(range(1, len(word_ids) - 1))


def test_a_document_the_model_reads_whole_is_one_window():
    windows = Windows(length=WINDOW, stride=7, max_windows=4, prefix=1, suffix=1)
    word_ids = word_ids_of([1] * 14)
    assert windows.spans(word_ids) == [(1, 15)]


def test_a_word_longer_than_a_window_is_cut_and_still_covered():
    windows = Windows(length=8, stride=3, max_windows=10, prefix=1, suffix=1)
    word_ids = word_ids_of([2, 15, 2])
    spans = windows.spans(word_ids)
    assert set().union(*(range(s, e) for s, e in spans)) == set(range(1, 20))
    assert all(e - s <= 6 for s, e in spans)


def test_the_special_tokens_of_the_tokenizer_frame_every_window(short_model):
    windows = Windows.for_model(short_model.tokenizer, WINDOW, None, 4)
    assert (windows.prefix, windows.suffix, windows.room, windows.stride) == (1, 1, 14, 7)
    assert windows.longest == WINDOW + 3 * 7


def test_a_window_unit_holds_its_words_text_and_the_documents_special_tokens(short_model, tmp_path):
    text = documents([30])[0]
    run = windowed(short_model, write_rows(tmp_path / "d.csv", [text], short_model.labels[0]), ["saliency"])
    row = run.examples[0]
    windows = Windows.for_model(short_model.tokenizer, WINDOW, None, 16)
    units = windows.units(row)
    assert len(units) == len(windows.spans(row.word_ids)) > 2
    for unit, (start, end) in zip(units, windows.spans(row.word_ids)):
        assert unit.tokens[0] == "[CLS]" and unit.tokens[-1] == "[SEP]" and len(unit.input_ids) <= WINDOW
        assert unit.input_ids[1:-1] == row.input_ids[start:end]
        assert unit.text in row.text and unit.text.split() == unit.words
        for offset, word in enumerate(unit.word_ids[1:-1]):
            assert unit.words[word] == row.words[row.word_ids[start + offset]]
        encoded = short_model.tokenizer(unit.text)["input_ids"]
        assert encoded == unit.input_ids  # what lime and shap perturb is what the window holds
    assert word_starts("a  bb a", ["a", "bb", "a"]) == [0, 3, 6]


# --- a run in windows


def window_logits(model, row, windows):
    """The model's logits on each window of ``row``, called directly."""
    rows = []
    for start, end in windows.spans(row.word_ids):
        ids = [row.input_ids[0]] + row.input_ids[start:end] + [row.input_ids[-1]]
        with torch.no_grad():
            rows.append(model.model(input_ids=torch.tensor([ids])).logits[0].double())
    return torch.stack(rows)


def test_a_long_document_is_predicted_by_the_mean_of_its_windows_logits(short_model, tmp_path):
    texts = documents([5, 30, 60])
    run = windowed(short_model, write_rows(tmp_path / "d.csv", texts, short_model.labels[0]), ["saliency"])
    windows = Windows.for_model(short_model.tokenizer, WINDOW, None, 16)
    assert [len(ex.input_ids) > WINDOW for ex in run.examples] == [False, True, True]
    for ex in run.examples:
        expected = window_logits(short_model, ex, windows).mean(dim=0).softmax(dim=-1).numpy()
        np.testing.assert_allclose(ex.probabilities, expected, atol=1e-6)
        assert ex.prediction == int(np.argmax(expected)) and not ex.truncated
    counts = run.dataset["long_text"]
    assert counts["long"] == 2 and counts["windows"] == sum(len(windows.spans(ex.word_ids)) for ex in run.examples[1:])


@pytest.mark.parametrize("method", ["saliency", "occlusion", "grad_x_input"])
def test_a_tokens_score_is_the_mean_of_its_scores_in_the_windows_that_hold_it(short_model, tmp_path, method):
    text = documents([45], seed=3)[0]
    run = windowed(short_model, write_rows(tmp_path / "d.csv", [text], short_model.labels[1]), [method])
    row = run.examples[0]
    windows = Windows.for_model(short_model.tokenizer, WINDOW, None, 16)
    explainer = explainers.get(method)(seed=0)
    sums, counts = np.zeros(len(row.input_ids)), np.zeros(len(row.input_ids))
    for unit, (start, end) in zip(windows.units(row), windows.spans(row.word_ids)):
        (explanation,) = explainer.attribute(Batch(Engine(short_model, run_config(run)).runner, [unit]))
        scores = np.asarray(explanation.tokens)
        for position, score in zip([0, *range(start, end), len(row.input_ids) - 1], scores):
            sums[position] += score
            counts[position] += 1
    attribution = run.attributions[method][0]
    np.testing.assert_allclose(attribution.tokens, sums / counts, rtol=1e-5, atol=1e-6)  # float32, batched
    words = np.zeros(len(row.words))
    for position, word in enumerate(row.word_ids):
        if word is not None:
            words[word] += sums[position] / counts[position]
    np.testing.assert_allclose(attribution.words, words, rtol=1e-5, atol=1e-6)


def run_config(run):
    from reportgen.options import RunConfig

    return RunConfig(**{key: value for key, value in run.config.items() if key in RunConfig.__dataclass_fields__})


def test_occlusion_costs_one_call_per_token_of_each_window_not_of_the_document(short_model, tmp_path):
    text = documents([80], seed=1)[0]
    run = windowed(short_model, write_rows(tmp_path / "d.csv", [text], short_model.labels[0]), ["occlusion"])
    windows = Windows.for_model(short_model.tokenizer, WINDOW, None, 16)
    spans = windows.spans(run.examples[0].word_ids)
    assert len(spans) > 5
    assert run.methods["occlusion"].model_evaluations == sum(end - start + 1 for start, end in spans)


def test_a_document_the_model_reads_whole_is_explained_as_when_truncating(short_model, tmp_path):
    texts = documents([4, 9, 12], seed=2)
    data = write_rows(tmp_path / "d.csv", texts, short_model.labels[0])
    methods = ["saliency", "occlusion", "random", "lime"]
    whole = explain(short_model, data, methods=methods, progress=False, method_params={"lime": CHEAP["lime"]})
    windowed_run = windowed(short_model, data, methods)
    assert [ex.probabilities for ex in windowed_run.examples] == [ex.probabilities for ex in whole.examples]
    for method in methods:
        assert {i: a.tokens for i, a in windowed_run.attributions[method].items()} == {
            i: a.tokens for i, a in whole.attributions[method].items()}


def test_every_method_and_statistic_runs_on_long_documents_and_the_results_load(short_model, tmp_path):
    texts = documents([6, 40, 70], seed=4)
    run = windowed(short_model, write_rows(tmp_path / "d.csv", texts, short_model.labels[0]), "all")
    assert not run.failures, run.failures
    for name, table in run.attributions.items():
        assert sorted(table) == [0, 1, 2], name
        assert all(len(a.tokens) == len(run.examples[i].input_ids) for i, a in table.items())
        assert run.methods[name].examples == 3
    assert "maps" not in run.attributions["attention"][1].extra and run.attributions["attention"][1].extra["windows"] > 1
    faithfulness = run.metrics["faithfulness"]
    assert "error" not in faithfulness, faithfulness
    row = run.examples[2]
    engine = Engine(short_model, run_config(run))
    full = engine.runner.predict_ids([row.input_ids], explained=[row])
    np.testing.assert_allclose(full, [row.probabilities[row.target]], atol=1e-6)  # faithfulness reads documents whole
    outputs = write_outputs(run, out=tmp_path / "report.html")
    saved = store.load(outputs["results"])
    assert saved.dataset["long_text"]["long"] == 2
    html = outputs["report"].read_text()
    assert "read in windows" in html and "mean of the windows&#39; logits" in html
    windows = run.attributions["saliency"][2].extra["windows"]
    assert f"read in {windows} overlapping windows" in html


def test_a_stored_windowed_run_is_resumed_without_recomputing(short_model, tmp_path, monkeypatch):
    data = write_rows(tmp_path / "d.csv", documents([5, 40], seed=5), short_model.labels[0])
    first = windowed(short_model, data, ["saliency", "occlusion"], results=tmp_path / "r")

    def refused(*args, **kwargs):
        raise AssertionError("recomputed stored work")

    monkeypatch.setattr(Engine, "_compute_unit", refused)
    monkeypatch.setattr(Engine, "_predict", refused)
    again = windowed(short_model, data, ["saliency", "occlusion"], results=tmp_path / "r")
    for method in ("saliency", "occlusion"):
        assert {i: a.tokens for i, a in again.attributions[method].items()} == {
            i: a.tokens for i, a in first.attributions[method].items()}


def test_a_decoder_classifier_reads_windows_too(tmp_path):
    from support.decoder_models import build_decoder_folder

    model = load_classifier(build_decoder_folder(tmp_path / "gpt2", "gpt2", pad=False), device="cpu", max_length=12)
    texts = documents([30], seed=6)
    run = windowed(model, write_rows(tmp_path / "d.csv", texts, model.labels[0]), ["saliency", "attention"])
    assert not run.failures and run.dataset["long_text"]["windows"] > 2
    assert len(run.attributions["attention"][0].tokens) == len(run.examples[0].input_ids)


# --- bad input


def test_bad_window_options_are_one_line_errors(bert_dir, tmp_path):
    from support.pair_models import build_pair_folder

    pair_dir = build_pair_folder(tmp_path / "pair", "bert")
    data = write_rows(tmp_path / "d.csv", documents([30]), "negative")
    out = tmp_path / "r.html"
    base = run_args(bert_dir, data, out, "saliency", "--max-length", WINDOW)
    assert_one_line_error(invoke(*base, "--window-stride", 3), r"--window-stride applies to --long-text window")
    assert_one_line_error(invoke(*base, "--max-windows", 3), r"--max-windows applies to --long-text window")
    assert_one_line_error(invoke(*base, "--long-text", "window", "--window-stride", 15),
                          r"--window-stride 15 is more than the 14 tokens of text a window holds")
    pairs = tmp_path / "p.csv"
    with pairs.open("w", newline="") as handle:
        csv.writer(handle).writerows([["text", "pair", "label"], ["a b", "c d", "0"]])
    assert_one_line_error(invoke(*run_args(pair_dir, pairs, out, "saliency", "--text-pair-column", "pair",
                                           "--long-text", "window")),
                          r"--long-text window reads one text .* the sentence_pair task does not")
    assert not out.exists()
