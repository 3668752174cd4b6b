"""Stopped runs keep what they computed and say so (issue 14, findings 9, 11 and 12)."""

import json
import os
import signal
import subprocess
import sys

import pytest

from reportgen.measure import metrics
from reportgen.results import store

from support.cli import invoke, run_args, wait_for_rows

METHODS = "attention,saliency,occlusion,random"


def run(model, data, out_dir, *extra):
    """A run whose checkpoint stays after it finishes: these tests read and tamper with the stored work."""
    return invoke(*run_args(model, data, out_dir / "report.html", METHODS, "--results", out_dir / "results",
                            "--keep-checkpoint", *extra))


class MetricCalls:
    """How often each metric's ``compute`` ran; ``stop_at`` raises KeyboardInterrupt there (a Ctrl-C)."""

    def __init__(self, monkeypatch, stop_at=None):
        self.calls = {}
        for cls in metrics:
            original = cls.compute

            def counted(metric, run_, runner, _original=original, _name=cls.name):
                if _name == stop_at:
                    raise KeyboardInterrupt
                self.calls[_name] = self.calls.get(_name, 0) + 1
                return _original(metric, run_, runner)

            monkeypatch.setattr(cls, "compute", counted)


def test_finished_statistics_are_not_computed_again_after_ctrl_c(bert_dir, csv_file, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        before = MetricCalls(patch, stop_at="faithfulness")
        result = run(bert_dir, csv_file, tmp_path)
    assert result.exit_code == 130
    assert result.output.strip().splitlines()[-1].startswith("error: interrupted; ")
    done = set(before.calls)
    assert done and "faithfulness" not in done
    after = MetricCalls(monkeypatch)
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    assert not done & set(after.calls), "a statistic finished before the interrupt was computed again"
    assert after.calls.get("faithfulness") == 1
    saved = store.load(tmp_path / "results")
    assert saved.metrics["faithfulness"]["result"] is not None


def test_a_stored_statistic_is_recomputed_when_its_parameters_change(bert_dir, csv_file, tmp_path, monkeypatch):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    calls = MetricCalls(monkeypatch)
    from reportgen import api

    api.explain(bert_dir, csv_file, methods=METHODS, results=tmp_path / "results", progress=False,
                metric_params={"calibration": {"n_bins": 5}})
    assert calls.calls == {"calibration": 1}


def rerun_with_damaged_rows(model, data, out_dir, name, damage):
    """Run, damage the first stored row of partial/``name`` with ``damage(row)``, rerun: the rerun's output."""
    assert run(model, data, out_dir).exit_code == 0
    rows = out_dir / "results" / "partial" / name
    lines = [json.loads(line) for line in rows.read_text().splitlines()]
    damage(lines[0])
    rows.write_text("".join(json.dumps(line) + "\n" for line in lines))
    again = run(model, data, out_dir)
    assert again.exit_code == 0
    return again.output


UNIT_DAMAGE = {
    "too few scores": lambda row: row["attributions"][0].update(tokens=row["attributions"][0]["tokens"][:2]),
    "a foreign example": lambda row: row["attributions"][0].update(example=10_000),
    "scores as text": lambda row: row["attributions"][0].update(words="high"),
    "not an object": lambda row: row.update(attributions=[7]),
}


@pytest.mark.parametrize("damage", UNIT_DAMAGE)
def test_a_stored_unit_of_the_wrong_shape_is_recomputed(bert_dir, csv_file, tmp_path, damage):
    output = rerun_with_damaged_rows(bert_dir, csv_file, tmp_path, "saliency.jsonl", UNIT_DAMAGE[damage])
    assert "saliency.jsonl does not fit this run; recomputing it" in output
    whole = run(bert_dir, csv_file, tmp_path / "whole")
    assert whole.exit_code == 0
    assert store.load(tmp_path / "results").attributions == store.load(tmp_path / "whole" / "results").attributions


def test_stored_predictions_of_the_wrong_shape_are_recomputed(bert_dir, csv_file, tmp_path):
    output = rerun_with_damaged_rows(bert_dir, csv_file, tmp_path, "predictions.jsonl",
                                     lambda row: row.update(examples=row["examples"][:1]))
    assert "predictions.jsonl does not fit this run" in output
    assert run(bert_dir, csv_file, tmp_path / "whole").exit_code == 0
    assert store.load(tmp_path / "results").examples == store.load(tmp_path / "whole" / "results").examples


def test_a_damaged_fingerprint_names_no_file_outside_the_checkpoint(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    victim = tmp_path / "victim.jsonl"
    victim.write_text("mine")
    fingerprint = tmp_path / "results" / "partial" / "fingerprint.json"
    stored = json.loads(fingerprint.read_text())
    stored["methods"]["../../victim"] = "x"
    stored["run"] = "another run"
    fingerprint.write_text(json.dumps(stored))
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    assert victim.read_text() == "mine"


# Finding 12: signals.

def slow_command(model, data, out_dir):
    return [sys.executable, "-m", "reportgen", *map(str, run_args(
        model, data, out_dir / "report.html", "saliency,occlusion,integrated_gradients", "--results",
        out_dir / "results", "--batch-size", "1", "--param", "integrated_gradients.n_steps=64"))]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_says_what_was_saved_and_how_to_resume(bert_dir, csv_file, tmp_path, signum, code):
    child = subprocess.Popen(slow_command(bert_dir, csv_file, tmp_path), stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, PYTHONUNBUFFERED="1"))
    wait_for_rows(child, tmp_path / "results" / "partial" / "occlusion.jsonl", 2)
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    assert child.returncode == code, err
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and "Aborted" not in err
    saved = int(last.split("interrupted; ")[1].split(" units")[0])
    assert saved >= 4 and last.endswith("units saved, rerun the same command to resume"), last
    finished = subprocess.run(slow_command(bert_dir, csv_file, tmp_path), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr


def test_an_interrupt_outside_a_run_is_one_line_too(tmp_path, monkeypatch):
    from reportgen.results import store as saved

    def stopped(folder):
        raise KeyboardInterrupt

    monkeypatch.setattr(saved, "load", stopped)
    result = invoke("render", tmp_path, "--out", tmp_path / "r.html")
    assert result.exit_code == 130
    assert result.output.strip() == ("error: interrupted; what the results folder holds is kept: "
                                     "rerun the same command to resume")

