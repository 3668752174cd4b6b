"""Human rationales end to end: `reportgen run --rationale-column` on the tiny model writes them to the results,
scores them in the plausibility panel beside faithfulness and lists them in the explorer; hostile rationale cells
cannot break the page."""

from __future__ import annotations

import csv
import json
import re

from markupsafe import escape

from reportgen.load.data import load_dataset
from reportgen.options import RunConfig
from reportgen.report import pages
from reportgen.report.format import BIDI_CONTROLS, shown
from reportgen.report.render import render_html
from reportgen.results import store

from support.cli import assert_one_line_error, invoke, run_args
from support.markup import ATTRIBUTES, TAGS, parse
from support.runs import HOSTILE_STRINGS, measured
from support.tiny_models import CORPUS

LABELS = ["negative", "positive"]
# one cell per CORPUS text: word indices, character spans, marked text, none, an index past the words, other text
CELLS = ["[0, 1, 3]", "[[2, 6]]", "not very [[funny]] but the music is [[brilliant]]", "", "[99]", "[[bad]] cell"]
TITLE = "<h3>Plausibility: agreement with human rationales</h3>"
PACKED = re.compile(r'<script type="application/gzip" id="examples-chunk-\d+">([^<]*)</script>')


def write_csv(path, rows, header=("text", "label", "evidence")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def section(html: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}">(.*?)</section>', html, flags=re.S).group(1)


def test_a_run_with_a_rationale_column_scores_and_shows_them(bert_dir, tmp_path):
    data = write_csv(tmp_path / "data.csv", [(text, LABELS[i % 2], CELLS[i]) for i, text in enumerate(CORPUS)])
    out, results = tmp_path / "report.html", tmp_path / "results"
    result = invoke(*run_args(bert_dir, data, out, "saliency,random", "--rationale-column", "evidence",
                              "--results", results))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (results / "examples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line.get("rationale") for line in lines] == [[0, 1, 3], [1], [2, 7], None, None, None]
    assert ["rationale" in line or "rationale_error" in line for line in lines] == [True] * 3 + [False] + [True] * 2
    assert "word index 99 is beyond the example's 10 words" in lines[4]["rationale_error"]
    assert "differs from the example's text at character 0" in lines[5]["rationale_error"]

    html = out.read_text(encoding="utf-8")
    run = store.load(results)
    plausibility = run.metrics["plausibility"]["result"]
    assert (plausibility["rationales"], plausibility["invalid_rationales"]) == (3, 2)
    faithfulness = {row["method"]: row for row in run.metrics["faithfulness"]["result"]["summary"]}
    quality = section(html, "quality")
    assert TITLE in quality and "they answer different questions" in quality
    table = re.search(r'<table class="plausibility">(.*?)</table>', quality, flags=re.S).group(1)
    for row in plausibility["methods"]:
        assert row["examples"] == 3
        assert row["comprehensiveness"] == faithfulness[row["method"]]["comprehensiveness"]
        cells = re.findall(r'<td class="num">([^<]*)</td>',
                           re.search(rf"<tr><td><code>{row['method']}</code></td>(.*?)</tr>", table).group(1))
        assert cells[:3] == ["3", f"{row['f1']:.3f}", f"{row['f1_se']:.3f}"]
        assert cells[5] == f"{row['auprc']:.3f}"
    explorer = section(html, "examples")
    assert "<dt>human rationale</dt>" in explorer
    # the first example's words: the movie was good and ...; its rationale [0, 1, 3] is "the, movie, good"
    assert '<p class="rationale">Human rationale (3 words): <bdi>the</bdi>, <bdi>movie</bdi>, <bdi>good</bdi></p>' \
        in explorer
    article = re.search(r'<article class="example" id="example-0".*?</article>', explorer, flags=re.S).group(0)
    tops = re.findall(r"<li><code>(\w+)</code> top 3: (.*?)</li>", article)
    assert [method for method, _ in tops] == ["saliency", "random"]
    assert all(len(re.findall("<bdi>", words)) == 3 for _, words in tops)
    assert "Human rationale not read: the rationale&#39;s word index 99" in explorer
    assert invoke("render", results, "--out", tmp_path / "again.html").exit_code == 0
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == html


def test_a_run_without_rationales_says_how_to_give_them(bert_dir, csv_file, tmp_path):
    out = tmp_path / "report.html"
    assert invoke(*run_args(bert_dir, csv_file, out, "saliency")).exit_code == 0
    html = out.read_text(encoding="utf-8")
    quality = section(html, "quality")
    assert TITLE in quality and "rerun with --rationale-column COL" in quality
    assert '<table class="plausibility">' not in quality
    assert "Human rationale" not in html and "<dt>human rationale</dt>" not in html


def test_a_missing_rationale_column_is_a_one_line_error(bert_dir, csv_file, tmp_path):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "r.html", "saliency", "--rationale-column", "why"))
    assert_one_line_error(result, r"rationale column 'why' is not in .*data\.csv; columns: text, label, group$")


def hostile_rows():
    """Each hostile string inside a text, its cell marking it ([[...]]); and as a cell that is no rationale."""
    rows = []
    for i, hostile in enumerate(HOSTILE_STRINGS):
        text = f"good {hostile} film"
        rows.append((text, LABELS[i % 2], f"good [[{hostile}]] film"))
        rows.append((f"a dull film {i}", LABELS[i % 2], hostile))
    return rows


def unpacked_page(html: str) -> str:
    """The page with a paged explorer's blocks replaced by the markup they carry."""
    return PACKED.sub(lambda match: pages.unpacked(match.group(1)), html)


def assert_page_is_safe(html: str) -> None:
    """As test_hostile checks a page: only the templates' tags and attributes, no comment or other markup, the
    two scripts of the page's own, JSON blocks that hold no markup character, no bidi control in the text."""
    page = parse(unpacked_page(html))
    assert set(page.tags) <= TAGS, set(page.tags) - TAGS
    assert {name for _, name in page.attributes} <= ATTRIBUTES, {n for _, n in page.attributes} - ATTRIBUTES
    assert page.markup == ["decl DOCTYPE html"], page.markup
    code = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    assert len(code) == 2
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            assert not set(body) & set("<>&'"), body[:200]
            json.loads(body)
    assert not BIDI_CONTROLS.search("".join(page.text))


def check_hostile_page(classifier, tmp_path) -> str:
    """Hostile cells read and explained; then, as a results folder read back may hold anything, every word and
    every rationale error made a whole hostile string (the tokenizer splits off the markup characters)."""
    data = load_dataset(write_csv(tmp_path / "hostile.csv", hostile_rows()), LABELS, rationale_column="evidence")
    run = measured(classifier, data, RunConfig(methods=["saliency", "random"], seed=0,
                                               metrics=["faithfulness", "plausibility"]))
    marked = [ex for ex in run.examples if ex.rationale]
    assert len(marked) == len(HOSTILE_STRINGS) and all(ex.rationale_error is None for ex in run.examples[::2])
    assert all(ex.rationale_error is not None for ex in run.examples[1::2])
    n = len(HOSTILE_STRINGS)
    for i, ex in enumerate(run.examples):
        ex.words = [HOSTILE_STRINGS[(i + j) % n] for j in range(len(ex.words))]
        if ex.rationale_error is not None:
            ex.rationale_error = HOSTILE_STRINGS[(i + 9) % n]  # the bidi override among them
    html = render_html(run)
    assert_page_is_safe(html)
    page = unpacked_page(html)
    for ex in run.examples:
        for word in ex.rationale or []:
            assert f"<bdi>{escape(shown(ex.words[word]))}</bdi>" in page
        if ex.rationale_error is not None:
            assert f"Human rationale not read: {escape(shown(ex.rationale_error))}</p>" in page
    return html


def test_hostile_rationales_cannot_break_the_page(classifier, tmp_path):
    html = check_hostile_page(classifier, tmp_path)
    assert TITLE in html and '<p class="rationale">' in html


def test_hostile_rationales_in_a_paged_explorer(classifier, tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "PAGED_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 4)
    html = check_hostile_page(classifier, tmp_path)
    assert '<p class="rationale">' not in html  # every article is packed; the check above unpacked them
