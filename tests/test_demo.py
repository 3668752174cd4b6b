"""The real embedded default, end to end (slow: fine-tunes the model on first use), and its report in
Debian's Chromium."""

import json
import os

import pytest
from click.testing import CliRunner

from reportgen.cli import cli

from support.browser import (CANVASES_NOT_BLANK, CHROMIUM, OVERFLOW, PageVisit, check_clean, draw_everything,
                             open_report, wait_until)


@pytest.mark.slow
@pytest.mark.browser
def test_demo_end_to_end(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["demo", "--limit", "8", "--out", str(out), "--quiet"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    accuracy = float(result.output.split("held-out accuracy of the fine-tuned default model: ")[1].split()[0])
    assert accuracy >= 0.75, "the fine-tuned default model should reach about 0.8 held-out accuracy"
    meta = json.loads((tmp_path / "results" / "run.json").read_text())
    assert meta["model"]["training"]["held_out_accuracy"] == pytest.approx(accuracy, abs=1e-3)
    assert meta["dataset"]["explained"] == 8 and meta["failures"] == []
    assert len(meta["dataset"]["sha256"]) == 64 and len(meta["model"]["weights_sha256"]) == 64  # identified
    params = {method["name"]: method["params"] for method in meta["methods"]}
    assert params["lime"]["num_samples"] == 200 and params["shap"]["max_evals"] == 128  # the demo's budgets
    assert params["layer_integrated_gradients"]["n_steps"] == 8
    examples = [json.loads(line) for line in (tmp_path / "results" / "examples.jsonl").open()]
    assert sorted({e["label"] for e in examples}) == [0, 1]
    assert sum(e["prediction"] == e["label"] for e in examples) >= 5
    html = out.read_text()
    assert html.count("window.vegaEmbed=") == 1
    for method in meta["methods"]:
        rows = (tmp_path / "results" / "attributions" / f"{method['name']}.jsonl").read_text().splitlines()
        assert len(rows) == 8, method["name"]
    held_out = meta["dataset"]["split_rows"]
    assert f"8 of {held_out} held-out rows explained (seeded, class-stratified sample)" in html

    # The report as a reader opens it: offline, no error or dialog, every chart drawn and not blank.
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    visit = PageVisit()
    with sync_playwright() as handle:
        browser, page = open_report(handle, out, visit)
        try:
            wait_until(page, "document.documentElement.hasAttribute('data-first-chart-ms')", timeout=30000)
            draw_everything(page)
            charts = page.locator(".chart").count()
            assert charts >= 8 * 3 + 8  # three heatmaps per example (four with attention) and the section charts
            assert page.locator(".chart[data-drawn=true] canvas").count() == charts
            assert all(page.evaluate(CANVASES_NOT_BLANK))
            assert page.evaluate(OVERFLOW) == []
        finally:
            browser.close()
    check_clean(visit, out)
