"""The report in a notebook: Report(run) shows the whole page in a sandboxed iframe (its srcdoc), where it draws
under its own CSP and cannot reach the notebook; to_file writes it; show() hands it to IPython's display."""

from __future__ import annotations

import sys
import types
from html.parser import HTMLParser

import pytest

import reportgen
from reportgen.errors import ReportgenError
from reportgen.report.notebook import Report
from reportgen.report.render import render_html
from reportgen.results import store

from support.browser import CHROMIUM, FLAGS, wait_until
from support.runs import hostile_run, small_run


class Frames(HTMLParser):
    def __init__(self):
        super().__init__()
        self.frames, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "iframe":
            self.frames.append(dict(attrs))


def frames_of(markup: str) -> Frames:
    parser = Frames()
    parser.feed(markup)
    parser.close()
    return parser


def test_the_frame_holds_the_whole_page_sandboxed(classifier):
    run = hostile_run(classifier)
    markup = Report(run)._repr_html_()
    parsed = frames_of(markup)
    assert parsed.tags == ["iframe"]  # the page is inside the attribute, never markup of the notebook
    frame = parsed.frames[0]
    assert frame["srcdoc"] == render_html(run)
    assert set(frame["sandbox"].split()) == {"allow-scripts", "allow-downloads"}  # no allow-same-origin
    assert frame["height"] == "800"
    with pytest.raises(ReportgenError, match="height must be a whole number"):
        Report(run, height=10)


def test_a_results_folder_loads_and_writes_its_report(classifier, tmp_path):
    run = small_run(classifier)
    folder = store.save(run, tmp_path / "results")
    report = reportgen.Report(folder)
    assert report.to_file(tmp_path / "report.html").read_text(encoding="utf-8") == report.to_html()


def test_show_hands_the_report_to_ipython(classifier, monkeypatch):
    shown = []
    display = types.ModuleType("IPython.display")
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    run = small_run(classifier)
    assert reportgen.show(run) is None
    assert isinstance(shown[0], Report) and shown[0].run is run
    monkeypatch.setitem(sys.modules, "IPython.display", None)  # no IPython: one line saying what to do
    with pytest.raises(ReportgenError, match="needs IPython"):
        reportgen.show(run)


def test_the_framed_report_draws_its_charts_in_chromium(playwright, classifier):
    run = small_run(classifier)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    try:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_content(f"<!DOCTYPE html><html><body>{Report(run)._repr_html_()}</body></html>")
        frame = page.wait_for_selector("iframe.reportgen-report").content_frame()
        wait_until(frame, "() => window.reportgen !== undefined", timeout=60000)
        frame.evaluate("() => { window.reportgen.drawAll(); }")  # not only the charts the frame shows first
        wait_until(frame, "() => document.querySelectorAll('.chart[data-drawn=true]').length > 0", timeout=60000)
        assert frame.evaluate("() => { try { return window.parent.document.title; } catch (e) { return 'refused'; } }") \
            == "refused"  # an opaque origin: the report cannot read the notebook
        assert not errors
    finally:
        browser.close()
