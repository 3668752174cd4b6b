"""An opened example shows its own words coloured by one method, picked in the filter bar (the most faithful
first): the shares are that method's word scores over the example's largest, the words are text, and a closed
example is coloured when it is opened. Also in a paged explorer."""

from __future__ import annotations

import pytest

from reportgen.ops.numbers import sigs
from reportgen.report import pages
from reportgen.report.sections import examples
from reportgen.report.sections.global_words import faithfulness_order
from reportgen.report.render import write_report
from reportgen.results.queries import methods_with_scores, review_key

from support.browser import opened_report, wait_until
from support.runs import demo_like_run

# The highlighted paragraph of an article: its method, its words and their shares (no "Pair" label).
READ = """(id) => {
    const p = document.querySelector('#' + id + ' p.highlighted:not([data-contrast])');
    const words = Array.from(p.querySelectorAll('span:not(.pair-start)'));
    return {method: p.getAttribute('data-method'), words: words.map(s => s.textContent),
            shares: words.map(s => parseFloat(s.getAttribute('data-share'))),
            plain: getComputedStyle(document.querySelector('#' + id + ' summary .text')).display}; }"""


def expected_shares(run, ex, method) -> list[float]:
    tokens = sigs(run.attributions[method][ex.index].tokens, pages.score_digits(len(run.examples)))  # as stored
    sums = [0.0] * len(ex.words)
    for score, word in zip(tokens, ex.word_ids):
        if word is not None:
            sums[word] += score
    largest = max(abs(s) for s in sums)
    return [s / largest for s in sums]


def assert_highlighted(page, run, ex, method) -> None:
    read = page.evaluate(READ, f"example-{ex.index}")
    keys = {m: f"m{i}" for i, m in enumerate(methods_with_scores(run))}
    assert read["method"] == keys[method]
    assert read["words"] == list(ex.words)
    assert read["shares"] == pytest.approx(expected_shares(run, ex, method), abs=1e-3)
    assert read["plain"] == "none"  # the coloured words stand in for the plain text


@pytest.fixture
def one_open(monkeypatch):
    monkeypatch.setattr(examples, "OPEN_EXAMPLES", 1)


@pytest.mark.parametrize("paged", [False, True], ids=["listed", "paged"])
def test_an_opened_example_shows_its_words_coloured_by_the_chosen_method(playwright, classifier, tmp_path,
                                                                        monkeypatch, one_open, paged):
    if paged:
        monkeypatch.setattr(pages, "PAGED_FROM", 3)
        monkeypatch.setattr(pages, "PAGE_SIZE", 4)
        monkeypatch.setattr(pages, "CHUNK", 2)
    run = demo_like_run(classifier)
    shown = [ex for ex in sorted(run.examples, key=review_key) if ex.ok][:2]
    most_faithful = faithfulness_order(run, [m for m in methods_with_scores(run) if m != "random"])[0]
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        first, second = (f"example-{ex.index}" for ex in shown)
        wait_until(page, "(id) => document.querySelector('#' + id + ' p.highlighted[data-method]') !== null", first)
        assert_highlighted(page, run, shown[0], most_faithful)
        # A closed example is coloured once opened, by the method the box shows.
        assert page.evaluate("(id) => document.querySelector('#' + id + ' p.highlighted').hasAttribute('data-method')",
                             second) is False
        page.click(f"#{second} summary")
        wait_until(page, "(id) => document.querySelector('#' + id + ' p.highlighted[data-method]') !== null", second)
        assert_highlighted(page, run, shown[1], most_faithful)
        # Another method in the box recolours every opened example, and filters nothing.
        keys = {m: f"m{i}" for i, m in enumerate(methods_with_scores(run))}
        page.select_option("[data-highlight-method]", keys["random"])
        wait_until(page, "([id, key]) => document.querySelector('#' + id + ' p.highlighted')"
                   ".getAttribute('data-method') === key", [first, keys["random"]])
        for ex in shown:
            assert_highlighted(page, run, ex, "random")
        assert page.evaluate("(id) => !document.getElementById(id).hidden", second)


def test_an_error_shows_its_words_coloured_for_the_other_class_too(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    error = next(ex for ex in sorted(run.examples, key=review_key) if ex.correct is False)
    keys = {m: f"m{i}" for i, m in enumerate(methods_with_scores(run))}
    contrast = run.attributions["saliency"][error.index].extra["contrast"]
    assert contrast["target"] == error.label
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        page.select_option("[data-highlight-method]", keys["saliency"])
        read = f"""(id) => Array.from(document.querySelectorAll('#' + id + ' p.highlighted[data-contrast] span'))
            .map(s => parseFloat(s.getAttribute('data-share')))"""
        wait_until(page, f"(id) => ({read})(id).length > 0", f"example-{error.index}")
        digits = pages.score_digits(len(run.examples))
        sums = [0.0] * len(error.words)
        for score, word in zip(sigs(contrast["tokens"], digits), error.word_ids):
            if word is not None:
                sums[word] += score
        largest = max(abs(s) for s in sums)
        assert page.evaluate(read, f"example-{error.index}") == pytest.approx([s / largest for s in sums], abs=1e-3)
        names = page.evaluate("(id) => Array.from(document.querySelectorAll('#' + id + ' p.highlight-name'))"
                              ".map(p => p.textContent)", f"example-{error.index}")
        assert names == [f"Why {run.labels[error.prediction]}, the explained class:",
                         f"and not {run.labels[error.label]}, the true class: the same method's scores for it"]
        # A method that scores every class alike says so, and a correct example has no second line.
        page.select_option("[data-highlight-method]", keys["attention"])
        wait_until(page, "(id) => document.querySelector('#' + id + ' p.highlighted[data-contrast]').textContent"
                   ".startsWith('This method has no scores for this class')", f"example-{error.index}")
        right = next(ex for ex in run.examples if ex.correct)
        assert page.evaluate("(id) => document.querySelectorAll('#' + id + ' p.highlighted').length",
                             f"example-{right.index}") == 1
