"""Every word a finding names opens its examples: a top word (table cell or bar) lists the examples of its class
that hold it, an error word that stands out the examples that hold it, and the explorer's word box does the
same by hand; in a listed and in a paged explorer."""

from __future__ import annotations

import pytest

from reportgen.report import pages
from reportgen.report.render import render_html, write_report
from reportgen.report.sections.global_words import global_explanations
from reportgen.report.word_links import gaps, linked_words, word_examples

from support.browser import opened_report, wait_until
from support.runs import demo_like_run

SHOWN = "() => Array.from(document.querySelectorAll('article.example:not([hidden])')).map(a => a.id)"


def holders(run, word, class_id=None) -> set[str]:
    return {f"example-{ex.index}" for ex in run.examples
            if ex.ok and word in {w.strip().lower() for w in ex.words}
            and (class_id is None or ex.prediction == class_id)}


def with_standing_error_word(run, word: str):
    """The run with ``word`` listed as an error word that stands out (the tiny corpus has too few errors)."""
    errors = run.metrics["error_words"]["result"]
    errors["words"] = [{"rank": 1, "word": word, "misclassified": 2, "correct": 1, "examples": 3, "error_rate": 0.67,
                        "log_odds_ratio": 2.0, "z": 3.5, "stands_out": True}]
    return run


def test_the_top_words_and_the_standing_error_words_are_the_linked_ones(classifier):
    run = with_standing_error_word(demo_like_run(classifier), "zebra")
    keys = linked_words(run)
    top = {r["word"] for r in run.metrics["top_words"]["result"]["words"]}
    assert set(keys) == top | {"zebra"} and sorted(keys, key=lambda w: int(keys[w][1:])) == sorted(keys)
    run.metrics["error_words"]["result"]["words"][0]["stands_out"] = False
    assert "zebra" not in linked_words(run)  # a word that does not stand out names no finding
    keys = linked_words(run)
    the = word_examples(run, keys)[keys["the"]]
    assert the == sorted(int(i.split("-")[1]) for i in holders(run, "the")) and gaps([2, 3, 7]) == [2, 1, 4]
    assert 'data-opens="word:wk prediction:ci"' in render_html(run)
    values = global_explanations(run)["chart"].spec["data"]["values"]
    assert [v["wk"] for v in values] == [keys[r["word"]] for r in run.metrics["top_words"]["result"]["words"]]


@pytest.mark.parametrize("paged", [False, True], ids=["listed", "paged"])
def test_a_word_of_a_finding_lists_the_examples_that_hold_it(playwright, classifier, tmp_path, monkeypatch, paged):
    if paged:
        monkeypatch.setattr(pages, "PAGED_FROM", 3)
        monkeypatch.setattr(pages, "PAGE_SIZE", 20)
        monkeypatch.setattr(pages, "CHUNK", 2)
    run = with_standing_error_word(demo_like_run(classifier), "the")
    keys = linked_words(run)
    row = next(r for r in run.metrics["top_words"]["result"]["words"] if holders(run, r["word"], r["class_id"]))
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        wait_until(page, "() => document.querySelectorAll('article.example').length > 0")
        # A top word of the tables: its class's examples that hold it.
        page.click(f"a[data-lists='word={keys[row['word']]} prediction={row['class_id']}'] >> nth=0")
        wanted = holders(run, row["word"], row["class_id"])
        wait_until(page, f"(n) => ({SHOWN})().length === n", len(wanted))
        assert set(page.evaluate(SHOWN)) == wanted
        assert page.input_value("[data-filter=word]") == keys[row["word"]]
        # An error word that stands out: every example that holds it.
        page.click(f"a[data-lists='word={keys['the']}']")
        wanted = holders(run, "the")
        assert 0 < len(wanted) < len(run.examples)
        wait_until(page, f"(n) => ({SHOWN})().length === n", len(wanted))
        assert set(page.evaluate(SHOWN)) == wanted and page.input_value("[data-filter=prediction]") == ""
        # The word box by hand, and back to any word.
        page.select_option("[data-filter=word]", "")
        wait_until(page, f"(n) => ({SHOWN})().length === n", min(len(run.examples), 20))
