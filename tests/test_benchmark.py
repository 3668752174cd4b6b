"""The benchmark script runs end to end (tiny model, tiny budgets); its figures are not asserted."""

import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _benchmark(name: str):
    """The benchmark script ``name`` (benchmarks/NAME.py) as a module."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def _suite():
    return _benchmark("suite")


def test_suite_runs_end_to_end_on_a_tiny_model(bert_dir, tmp_path, monkeypatch):
    suite = _suite()
    monkeypatch.setattr(suite, "BATCH_SIZES", (1, 4))
    monkeypatch.setattr(suite, "EQUAL_SETTINGS", {**suite.EQUAL_SETTINGS, "integrated_gradients": {"n_steps": 4},
                                                  "layer_integrated_gradients": {"n_steps": 2},
                                                  "lime": {"num_samples": 20}, "shap": {"max_evals": 20}})
    monkeypatch.setattr(suite, "BUDGETS", {"integrated_gradients": ("n_steps", (2, 4)),
                                           "layer_integrated_gradients": ("n_steps", (2, 4)),
                                           "lime": ("num_samples", (10, 20)), "shap": ("max_evals", (10, 20))})
    monkeypatch.setattr(suite, "REFERENCE_BUDGETS", {"integrated_gradients": 4, "layer_integrated_gradients": 4,
                                                     "lime": 20, "shap": 20})
    monkeypatch.setattr(suite, "SHAP_CONVERGED", 40)
    out = tmp_path / "RESULTS.md"
    text = suite.main(["--model", str(bert_dir), "--examples", "3", "--quality-examples", "2", "--reps", "1",
                       "--bfloat16", "on", "--out", str(out)])
    assert out.read_text() == text
    for heading in ("## 1. The limit", "## 2 and 3.", "## 4. Equal quality", "Whole suite at equal settings",
                    "## 5. bfloat16 autocast", "Whole suite at equal settings in bfloat16"):
        assert heading in text
    for method in ("integrated_gradients", "saliency", "occlusion", "lime", "shap", "layer_integrated_gradients"):
        assert f"| {method} |" in text


def test_the_limit_batches_the_examples_themselves(classifier, monkeypatch):
    """Batch sizes stop at the number of examples, and repeating the examples packs lengths densely."""
    suite = _suite()
    from references import Sample

    monkeypatch.setattr(suite, "BATCH_SIZES", (1, 2, 8))
    lengths = (3, 5, 9)
    samples = [Sample("", [1] * n, 0) for n in lengths]
    limit = suite.model_limit(classifier, samples, reps=1, passes=2)
    assert [(r["kind"], r["batch"]) for r in limit.rows] == [(k, b) for k in suite.PASSES for b in (1, 2, 3)]
    padding = {r["batch"]: r["padding"] for r in limit.rows if r["kind"] == "forward"}
    assert padding == {1: 0.0, 2: 1 - 17 / 19, 3: 1 - 17 / 27}
    dense = suite.model_limit(classifier, samples, reps=1, copies=2, passes=1)
    assert {r["batch"]: r["padding"] for r in dense.rows if r["kind"] == "forward"}[2] == 0.0
    assert limit.tokens_per_s["forward"] == max(r["tok_s"] for r in limit.rows if r["kind"] == "forward")


def test_memory_benchmark_runs_end_to_end_on_the_tiny_model(tmp_path):
    import subprocess

    out = tmp_path / "memory.txt"
    subprocess.run([sys.executable, str(BENCHMARKS / "memory.py"), "--model", "tiny", "--sizes", "20", "60",
                    "--diagnose", "--out", str(out)], check=True, capture_output=True, timeout=600)
    text = out.read_text()
    assert "1. as shipped" in text and "2. diagnosis" in text
    assert text.count("growth of peak RSS") == 2 and "what the RunResult holds at 60 examples" in text


def test_the_runner_counts_real_tokens_by_kind_of_call(classifier):
    """Efficiency divides each kind's tokens by that kind's limit, so every call must land in its own kind."""
    import torch

    from reportgen.explain.batching import ModelRunner

    runner = ModelRunner(classifier)
    ids, mask = runner.pad([[1, 5, 6, 2], [1, 7, 2]])
    with torch.no_grad():
        runner.forward(ids, mask)
        runner.forward(ids, mask, output_attentions=True)
    with torch.enable_grad():
        runner.forward(ids, mask, output_attentions=True)
    assert runner.real_tokens == {"forward": 7, "attention": 7, "gradient": 7}


def test_efficiency_uses_the_limit_timed_beside_the_method():
    suite = _suite()
    rows = [{"kind": kind, "batch": 16, "tok_s": rate} for kind, rate in
            (("forward", 1000.0), ("attention", 900.0), ("gradient", 500.0))]
    limit = suite.Limit(rows, probe=None)
    timing = suite.Timing([2.0, 1.0, 3.0])
    tokens = {"forward": 400, "attention": 0, "gradient": 500}
    alone = suite.MethodRun(timing, 2, tokens, run=None)
    assert suite.efficiency(alone, limit) == (400 / 1000 + 500 / 500) / 2.0
    beside = [{"forward": 800.0, "attention": 0.0, "gradient": 400.0}, {"forward": 600.0, "attention": 0.0,
                                                                         "gradient": 250.0},
              {"forward": 1000.0, "attention": 0.0, "gradient": 600.0}]
    measured = suite.MethodRun(timing, 2, tokens, run=None, beside=beside)
    assert suite.efficiency(measured, limit) == (400 / 800 + 500 / 400) / 2.0  # medians of the beside timings
    assert suite.used_rates(measured, limit) == "forward 800; gradient 400"


def test_the_extreme_inputs_benchmark_runs_end_to_end(tmp_path):
    extremes = _benchmark("extremes")
    out = tmp_path / "extremes.txt"
    text = extremes.main(["--examples", "12", "--labels", "40", "--cell-mb", "1", "--out", str(out)])
    assert out.read_text() == text
    assert text.count("exit code 0; peak RSS") == 2, text


def test_the_tasks_benchmark_runs_end_to_end(tmp_path):
    tasks = _benchmark("tasks")
    out = tmp_path / "tasks.txt"
    text = tasks.main(["--windows", "1,2", "--out", str(out)])
    assert out.read_text() == text
    assert "| occlusion | " in text and "(b) --predict" in text and "(c) --zero-shot-labels" in text
    every_task = text.split("(d) every task")[1].split("(e) generation")[0].splitlines()
    rows = {line.split(" | ")[0].strip("| "): line for line in every_task if line.startswith("| ")}
    assert rows["lime"].count("does not apply") == 1 and rows["occlusion"].count("does not apply") == 0, every_task
    assert "NER, BERT" in every_task[2] and "decoder, Llama" in every_task[2]
    generation = text.split("(e) generation")[1].splitlines()
    rows = {line.split(" | ")[0].strip("| "): line for line in generation if line.startswith("| ")}
    assert rows["attention_rollout"].count("does not apply") == 3 and "lime" not in rows
    assert "left out for every model: lime, shap" in text
    assert "Marian" in generation[2] and rows["integrated_gradients"].count("does not apply") == 0
