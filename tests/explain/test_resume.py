"""Killed runs resume to the same results; stored work is reused only while it is still valid."""

import csv
import os
import signal
import subprocess
import sys

import pytest
import torch

from reportgen.explain.batching import ModelRunner
from reportgen.explain.checkpoint import Checkpoint
from reportgen.explain.engine import Engine
from reportgen.explainers import explainers
from reportgen.load.data import Dataset
from reportgen.options import RunConfig
from reportgen.results import store

from support.cli import wait_for_rows
from support.runs import measured
from support.tiny_models import CORPUS

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
    wait_for_rows(victim, resumed / "results" / "partial" / "occlusion.jsonl", 3)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    done_before = (resumed / "results" / "partial" / "predictions.jsonl").read_text().count("\n")
    assert not (resumed / "report.html").exists()

    subprocess.run(command(bert_dir, big_csv, resumed) + ["--keep-checkpoint"], check=True, env=env)  # to count
    total_batches = (resumed / "results" / "partial" / "predictions.jsonl").read_text().count("\n")
    assert 0 < done_before < total_batches
    first = comparable(store.load(whole / "results"))
    second = comparable(store.load(resumed / "results"))
    for part in ("examples", "attributions", "failures", "methods", "config", "model", "dataset"):
        assert getattr(second, part) == getattr(first, part), part
    for name in first.metrics:
        assert second.metrics[name] == first.metrics[name], name
    assert second == first


COUNTED = ["saliency", "occlusion", "random"]


class CallCounter:
    """Examples each explainer was asked to attribute, and examples the model evaluated."""

    def __init__(self, monkeypatch, names):
        self.calls = {name: 0 for name in names}
        self.evaluations = 0
        for name in names:
            cls = explainers.get(name)
            original = cls.attribute

            def counted(self_, batch, _original=original, _name=name):
                self.calls[_name] += len(batch.examples)
                return _original(self_, batch)

            monkeypatch.setattr(cls, "attribute", counted)
        forward = ModelRunner.forward

        def counted_forward(runner, ids, mask, **kwargs):
            self.evaluations += mask.shape[0]
            return forward(runner, ids, mask, **kwargs)

        monkeypatch.setattr(ModelRunner, "forward", counted_forward)


def run_once(classifier, results, texts=None, overwrite=False, contrast=False, **params):
    """The counted methods over ``texts``; the errors' contrast pass only when asked (it adds to the counts)."""
    texts = texts or many_texts(12)
    data = Dataset(texts, [i % 2 for i in range(len(texts))], list(range(len(texts))))
    config = RunConfig(methods=COUNTED, method_params=params, metrics=[], max_batch_tokens=64, contrast=contrast)
    checkpoint = Checkpoint(results, overwrite=overwrite)
    try:
        return Engine(classifier, config, checkpoint=checkpoint, progress=False).run(data)
    finally:
        checkpoint.close()


def test_stored_work_is_reused(classifier, tmp_path, monkeypatch):
    first = run_once(classifier, tmp_path / "r", contrast=True)
    assert any("contrast" in a.extra for a in first.attributions["saliency"].values())  # the errors' pass too
    counter = CallCounter(monkeypatch, COUNTED)
    again = run_once(classifier, tmp_path / "r", contrast=True)
    assert counter.calls == {"saliency": 0, "occlusion": 0, "random": 0} and counter.evaluations == 0
    assert again.attributions == first.attributions and again.examples == first.examples


def test_a_changed_parameter_redoes_only_its_method(classifier, tmp_path, monkeypatch):
    first = run_once(classifier, tmp_path / "r")
    counter = CallCounter(monkeypatch, COUNTED)
    changed = run_once(classifier, tmp_path / "r", occlusion={"replacement": "pad"})
    assert counter.calls == {"saliency": 0, "occlusion": 12, "random": 0}
    # the stored predictions are reused too: every model evaluation is occlusion's own
    assert counter.evaluations == changed.methods["occlusion"].model_evaluations > 12
    assert changed.attributions["occlusion"] != first.attributions["occlusion"]
    for method in ("saliency", "random"):
        assert changed.attributions[method] == first.attributions[method]
    assert changed.methods["occlusion"].params == {"replacement": "pad"}


def test_a_changed_text_discards_all_stored_work(classifier, tmp_path, monkeypatch):
    texts = many_texts(12)
    run_once(classifier, tmp_path / "r", texts)
    words = texts[5].split()
    words[0] = "dull" if words[0] != "dull" else "fun"  # one word for another: the same batches
    texts[5] = " ".join(words)
    counter = CallCounter(monkeypatch, COUNTED)
    changed = run_once(classifier, tmp_path / "r", texts, overwrite=True)
    assert counter.calls == {"saliency": 12, "occlusion": 12, "random": 12}
    assert changed.example(5).text == texts[5] and changed.example(5).tokens[1] == words[0]


def nudge_one_weight(classifier):
    with torch.no_grad():
        classifier.model.classifier.bias[0] += 0.5
    return classifier


@pytest.mark.parametrize("change", ["other architecture", "one weight nudged"])
def test_a_changed_model_discards_all_stored_work(model_dirs, tmp_path, monkeypatch, change):
    from reportgen.load.model import load_classifier

    classifier = load_classifier(model_dirs["bert"], device="cpu")
    first = run_once(classifier, tmp_path / "r")
    if change == "other architecture":
        classifier = load_classifier(model_dirs["distilbert"], device="cpu")
    else:
        classifier = nudge_one_weight(classifier)
    counter = CallCounter(monkeypatch, COUNTED)
    changed = run_once(classifier, tmp_path / "r", overwrite=True)
    assert counter.calls == {"saliency": 12, "occlusion": 12, "random": 12}
    assert [ex.probabilities for ex in changed.examples] != [ex.probabilities for ex in first.examples]


def test_same_seed_gives_identical_scores_metrics_and_report(classifier, tmp_path, monkeypatch):
    from reportgen.report.render import render_html

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = Dataset(many_texts(10), [i % 2 for i in range(10)], list(range(10)))
    config = lambda: RunConfig(methods=METHODS.split(","), seed=7)  # noqa: E731
    one = measured(classifier, data, config())
    two = measured(classifier, data, config())
    assert one.attributions == two.attributions
    assert comparable(one).metrics == comparable(two).metrics
    assert render_html(comparable(one)) == render_html(comparable(two))


def test_a_line_torn_by_a_kill_is_cut_off_so_later_rows_stay_readable(tmp_path):
    from reportgen.explain.checkpoint import Checkpoint, Unit
    from reportgen.results.records import Attribution

    def unit(batch):
        return Unit([Attribution("saliency", batch, [0.5, float(batch)], [0.5])], [], 0.1, 2)

    first = Checkpoint(tmp_path).open("run", {"saliency": "key"})
    first.save_unit("saliency", 0, unit(0))
    first.save_unit("saliency", 1, unit(1))
    stored = tmp_path / "partial" / "saliency.jsonl"
    with stored.open("a") as out:
        out.write('{"batch": 2, "seconds": 0.1, "attribu')  # the kill hit mid-write
    resumed = Checkpoint(tmp_path).open("run", {"saliency": "key"})
    assert resumed.unit("saliency", 2) is None
    assert resumed.unit("saliency", 1) == unit(1)
    resumed.save_unit("saliency", 2, unit(2))
    resumed.save_unit("saliency", 3, unit(3))
    again = Checkpoint(tmp_path).open("run", {"saliency": "key"})
    assert [again.unit("saliency", b) for b in range(4)] == [unit(b) for b in range(4)]
    assert len(stored.read_text().splitlines()) == 4


def test_the_checkpoint_keeps_no_stored_rows_in_memory(tmp_path):
    from reportgen.explain.checkpoint import Checkpoint, Unit
    from reportgen.results.records import Attribution

    checkpoint = Checkpoint(tmp_path).open("run", {"saliency": "key"})
    for batch in range(50):
        checkpoint.save_unit("saliency", batch, Unit([Attribution("saliency", batch, [1.0] * 100, [1.0])]))
    rows = checkpoint.units["saliency"]
    assert set(vars(rows)) == {"path", "offsets", "run_key", "key_field"}
    assert all(isinstance(v, int) for v in rows.offsets.values())


def test_the_heap_trimmer_trims_at_most_once_per_interval(monkeypatch):
    from reportgen.explain import memory

    calls, clock = [], [100.0]
    monkeypatch.setattr(memory, "malloc_trim", lambda: calls.append)
    monkeypatch.setattr(memory.time, "monotonic", lambda: clock[0])
    trimmer = memory.HeapTrimmer(interval=5.0)
    trimmed = []
    for step in (1.0, 1.0, 3.5, 1.0, 5.0, 0.5):
        clock[0] += step
        trimmed.append(trimmer.after_batch())
    assert trimmed == [False, False, True, False, True, False] and calls == [0, 0]


def test_the_engine_hands_freed_memory_back_during_a_run(classifier, monkeypatch):
    from reportgen.explain import memory

    calls = []
    monkeypatch.setattr(memory, "malloc_trim", lambda: calls.append)
    monkeypatch.setattr(memory.HeapTrimmer.__init__, "__defaults__", (0.0,))  # trim after every batch
    dataset = Dataset(texts=many_texts(12), labels=[i % 2 for i in range(12)], rows=list(range(12)))
    Engine(classifier, RunConfig(methods=["saliency"], metrics=[], max_batch_tokens=40), progress=False).run(dataset)
    assert len(calls) >= 2
