"""One report per task opens offline in Chromium with no errors and every chart drawn, not blank."""

from __future__ import annotations

import pandas as pd
import pytest

from support.browser import CANVASES_NOT_BLANK, PageVisit, check_clean, draw_everything, open_report
from support.cli import invoke, run_args
from support.decoder_models import build_decoder_folder
from support.tiny_models import CORPUS

pytestmark = pytest.mark.browser


def _opens_cleanly(playwright, path) -> None:
    visit = PageVisit()
    browser, page = open_report(playwright, path, visit)
    try:
        draw_everything(page)
        assert page.locator(".chart").count() >= 10
        assert all(page.evaluate(CANVASES_NOT_BLANK))
    finally:
        browser.close()
    check_clean(visit, path)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_a_decoder_classifier_report_opens_offline(playwright, kind, tmp_path):
    folder = build_decoder_folder(tmp_path / kind, kind)
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2, "label": ["negative", "positive"] * 6}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    assert invoke(*run_args(folder, data, out, "all")).exit_code == 0
    _opens_cleanly(playwright, out)


def test_an_unlabeled_report_opens_offline(playwright, bert_dir, tmp_path):
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": CORPUS * 2}).to_csv(data, index=False)
    out = tmp_path / "report.html"
    assert invoke(*run_args(bert_dir, data, out, "all", "--label-column", "none")).exit_code == 0
    _opens_cleanly(playwright, out)
