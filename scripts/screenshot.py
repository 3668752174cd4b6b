"""Render a reportgen report to a PNG screenshot with Debian's Chromium through Playwright.

    python scripts/screenshot.py report.html docs/screenshot.png            # first screen + one example
    python scripts/screenshot.py report.html full.png --full                 # the whole page
    python scripts/screenshot.py report.html phone.png --phone --top         # a phone's first screen (390 x 844)

The default picture is the first screen of the report with, below it, one example of the
explorer (the first one with an attention map, else the first one) with all its charts drawn.
Needs ``playwright`` (Python package) and ``chromium`` (apt-get install -y chromium); no network.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ALL_DRAWN = """(selector) => Array.from(document.querySelectorAll(selector)).every(
    c => c.getAttribute('data-drawn') === 'true' || c.getAttribute('data-drawn') === 'error')"""


def screenshot(report: Path, out: Path, full: bool = False, width: int = 1280, height: int = 900,
               example: str | None = None, top_only: bool = False) -> Path:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(report.resolve().as_uri())
            _wait(page, "() => window.reportgen !== undefined")
            if full:
                page.evaluate("() => window.reportgen.drawAll()")
                _wait(page, ALL_DRAWN, ".chart", timeout=120)
                page.screenshot(path=str(out), full_page=True)
                return out
            _draw_visible(page)
            top = page.screenshot()
            selector = None if top_only else example or _pick_example(page)
            if selector is None:
                out.write_bytes(top)
                return out
            page.evaluate("""(selector) => {
                const article = document.querySelector(selector);
                article.querySelector('details').open = true;
                article.querySelectorAll('.chart').forEach(c => window.reportgen.draw(c));
            }""", selector)
            _wait(page, ALL_DRAWN, f"{selector} .chart", timeout=60)
            # The sticky navigation and filter bar would otherwise be drawn over the example.
            page.add_style_tag(content="nav.toc, form.filters { position: static !important; }")
            page.wait_for_timeout(200)
            shot = page.locator(selector).screenshot()
            _stack([top, shot], out)
        finally:
            browser.close()
    return out


def _draw_visible(page) -> None:
    """Wait until the charts on the first screen are drawn."""
    _wait(page, """() => {
        const charts = Array.from(document.querySelectorAll('.chart')).filter(c => {
            const r = c.getBoundingClientRect();
            return r.top < window.innerHeight && r.bottom > 0 && r.height > 0;
        });
        return charts.every(c => c.hasAttribute('data-drawn'));
    }""", timeout=60)
    page.wait_for_timeout(300)


def _wait(page, predicate: str, arg=None, timeout: float = 30) -> None:
    """Poll ``predicate`` from here: Playwright's wait_for_function polls inside the page with eval, which the
    report's Content-Security-Policy refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the report did not get ready within {timeout:.0f} s")
        time.sleep(0.05)


def _pick_example(page) -> str | None:
    return page.evaluate("""() => {
        const article = document.querySelector('article.example[data-attention="1"]')
            || document.querySelector('article.example');
        return article ? '#' + CSS.escape(article.id) : null;
    }""")


def _stack(images: list[bytes], out: Path) -> None:
    from PIL import Image

    pictures = [Image.open(io.BytesIO(data)).convert("RGB") for data in images]
    gap = 12
    width = max(p.width for p in pictures)
    height = sum(p.height for p in pictures) + gap * (len(pictures) - 1)
    sheet = Image.new("RGB", (width, height), (217, 222, 228))
    y = 0
    for picture in pictures:
        sheet.paste(picture, (0, y))
        y += picture.height + gap
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the report .html file")
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshot.png"), help="PNG to write")
    parser.add_argument("--full", action="store_true", help="the whole page instead of first screen + one example")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--example", help="CSS selector of the example to show (default: first with attention)")
    parser.add_argument("--top", action="store_true", help="the first screen only, without an example below it")
    parser.add_argument("--phone", action="store_true", help="a phone's screen: 390 x 844 (overrides the size)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"error: {args.report} is not a file", file=sys.stderr)
        return 2
    width, height = (390, 844) if args.phone else (args.width, args.height)
    path = screenshot(args.report, args.out, args.full, width, height, args.example, args.top)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
