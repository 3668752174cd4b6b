"""One report per task opens offline in Chromium with no errors and every chart drawn, not blank."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from support import ROOT
from support.browser import CANVASES_NOT_BLANK, OVERFLOW, PageVisit, check_clean, draw_everything, open_report
from support.cli import invoke, run_args
from support.decoder_models import build_decoder_folder
from support.generation_models import SOURCES, build_lm_folder, write_generation_data
from support.seq2seq_models import build_seq2seq_folder
from support.multi_label_models import build_multi_label_folder, write_multi_label_data
from support.pair_models import build_pair_folder, pair_rows
from support.tiny_models import CORPUS
from support.token_models import build_token_folder, write_tagged_data

pytestmark = pytest.mark.browser


def _opens_cleanly(playwright, path, check_page=None, charts: int = 10) -> None:
    """The report at ``path`` draws every chart (at least ``charts``), none blank, with no error and nothing
    fetched; ``check_page`` (a function of the page) checks what the task adds."""
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit)
    try:
        draw_everything(page)
        assert page.locator(".chart").count() >= charts
        assert all(page.evaluate(CANVASES_NOT_BLANK))
        if check_page is not None:
            check_page(page)
    finally:
        browser.close()
    check_clean(visit, path)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_a_decoder_classifier_report_opens_offline(playwright, kind, tmp_path):
    folder = build_decoder_folder(tmp_path / kind, kind)
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["negative", "positive"] * 6}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    assert invoke(*run_args(folder, data, out, "all")).exit_code == 0
    _opens_cleanly(playwright, out)


def test_an_unlabeled_report_opens_offline(playwright, bert_dir, tmp_path):
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    assert invoke(*run_args(bert_dir, data, out, "all", "--label-column", "none")).exit_code == 0
    _opens_cleanly(playwright, out)


def both_texts_shown(page) -> None:
    assert page.evaluate(OVERFLOW) == []
    first = page.locator("#example-0")
    assert first.locator(".segment-name").all_inner_texts() == ["Text", "Pair"]
    assert first.locator(".segment.pair").inner_text().endswith(pair_rows()[0]["hypothesis"])
    assert page.locator("#chart-segment_share[data-drawn=true]").count() == 1


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_a_sentence_pair_report_opens_offline_with_both_texts(playwright, kind, tmp_path):
    folder = build_pair_folder(tmp_path / kind, kind)
    data = tmp_path / "pairs.csv"
    pd.DataFrame(pair_rows(2)).to_csv(data, index=False)
    out = tmp_path / "report.html"
    result = invoke(*run_args(folder, data, out, "all", "--text-column", "premise", "--text-pair-column",
                              "hypothesis", "--param", "lime.num_samples=40", "--param", "shap.max_evals=64"))
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out, both_texts_shown)


def units_shown(page) -> None:
    assert page.evaluate(OVERFLOW) == []
    first = page.locator("#example-0 .meta").inner_text()
    assert first.startswith("row 0 · explains ") and " · true " in first and " · predicted " in first
    assert page.locator("#chart-multi_label[data-drawn=true]").count() == 1
    assert page.locator("table.by-class tr").count() >= 3  # the heading and two labels or more


def test_a_multi_label_report_opens_offline_with_one_explanation_per_label(playwright, tmp_path):
    folder = build_multi_label_folder(tmp_path / "roberta", "roberta")
    data = write_multi_label_data(tmp_path / "topics.jsonl", repeat=2)
    out = tmp_path / "report.html"
    result = invoke(*run_args(folder, data, out, "all", "--param", "lime.num_samples=40",
                              "--param", "shap.max_evals=64"))
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out, units_shown)


def entities_marked(page) -> None:
    assert page.evaluate(OVERFLOW) == []
    assert page.locator("#chart-entities[data-drawn=true]").count() == 1
    marked = page.locator(".example .text mark")
    assert marked.count() >= 1 and marked.first.inner_text().strip()
    assert "explains the entity" in page.locator(".example .meta").all_inner_texts()[0] or page.locator(
        ".example .meta").all_inner_texts()[0].endswith("no entity to explain")


def test_a_token_classification_report_opens_offline_with_each_entity_marked(playwright, tmp_path):
    folder = build_token_folder(tmp_path / "bert", "bert")
    data = write_tagged_data(tmp_path / "tagged.jsonl", repeat=2)
    out = tmp_path / "report.html"
    result = invoke(*run_args(folder, data, out, "all", "--label-column", "tags"))
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out, entities_marked)


def test_a_black_box_report_opens_offline(playwright, bert_dir, tmp_path):
    functions = f"{ROOT / 'tests' / 'support' / 'black_box_models.py'}:keyword_probabilities"
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["negative", "positive"] * 6}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    result = invoke("run", "--predict", functions, "--tokenizer", bert_dir, "--data", data, "--out", out,
                    "--methods", "all", "--param", "lime.num_samples=100", "--param", "shap.max_evals=64", "--quiet")
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out)


def test_a_report_of_documents_read_in_windows_opens_offline(playwright, bert_dir, tmp_path):
    data = tmp_path / "data.csv"
    long_texts = [" ".join([text] * 4) for text in CORPUS]
    pd.DataFrame({"text": long_texts, "label": ["negative", "positive"] * 3}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    args = run_args(bert_dir, data, out, "all", "--max-length", "16", "--long-text", "window",
                    "--param", "lime.num_samples=100", "--param", "shap.max_evals=64")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out, lambda page: page.get_by_text("read in windows").first.wait_for())


def test_a_zero_shot_report_opens_offline(playwright, tmp_path):
    folder = build_pair_folder(tmp_path / "nli", "bert")
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["good", "bad", "fun"] * 4}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    result = invoke(*run_args(folder, data, out, "all", "--zero-shot-labels", "good,bad,fun",
                              "--param", "lime.num_samples=100", "--param", "shap.max_evals=64"))
    assert result.exit_code == 0, result.output
    _opens_cleanly(playwright, out)


def output_matrices_drawn(page) -> None:
    assert page.evaluate(OVERFLOW) == []
    rows = page.locator("#outputs article.output-row")
    assert rows.count() == len(SOURCES)
    first = page.locator("#row-0")
    assert first.locator(".segment-name").all_inner_texts() == ["Source", "Output"]
    assert first.locator(".chart.alignment[data-drawn=true]").count() == 1
    boxes = first.locator("select")
    method, layer, head = boxes.nth(0), boxes.nth(1), boxes.nth(2)  # the alignment atlas kept its heads
    assert method.locator("option").count() >= 7  # every method that applies, and one head's attention
    assert layer.locator("option").all_inner_texts() == ["0", "1"] and head.locator("option").count() == 4
    method.select_option(index=4)  # another method redraws the same matrix
    first.locator(".chart.alignment canvas").first.wait_for()
    method.select_option(label="attention of one head (the layer and head boxes)")
    layer.select_option("1")
    head.select_option("3")
    assert all(page.evaluate(CANVASES_NOT_BLANK))
    shown = json.loads(page.locator("#row0-data").text_content())
    assert {(r["l"], r["h"]) for r in shown["gen"] if "l" in r} == {(l, h) for l in range(2) for h in range(4)}
    outputs = len(shown["out"])
    assert boxes.count() == 3 + (outputs > 40)  # a page box for an output longer than a page
    if outputs > 40:
        pages = boxes.nth(3)
        assert pages.locator("option").all_inner_texts() == ["0 to 39", "40 on"]
        pages.select_option(index=1)
        assert all(page.evaluate(CANVASES_NOT_BLANK))
    atlas = page.locator("#atlas")
    assert atlas.locator(".chart[data-drawn=true]").count() == 1 and "Most focused head" in atlas.inner_text()
    assert page.locator("#examples").count() == 0


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_a_generation_report_opens_offline_with_a_matrix_per_row(playwright, kind, tmp_path):
    folder = build_lm_folder(tmp_path / kind, kind)
    data = write_generation_data(tmp_path / "data.jsonl", references=kind == "gpt2")
    out = tmp_path / "report.html"
    columns = ["--source-column", "source"] + (["--target-column", "reference", "--alignment-column", "gold"]
                                               if kind == "gpt2" else ["--max-new-tokens", "45"])  # two pages
    result = invoke("run", "--model", folder, "--data", data, "--out", out, "--methods", "all", "--quiet", *columns)
    assert result.exit_code == 0, result.output

    def check(page) -> None:
        output_matrices_drawn(page)
        rows = page.locator("#outputs article.output-row")
        assert rows.nth(0).locator("select").count() == (3 if kind == "gpt2" else 4)
        assert ("Best aligning head" in page.locator("#atlas").inner_text()) == (kind == "gpt2")  # with gold

    _opens_cleanly(playwright, out, check, charts=len(SOURCES) + 4)  # a matrix per row and the atlas


@pytest.mark.parametrize("kind", ["t5", "bart"])
def test_an_encoder_decoder_report_opens_offline_with_a_source_by_target_matrix_per_row(playwright, kind, tmp_path):
    folder = build_seq2seq_folder(tmp_path / kind, kind)
    data = write_generation_data(tmp_path / "data.jsonl")
    out = tmp_path / "report.html"
    result = invoke("run", "--model", folder, "--data", data, "--out", out, "--methods", "all", "--quiet",
                    "--source-column", "source", "--target-column", "reference")
    assert result.exit_code == 0, result.output

    def source_rows(page) -> None:  # the matrix's rows are the source's tokens, not the output's
        output_matrices_drawn(page)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        shown = json.loads(page.locator("#row0-data").text_content())
        assert [p["t"] for p in shown["pos"]] == tokenizer.convert_ids_to_tokens(tokenizer(SOURCES[0])["input_ids"])

    _opens_cleanly(playwright, out, source_rows, charts=len(SOURCES) + 3)
