"""The Chromium these browser tests drive, through Playwright (one per test module)."""

import pytest

from support.browser import CHROMIUM


@pytest.fixture(scope="module")
def playwright():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        yield handle
