"""A long explorer in pages: the articles travel gzip-compressed in blocks of review order, an index carries what
the filters and the sort read, and in Chromium the pages, filters, sort, deep links and confusion cells work on
all examples while only one page is in the document."""

from __future__ import annotations

import json
import re

import pytest

from reportgen.report import pages
from reportgen.report.render import render_html, write_report
from reportgen.results.queries import review_key

from support.browser import opened_report, wait_until
from support.runs import demo_like_run

BLOCK = re.compile(r'<script type="application/gzip" id="examples-chunk-(\d+)">([^<]*)</script>')
ARTICLE = re.compile(r'<article class="example" id="(example-\d+)"([^>]*)>')
SHOWN = "() => Array.from(document.querySelectorAll('article.example')).map(a => a.id)"
PAGE_SHOWN = "(k) => document.getElementById('examples-list').getAttribute('data-page') === String(k)"


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 3 examples in blocks of 2 articles, for any run of more than 3 examples: a page spans blocks."""
    monkeypatch.setattr(pages, "PAGED_FROM", 3)
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    monkeypatch.setattr(pages, "CHUNK", 2)


def review_ids(run) -> list[str]:
    return [f"example-{ex.index}" for ex in sorted(run.examples, key=review_key)]


def test_a_long_explorer_packs_every_article_once_in_review_order_with_an_index(classifier, small_pages):
    run = demo_like_run(classifier)
    html = render_html(run)
    assert not ARTICLE.search(re.sub(BLOCK, "", html))  # no article outside the blocks
    blocks = BLOCK.findall(html)
    assert [int(k) for k, _ in blocks] == list(range(-(-len(run.examples) // 2)))
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]+", body) for _, body in blocks)
    unpacked = [pages.unpacked(body) for _, body in blocks]
    assert all(len(ARTICLE.findall(markup)) <= 2 for markup in unpacked)
    articles = [found for markup in unpacked for found in ARTICLE.findall(markup)]
    assert [anchor for anchor, _ in articles] == review_ids(run)

    block = re.search(r'<script type="application/json" id="examples-index">([^<]*)</script>', html).group(1)
    index = json.loads(block)
    assert index["id"] == review_ids(run) and (index["chunk"], index["page"]) == (2, 3)
    for position, (anchor, attributes) in enumerate(articles):  # the index reads as the articles' attributes do
        for name in ("label", "prediction", "correct", "confidence", "attention", "index", "disagreement"):
            assert f'data-{name}="{index[name][position]}"' in attributes, (anchor, name)
    assert 'data-pages="3"' in html and "page 1 of 3" in html
    assert render_html(run) == html  # the same bytes every time (gzip without a timestamp)


def test_a_paged_explorer_writes_scores_to_fewer_digits_and_says_so(classifier, small_pages):
    run = demo_like_run(classifier)
    html = render_html(run)
    markup = "".join(pages.unpacked(body) for _, body in BLOCK.findall(html))
    scores = [float(v) for block in re.findall(r'"m\d+":\[([^\]]*)\]', markup) for v in block.split(",")
              if v not in ("", "null")]
    assert scores and all(float(f"{v:.{pages.PAGED_DIGITS}g}") == v for v in scores)
    assert any(float(f"{v:.1g}") != v for v in scores)  # two digits, not fewer
    assert f"rounded to {pages.PAGED_DIGITS} significant digits" in html


def test_a_short_explorer_lists_its_articles(classifier):
    run = demo_like_run(classifier)
    assert len(run.examples) <= pages.PAGED_FROM
    html = render_html(run)
    assert not BLOCK.search(html) and 'id="examples-index"' not in html
    assert [anchor for anchor, _ in ARTICLE.findall(html)] == review_ids(run)
    assert f"rounded to {pages.DIGITS} significant digits" in html


def test_the_paged_explorer_in_chromium(playwright, classifier, small_pages, tmp_path):
    run = demo_like_run(classifier)
    review = review_ids(run)
    path = write_report(run, tmp_path / "report.html")
    with opened_report(playwright, path) as page:
        wait_until(page, PAGE_SHOWN, 0)
        assert page.evaluate(SHOWN) == review[:3]
        assert page.inner_text("#examples-page") == "page 1 of 3"
        assert page.evaluate("document.documentElement.hasAttribute('data-first-page-ms')")
        assert page.is_disabled("form [data-action=previous]")

        page.click("p.pager [data-action=next]")
        wait_until(page, PAGE_SHOWN, 1)
        assert page.evaluate(SHOWN) == review[3:6]
        page.click("form [data-action=next]")
        wait_until(page, PAGE_SHOWN, 2)
        assert page.evaluate(SHOWN) == review[6:] and page.is_disabled("form [data-action=next]")

        # The sort orders every example, not the shown page's.
        page.select_option("[data-sort]", "index")
        wait_until(page, PAGE_SHOWN, 0)
        by_row = sorted(run.examples, key=lambda ex: ex.index)
        assert page.evaluate(SHOWN) == [f"example-{ex.index}" for ex in by_row[:3]]

        # A filter keeps its examples among all of them.
        page.select_option("[data-filter=correct]", "1")
        correct = [f"example-{ex.index}" for ex in by_row if ex.correct]
        wait_until(page, "(ids) => JSON.stringify(Array.from(document.querySelectorAll('article.example'))"
                   ".map(a => a.id)) === JSON.stringify(ids)", correct[:3])
        assert page.inner_text("#examples-count") == f"{len(correct)} of {len(run.examples)} examples"

        # A deep link to an example the filter hides, on another page: the filters cleared, its page shown,
        # the example opened and scrolled to.
        target = [ex for ex in sorted(run.examples, key=review_key) if ex.correct is False][-1]
        assert f"example-{target.index}" not in page.evaluate(SHOWN)
        anchor = f"example-{target.index}"
        page.evaluate("(id) => { location.hash = id; }", anchor)
        wait_until(page, "(id) => !!document.getElementById(id)", anchor)
        wait_until(page, "(id) => document.querySelector('#' + id + ' > details').open", anchor)
        assert page.input_value("[data-filter=correct]") == ""
        assert anchor in page.evaluate(SHOWN)
        top = page.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", anchor)
        assert 0 <= top < 900

        # The charts of a shown page draw; those of a page left are let go.
        page.evaluate("() => window.reportgen.drawAll()")
        wait_until(page, "() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute("
                   "'data-drawn'))")
        assert page.evaluate("document.querySelectorAll('.chart[data-drawn=error]').length") == 0
