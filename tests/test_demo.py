"""The real embedded default, end to end (slow: fine-tunes the model on first use)."""

import json

import pytest
from click.testing import CliRunner

from reportgen.cli import cli


@pytest.mark.slow
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
    examples = [json.loads(line) for line in (tmp_path / "results" / "examples.jsonl").open()]
    assert sorted({e["label"] for e in examples}) == [0, 1]
    assert sum(e["prediction"] == e["label"] for e in examples) >= 5
    html = out.read_text()
    assert html.count("window.vegaEmbed=") == 1
    for method in meta["methods"]:
        rows = (tmp_path / "results" / "attributions" / f"{method['name']}.jsonl").read_text().splitlines()
        assert len(rows) == 8, method["name"]
