"""--predict module:function: a black-box model of any framework, explained by removing words."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.api import explain, write_outputs
from reportgen.explain.engine import Engine
from reportgen.explain.pooling import example_seed
from reportgen.load.black_box import load_model
from reportgen.options import RunConfig
from reportgen.tasks.black_box import WHITE_BOX_METHODS
from support.black_box_models import keyword_probabilities
from support.cli import assert_one_line_error, invoke

FUNCTIONS = Path(__file__).parents[1] / "support" / "black_box_models.py"
KEYWORDS = f"{FUNCTIONS}:keyword_probabilities"
TEXTS = ["a great film with a dull start", "bad and awful", "fine, good, great!", "it was a film", "good"]
LABELS = ["positive", "negative", "positive", "negative", "positive"]
CHEAP = {"lime": {"num_samples": 300}, "shap": {"max_evals": 64}}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def reviews(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


@pytest.fixture
def black_box(bert_dir):
    return load_model(None, predict=KEYWORDS, tokenizer=str(bert_dir), class_names="negative,positive")


@pytest.fixture
def black_box_run(black_box, reviews):
    return explain(black_box, reviews, methods="all", progress=False, method_params=CHEAP)


def test_the_methods_that_need_torch_are_left_out_and_say_why(black_box_run):
    assert sorted(black_box_run.methods) == ["lime", "occlusion", "random", "shap"]
    left_out = black_box_run.model["methods_not_applicable"]
    assert sorted(left_out) == sorted(WHITE_BOX_METHODS)
    assert all("gradients or attention" in why for why in left_out.values())
    assert "attention_atlas" not in black_box_run.metrics
    assert black_box_run.model["task"] == "black_box" and black_box_run.model["tokenizer"]


def test_the_function_answers_for_every_text_and_each_word_is_one_position(black_box_run):
    assert not black_box_run.failures
    np.testing.assert_allclose([ex.probabilities for ex in black_box_run.examples],
                               keyword_probabilities(TEXTS), atol=1e-12)
    first = black_box_run.examples[0]
    assert first.tokens == first.words == TEXTS[0].split() and first.word_ids == list(range(7))
    overall = black_box_run.metrics["performance"]["result"]["overall"]
    assert (overall["examples"], overall["correct"]) == (5, 4)  # "it was a film": 0.5 each, read as negative


def test_occlusion_removes_one_word_from_the_text(black_box_run):
    scores = {black_box_run.examples[i].text: black_box_run.attributions["occlusion"][i].words for i in range(5)}
    # "a great film with a dull start": p(negative) = 0.5; without "great" sigmoid(1), without "dull" sigmoid(-1)
    np.testing.assert_allclose(scores[TEXTS[0]], [0, 0.5 - sigmoid(1), 0, 0, 0, 0.5 - sigmoid(-1), 0], atol=1e-12)
    # "bad and awful", explained for negative: 1 - sigmoid(-2) falls to 1 - sigmoid(-1) without either
    drop = (1 - sigmoid(-2)) - (1 - sigmoid(-1))
    np.testing.assert_allclose(scores[TEXTS[1]], [drop, 0, drop], atol=1e-12)


def test_a_removed_word_is_deleted_from_the_text_the_function_is_given(black_box):
    seen = []
    black_box.model.function = lambda texts: seen.extend(texts) or keyword_probabilities(texts)
    engine = Engine(black_box, RunConfig(methods=["occlusion"]), progress=False)
    (ex,) = engine._examples(_data(["fine, good, great!"]), _bare_run())
    ex.target = 1
    ids = list(ex.input_ids)
    ids[2] = black_box.replacement_id
    (p,) = engine.runner.predict_ids([ids], explained=[ex])
    assert seen == ["fine, , great!"] and p == pytest.approx(sigmoid(2))


def test_lime_matches_the_package_run_on_the_function(black_box_run):
    from lime.lime_text import LimeTextExplainer

    for ex in black_box_run.examples[:3]:
        words = list(ex.words)
        reference = LimeTextExplainer(kernel_width=25, feature_selection="none", split_expression=lambda t: words,
                                      bow=False, mask_string="", random_state=example_seed(0, ex.index))
        result = reference.explain_instance(ex.text, keyword_probabilities, labels=(ex.target,),
                                            num_features=len(words), num_samples=CHEAP["lime"]["num_samples"])
        expected = np.zeros(len(words))
        for feature, weight in result.local_exp[ex.target]:
            expected[feature] = weight
        np.testing.assert_allclose(black_box_run.attributions["lime"][ex.index].words, expected, atol=1e-9)


def test_shap_matches_the_package_run_on_the_function(black_box_run, black_box):
    import shap

    for ex in black_box_run.examples[:3]:
        np.random.seed(example_seed(0, ex.index))
        masker = shap.maskers.Text(black_box.tokenizer, mask_token="")
        reference = shap.Explainer(lambda s: keyword_probabilities(list(s))[:, ex.target], masker,
                                   algorithm="partition")
        values = reference([ex.text], max_evals=CHEAP["shap"]["max_evals"], silent=True).values[0]
        owners = black_box.tokenizer(ex.text).word_ids()
        expected = np.zeros(len(ex.words))
        for value, word in zip(values, owners):
            if word is not None:
                expected[word] += value
        np.testing.assert_allclose(black_box_run.attributions["shap"][ex.index].words, expected, atol=1e-9)


def test_faithfulness_and_the_report_are_made_by_word(black_box_run, tmp_path):
    faithfulness = black_box_run.metrics["faithfulness"]["result"]
    assert {row["method"] for row in faithfulness["summary"]} == {"lime", "occlusion", "random", "shap"}
    assert not faithfulness["skipped"]
    outputs = write_outputs(black_box_run, out=tmp_path / "report.html")
    html = outputs["report"].read_text()
    assert "black_box" in html and "gradients or attention" in html
    assert "a removed word is deleted from the text the function is given" in html


def test_one_text_the_function_cannot_score_fails_alone(bert_dir, tmp_path):
    data = tmp_path / "d.csv"
    with data.open("w", newline="") as handle:
        csv.writer(handle).writerows([["text", "label"], ["good film", "1"], ["a boom here", "0"], ["bad", "0"]])
    run = explain(None, data, predict=f"{FUNCTIONS}:fails_on_boom", tokenizer=str(bert_dir), methods=["occlusion"],
                  progress=False)
    assert [ex.ok for ex in run.examples] == [True, False, True]
    assert "cannot score a boom" in run.examples[1].error
    assert sorted(run.attributions["occlusion"]) == [0, 2]


def test_class_names_come_from_a_config_beside_the_tokenizer_else_the_columns(bert_dir, tmp_path):
    named = load_model(None, predict=KEYWORDS, tokenizer=str(bert_dir))
    assert named.labels == ["negative", "positive"]  # the tiny BERT's id2label
    bare = tmp_path / "tokenizer"
    named.tokenizer.save_pretrained(bare)
    assert load_model(None, predict=KEYWORDS, tokenizer=str(bare)).labels == ["0", "1"]


@pytest.mark.parametrize("extra, pattern", [
    (["--predict", KEYWORDS], r"--predict needs --tokenizer"),
    (["--tokenizer", "{tok}"], r"give the model: --model|--tokenizer applies to a black-box model"),
    (["--predict", KEYWORDS, "--tokenizer", "{tok}", "--model", "{tok}"], r"--model and --predict both name"),
    (["--predict", KEYWORDS, "--tokenizer", "{tok}", "--methods", "saliency"],
     r"saliency does not apply to the black_box task: it reads the model's gradients"),
    (["--predict", f"{FUNCTIONS}:one_column", "--tokenizer", "{tok}"], r"shape \(1, 1\) for 1 texts"),
    (["--predict", f"{FUNCTIONS}:not_probabilities", "--tokenizer", "{tok}"], r"not probabilities"),
    (["--predict", f"{FUNCTIONS}:raises", "--tokenizer", "{tok}"], r"raised ConnectionError: the server is down"),
    (["--predict", f"{FUNCTIONS}:NOT_A_FUNCTION", "--tokenizer", "{tok}"], r"is int, not a function"),
    (["--predict", f"{FUNCTIONS}:missing", "--tokenizer", "{tok}"], r"has no attribute 'missing'"),
    (["--predict", str(FUNCTIONS), "--tokenizer", "{tok}"], r"use module:function"),
    (["--predict", KEYWORDS, "--tokenizer", "{tok}", "--class-names", "a,b,c"], r"names 3 classes but --predict"),
    (["--predict", KEYWORDS, "--tokenizer", "{tok}", "--multi-label"], r"--multi-label does not apply"),
])
def test_bad_black_box_input_is_a_one_line_error(bert_dir, reviews, tmp_path, extra, pattern):
    out = tmp_path / "report.html"
    args = ["run", "--data", reviews, "--out", out, "--quiet", *[a.format(tok=bert_dir) for a in extra]]
    if "--methods" not in extra:
        args += ["--methods", "occlusion"]
    assert_one_line_error(invoke(*args), pattern)
    assert not out.exists()


def test_the_command_line_writes_a_black_box_report(bert_dir, reviews, tmp_path):
    out = tmp_path / "report.html"
    result = invoke("run", "--predict", KEYWORDS, "--tokenizer", bert_dir, "--data", reviews, "--out", out,
                    "--methods", "occlusion,random", "--quiet")
    assert result.exit_code == 0, result.output
    assert out.is_file() and (tmp_path / "results").is_dir()


def _data(texts):
    from reportgen.load.data import Dataset

    return Dataset(texts=texts, labels=[None] * len(texts), rows=list(range(len(texts))), groups=None, info={})


def _bare_run():
    from reportgen.results.records import RunResult

    return RunResult()
