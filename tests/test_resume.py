"""Killed runs resume to the same results; stored work is reused only while it is still valid."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen import records
from reportgen.data import Dataset
from reportgen.engine import Engine, RunConfig
from reportgen.explainers import explainers
from tiny_models import CORPUS

METHODS = "attention,saliency,grad_x_input,integrated_gradients,occlusion,random"


def comparable(run):
    """A run without what legitimately differs between runs: timings, the timestamp and costs.

    Costs differ after a resume: a method whose unit was missing recomputes a shared pass
    (the forward with attentions, the embedding gradients) that another method paid for before.
    """
    run.created, run.timings = "", {}
    for info in run.methods.values():
        info.seconds, info.model_evaluations = 0.0, 0
    run.metrics = {name: _strip_seconds(value) for name, value in run.metrics.items() if name != "cost"}
    return run


def _strip_seconds(value):
    if isinstance(value, dict):
        return {k: _strip_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_strip_seconds(v) for v in value]
    return value


def many_texts(n):
    words = " ".join(CORPUS).split()
    return [" ".join(words[(i * 7) % len(words):][: 4 + i % 9]) or "film" for i in range(n)]


@pytest.fixture
def big_csv(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i, text in enumerate(many_texts(96)):
            writer.writerow([text, i % 2])
    return path


def command(model, data, out_dir):
    return [sys.executable, "-m", "reportgen", "run", "--model", str(model), "--data", str(data),
            "--methods", METHODS, "--max-batch-tokens", "48", "--param", "integrated_gradients.n_steps=8", "--quiet",
            "--out", str(out_dir / "report.html"), "--results", str(out_dir / "results")]


def test_sigkill_then_resume_matches_an_uninterrupted_run(bert_dir, big_csv, tmp_path):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    subprocess.run(command(bert_dir, big_csv, whole), check=True, env=env)

    victim = subprocess.Popen(command(bert_dir, big_csv, resumed), env=env)
    progress = resumed / "results" / "partial" / "occlusion.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim.poll() is None:
        if progress.is_file() and progress.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    done_before = (resumed / "results" / "partial" / "predictions.jsonl").read_text().count("\n")
    assert not (resumed / "report.html").exists()

    subprocess.run(command(bert_dir, big_csv, resumed), check=True, env=env)
    total_batches = (resumed / "results" / "partial" / "predictions.jsonl").read_text().count("\n")
    assert 0 < done_before < total_batches
    first = comparable(records.load(whole / "results"))
    second = comparable(records.load(resumed / "results"))
    for part in ("examples", "attributions", "failures", "methods", "config", "model", "dataset"):
        assert getattr(second, part) == getattr(first, part), part
    for name in first.metrics:
        assert second.metrics[name] == first.metrics[name], name
    assert second == first


class CallCounter:
    def __init__(self, monkeypatch, names):
        self.calls = {name: 0 for name in names}
        for name in names:
            cls = explainers.get(name)
            original = cls.attribute

            def counted(self_, batch, _original=original, _name=name):
                self.calls[_name] += len(batch.examples)
                return _original(self_, batch)

            monkeypatch.setattr(cls, "attribute", counted)


def run_once(classifier, results, **params):
    data = Dataset(many_texts(12), [i % 2 for i in range(12)], list(range(12)))
    config = RunConfig(methods=["saliency", "occlusion", "random"], method_params=params, metrics=[],
                       max_batch_tokens=64)
    return Engine(classifier, config, progress=False, results=results).run(data)


def test_stored_work_is_reused_and_a_changed_parameter_redoes_only_its_method(classifier, tmp_path, monkeypatch):
    first = run_once(classifier, tmp_path / "r")
    counter = CallCounter(monkeypatch, ["saliency", "occlusion", "random"])
    again = run_once(classifier, tmp_path / "r")
    assert counter.calls == {"saliency": 0, "occlusion": 0, "random": 0}
    assert again.attributions == first.attributions and again.examples == first.examples
    run_once(classifier, tmp_path / "r", random={"distribution": "normal"} if "distribution" in
             explainers.get("random").defaults else {})
    changed = run_once(classifier, tmp_path / "r", occlusion={})
    assert counter.calls["saliency"] == 0
    assert changed.attributions["saliency"] == first.attributions["saliency"]


def test_a_changed_model_discards_all_stored_work(model_dirs, tmp_path, monkeypatch):
    from reportgen.modeling import load_classifier

    run_once(load_classifier(model_dirs["bert"]), tmp_path / "r")
    counter = CallCounter(monkeypatch, ["saliency", "occlusion", "random"])
    run_once(load_classifier(model_dirs["distilbert"]), tmp_path / "r")
    assert all(count == 12 for count in counter.calls.values())


def test_same_seed_gives_identical_scores_metrics_and_report(classifier, tmp_path, monkeypatch):
    from reportgen.render import render_html

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = Dataset(many_texts(10), [i % 2 for i in range(10)], list(range(10)))
    config = lambda: RunConfig(methods=METHODS.split(","), seed=7)  # noqa: E731
    one = Engine(classifier, config(), progress=False).run(data)
    two = Engine(classifier, config(), progress=False).run(data)
    assert one.attributions == two.attributions
    assert comparable(one).metrics == comparable(two).metrics
    assert render_html(comparable(one)) == render_html(comparable(two))
