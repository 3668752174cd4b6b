"""Opening a report in Debian's Chromium through Playwright, and recording everything that goes wrong."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


# A drawn chart's canvas: its size and a hash of its pixels; and whether they changed since ``old``.
CANVAS_PIXELS = """(id) => { const c = document.querySelector('#' + id + ' canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0; for (let i = 0; i < d.length; i += 7) { h = (h * 31 + d[i]) % 1000000007; }
    return [c.width, c.height, h]; }"""
PIXELS_CHANGED = f"([id, old]) => JSON.stringify(({CANVAS_PIXELS})(id)) !== JSON.stringify(old)"

def open_report(playwright, path: Path, visit: PageVisit, width: int = 1280, height: int = 900):
    """Launch chromium, open ``path`` and return (browser, page); the caller closes the browser."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("console", lambda msg: visit.errors.append(msg.text) if msg.type == "error"
            else visit.warnings.append(msg.text) if msg.type == "warning" else None)
    page.on("pageerror", lambda err: visit.errors.append(str(err)))
    page.on("dialog", lambda dialog: (visit.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: visit.requests.append(request.url))
    page.goto(path.resolve().as_uri())
    return browser, page


@contextmanager
def opened_report(playwright, path: Path, width: int = 1280, height: int = 900):
    """The page of the report at ``path``, closed afterwards and then checked clean (no error, no request)."""
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit, width, height)
    try:
        yield page
    finally:
        browser.close()
    check_clean(visit, path)


def remote_requests(visit: PageVisit, page_path: Path) -> list[str]:
    """Every request other than loading the report file itself."""
    return [url for url in visit.requests if url != page_path.resolve().as_uri()]


ALL_DRAWN = """() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute('data-drawn'))"""
CANVASES_NOT_BLANK = """() => Array.from(document.querySelectorAll('.chart canvas')).map(c => {
    if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) return true;
    }
    return false; })"""
# Wider than the window: the page itself, or a column of a two-column layout (a table running under the next one).
OVERFLOW = """() => {
    const out = [];
    const page = document.documentElement;
    if (page.scrollWidth > window.innerWidth) out.push('page: ' + page.scrollWidth + ' > ' + window.innerWidth);
    document.querySelectorAll('.columns > div').forEach((column, i) => {
        if (column.scrollWidth > column.clientWidth + 1) {
            const title = column.querySelector('h3');
            out.push('column ' + i + ' (' + (title ? title.textContent : '') + '): ' + column.scrollWidth + ' > '
                     + column.clientWidth);
        }
    });
    return out; }"""


def wait_until(page, predicate: str, arg=None, timeout: float = 15000) -> None:
    """Poll ``predicate`` (a JavaScript function, given ``arg``) from Python until it returns true. Playwright's
    own wait_for_function polls inside the page with eval, which the report's CSP rightly refuses; evaluate
    goes through the debugger protocol, which the CSP does not govern."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout / 1000:.0f} s: {predicate[:80]}")
        time.sleep(0.05)


def draw_everything(page) -> None:
    """Draw every chart of the page and check that none failed."""
    page.evaluate("() => window.reportgen.drawAll()")
    wait_until(page, ALL_DRAWN, timeout=60000)
    failed = page.evaluate("() => Array.from(document.querySelectorAll('.chart[data-drawn=error]'))"
                           ".map(c => c.id + ': ' + c.textContent)")
    assert failed == []


def check_clean(visit: PageVisit, path: Path) -> None:
    """No JavaScript error or warning, no dialog, no request beyond the file itself."""
    # Chromium's hint about the test's own pixel reads is the only warning allowed.
    warnings = [w for w in visit.warnings if not w.startswith("Canvas2D: Multiple readback operations")]
    assert visit.errors == [], visit.errors
    assert warnings == [], warnings
    assert visit.dialogs == [], visit.dialogs
    assert remote_requests(visit, path) == [], remote_requests(visit, path)
