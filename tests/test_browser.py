"""The report in a real browser: offline, no errors, charts drawn (needs Debian's chromium)."""

import pytest

from browser import CHROMIUM, PageVisit, open_report, remote_requests
from reportgen.render import write_report
from test_records import small_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def playwright():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        yield handle


def test_report_draws_every_chart_offline_without_errors(playwright, classifier, tmp_path):
    path = write_report(small_run(classifier), tmp_path / "report.html")
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit)
    try:
        page.evaluate("window.reportgen.drawAll()")
        page.wait_for_function(
            "document.querySelectorAll('.chart[data-drawn]').length === document.querySelectorAll('.chart').length",
            timeout=15000,
        )
        assert page.locator(".chart[data-drawn=true]").count() == 3
        assert page.locator(".chart canvas").count() == 3
        non_blank = page.evaluate(
            """() => Array.from(document.querySelectorAll('.chart canvas')).every(c => {
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 for (let i = 0; i < d.length; i += 4) { if (d[i] < 250 || d[i+1] < 250 || d[i+2] < 250) return true; }
                 return false; })"""
        )
        assert non_blank
    finally:
        browser.close()
    assert visit.errors == [] and visit.dialogs == []
    assert remote_requests(visit, path) == []
