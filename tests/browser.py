"""Opening a report in Debian's Chromium through Playwright, recording everything that goes wrong."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(playwright, path: Path, visit: PageVisit, width: int = 1280, height: int = 900):
    """Launch chromium, open ``path`` and return (browser, page); the caller closes the browser."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("console", lambda msg: visit.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: visit.errors.append(str(err)))
    page.on("dialog", lambda dialog: (visit.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: visit.requests.append(request.url))
    page.goto(path.resolve().as_uri())
    return browser, page


def remote_requests(visit: PageVisit, page_path: Path) -> list[str]:
    """Every request other than loading the report file itself."""
    return [url for url in visit.requests if url != page_path.resolve().as_uri()]
