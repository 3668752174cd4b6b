"""The report of a model with thousands of classes: a bounded page that states its bounds.

Each example lists its most probable classes (and its true and explained class), the filter boxes a bounded
number of classes plus one "other" choice, the summary a bounded number of class names; a three-class report
lists every class as before.
"""

from __future__ import annotations

import csv
import math
import re

import pytest

from reportgen.report.sections.examples import FILTER_CLASSES, OTHER_CLASSES, TOP_PROBABILITIES
from reportgen.report.sections.summary import SUMMARY_CLASSES
from reportgen.report.word_links import linked_words
from reportgen.results.store import load

from support.browser import CHROMIUM, PageVisit, open_report
from support.cli import invoke, run_args
from support.tiny_models import WORDS, build_model_folder

LABELS = 10_000
ROWS = 40
PAGE_LIMIT = 2 * 2**20  # bytes; the page of this run was 13 MB when every example listed every probability
ARTICLE = re.compile(r'<article class="example" id="example-(\d+)" data-label="([^"]*)" data-prediction="([^"]*)"'
                     r'.*?</article>', re.S)
PROBABILITIES = re.compile(r'<p class="probs">(.*?)</p>', re.S)
PROBABILITY = re.compile(r"p\(<bdi>([^<]*)</bdi>\) = ([0-9.e+-]+)")
REST = re.compile(r"the other ([0-9,]+) classes: ([0-9.e+-]+) together")


def labelled_rows(path, labels):
    """One CSV row per label name, of 6 to 10 words each."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i, label in enumerate(labels):
            writer.writerow([" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(6 + i % 5)), label])
    return path


def report_of(tmp_path, num_labels, labels):
    model = build_model_folder(tmp_path / "model", num_labels=num_labels)
    out = tmp_path / "out" / "report.html"
    result = invoke(*run_args(model, labelled_rows(tmp_path / "data.csv", labels), out, "attention,random"))
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8"), load(out.parent / "results"), out


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A run of the tiny BERT with 10,000 classes on 40 rows whose labels span 34 classes (class_7 five times,
    class_3 three times, 32 others once): (page, saved run, report path)."""
    labels = [7] * 5 + [3] * 3 + [11 + 97 * k for k in range(ROWS - 8)]
    return report_of(tmp_path_factory.mktemp("many"), LABELS, [f"class_{c}" for c in labels])


def articles(page):
    """Per example: (index, data-label, data-prediction, its probability pairs, its 'the other N' text)."""
    found = []
    for match in ARTICLE.finditer(page):
        probabilities = PROBABILITIES.search(match.group(0))
        text = probabilities.group(1) if probabilities else ""
        found.append((int(match.group(1)), match.group(2), match.group(3), PROBABILITY.findall(text),
                      REST.search(text)))
    return found


def select_options(page, name):
    box = re.search(rf'<select data-filter="{name}">(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)">([^<]*)</option>', box)


def test_the_page_of_a_10000_class_run_stays_small(many):
    page, run, _ = many
    assert len(page.encode("utf-8")) < PAGE_LIMIT
    assert len(re.findall(r"p\(<bdi>", page)) <= len(run.examples) * (TOP_PROBABILITIES + 2)
    # two class boxes, outcome, order, highlight (by attention or random), and the words of the findings
    words = len(linked_words(run))
    assert len(select_options(page, "word")) == 1 + words
    assert page.count("<option") == 2 * (1 + FILTER_CLASSES + 1) + 3 + 5 + 2 + (1 + words)


def test_each_example_lists_its_most_probable_classes_its_true_and_explained_one_and_sums_the_rest(many):
    page, run, _ = many
    by_index = {ex.index: ex for ex in run.examples}
    found = articles(page)
    assert len(found) == len(run.examples) == ROWS
    for index, _, _, pairs, rest in found:
        ex = by_index[index]
        ranked = sorted(range(LABELS), key=lambda c: (-ex.probabilities[c], c))
        wanted = set(ranked[:TOP_PROBABILITIES]) | {ex.label, ex.target}
        listed = [c for c in ranked if c in wanted]
        assert [name for name, _ in pairs] == [f"class_{c}" for c in listed]
        assert TOP_PROBABILITIES <= len(pairs) <= TOP_PROBABILITIES + 2
        for (_, text), c in zip(pairs, listed):
            assert math.isclose(float(text), ex.probabilities[c], rel_tol=0.01, abs_tol=5e-4)
        others = sum(p for c, p in enumerate(ex.probabilities) if c not in wanted)
        assert rest and rest.group(1) == f"{LABELS - len(wanted):,}"
        assert math.isclose(float(rest.group(2)), others, rel_tol=0.01, abs_tol=5e-4)
    assert (f"This model has {LABELS:,} classes: each example lists the probabilities of its {TOP_PROBABILITIES} "
            "most probable classes") in page


def test_the_class_filters_list_the_most_frequent_classes_and_one_other_choice(many):
    page, run, _ = many
    for box, field in (("label", 1), ("prediction", 2)):
        options = select_options(page, box)
        assert options[0] == ("", "any")
        listed = {value for value, _ in options[1:-1]}
        assert len(listed) == FILTER_CLASSES
        assert options[-1] == (OTHER_CLASSES, f"({LABELS - FILTER_CLASSES:,} other classes)")
        by_index = {ex.index: ex for ex in run.examples}
        for article in articles(page):
            class_id = getattr(by_index[article[0]], box)
            assert article[field] == (str(class_id) if str(class_id) in listed else OTHER_CLASSES)
    assert "class_7" in dict(select_options(page, "label")).values()  # the most frequent label is listed
    assert 'picks the examples of every other class' in page
    values = [article[1] for article in articles(page)]
    assert OTHER_CLASSES in values and any(v != OTHER_CLASSES for v in values)


def test_the_summary_names_a_bounded_number_of_classes_and_counts_the_others(many):
    page, _, _ = many
    row = re.search(r"<th>classes</th><td><bdi>([^<]*)</bdi></td>", page).group(1)
    assert row.count("class_") == SUMMARY_CLASSES
    assert row.endswith(f"and {LABELS - SUMMARY_CLASSES:,} more ({LABELS:,} classes; the first "
                        f"{SUMMARY_CLASSES} by id are named)")


def test_the_top_words_state_how_many_classes_they_list(many):
    page, run, _ = many
    listed = run.metrics["top_words"]["result"]["listed_classes"]
    assert (f"This model has {LABELS:,} classes and top words are listed for at most 20 of them (here "
            f"{len(listed)}): those with the most explained examples, each example counted for its explained "
            "class") in page


def test_a_three_class_report_lists_every_class_everywhere(tmp_path):
    page, run, _ = report_of(tmp_path, 3, ["class_0", "class_1", "class_2", "class_1"] * 2)
    for _, label, _, pairs, rest in articles(page):
        assert [name for name, _ in pairs] == ["class_0", "class_1", "class_2"] and rest is None
        assert label in {"0", "1", "2"}
    for box in ("label", "prediction"):
        assert select_options(page, box) == [("", "any"), ("0", "class_0"), ("1", "class_1"), ("2", "class_2")]
    assert re.search(r"<th>classes</th><td><bdi>class_0, class_1, class_2</bdi></td>", page)
    assert "other classes" not in page and "classes: each example lists" not in page


@pytest.mark.browser
def test_the_other_choice_shows_the_examples_of_the_unlisted_classes(many):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    page_text, _, path = many
    unlisted = sorted(f"example-{index}" for index, label, *_ in articles(page_text) if label == OTHER_CLASSES)
    with sync_playwright() as playwright:
        browser, page = open_report(playwright, path, PageVisit())
        try:
            page.select_option("[data-filter=label]", OTHER_CLASSES)
            shown = page.evaluate("() => Array.from(document.querySelectorAll('article.example'))"
                                  ".filter(a => !a.hidden).map(a => a.id)")
            assert sorted(shown) == unlisted
        finally:
            browser.close()
