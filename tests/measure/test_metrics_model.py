"""Metrics on runs of real tiny models: every registered metric, sanity of faithfulness, batching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.explain.batching import ModelRunner
from reportgen.explain.engine import Engine
from reportgen.explainers import explainers
from reportgen.load.data import Dataset
from reportgen.measure import applies_to, compute_metrics, metrics
from reportgen.options import RunConfig
from reportgen.results import RunResult, store
from reportgen.tasks import task_of

from support.runs import measured
from support.tiny_models import CORPUS, keyword_sentences

# ---------------------------------------------------------------- every metric on a real run

# Fewer samples/steps than the defaults, to keep the test fast (only where the method has the parameter).
QUICK = {"lime": {"num_samples": 60}, "shap": {"max_evals": 60}, "integrated_gradients": {"n_steps": 8},
         "layer_integrated_gradients": {"n_steps": 4}}


def quick_params() -> dict[str, dict]:
    return {name: {k: v for k, v in params.items() if k in explainers.get(name).defaults}
            for name, params in QUICK.items() if name in explainers}


@pytest.fixture(scope="module")
def small_run(classifier):
    """All registered explainers and metrics on the tiny BERT; one example fails (empty text)."""
    texts = CORPUS + ["", "the film was fun"]
    dataset = Dataset(texts=texts, labels=[i % 2 for i in range(len(texts))], rows=list(range(len(texts))),
                      groups=["a" if i % 3 else "b" for i in range(len(texts))])
    engine = Engine(classifier, RunConfig(seed=0, method_params=quick_params()), progress=False)
    run = engine.run(dataset)
    compute_metrics(run, engine.runner, "all")
    return run, engine.runner


@pytest.mark.parametrize("name", metrics.names())
def test_every_registered_metric_runs_on_a_real_run(small_run, name):
    run, runner = small_run
    if not applies_to(metrics.get(name), task_of(run)):  # e.g. segment_share: its own task's run checks it
        assert name not in run.metrics
        return
    entry = run.metrics[name]
    assert "error" not in entry, entry.get("error")
    result = entry["result"]
    assert isinstance(result["definition"], str) and len(result["definition"]) > 40
    json.dumps(entry, allow_nan=False)
    again = metrics.get(name)().compute(run, runner)
    assert json.dumps(sorted(again)) == json.dumps(sorted(result))


def test_metrics_round_trip_through_saved_results(small_run, tmp_path):
    run, _ = small_run
    loaded = store.load(store.save(run, tmp_path / "results"))
    assert loaded.metrics == json.loads(json.dumps(run.metrics))


def test_real_run_counts_the_failed_example(small_run):
    run, _ = small_run
    performance = run.metrics["performance"]["result"]
    assert performance["counts"]["failed"] == 1 and performance["counts"]["scored"] == len(CORPUS) + 1
    assert {row["group"] for row in performance["groups"]} == {"a", "b"}
    faithfulness = run.metrics["faithfulness"]["result"]
    assert {row["method"] for row in faithfulness["summary"]} == set(run.attributions)
    assert len(faithfulness["per_example"]) == len(run.attributions) * (len(CORPUS) + 1)


def test_faithfulness_ranks_only_word_level_scores_by_word(small_run):
    """lime's token scores are its word scores spread out, so faithfulness ranks its tokens by word
    on the examples with a word of several tokens; shap's and the others' token scores are their own."""
    run, _ = small_run
    explained = [ex for ex in run.examples if ex.ok]
    split = [ex for ex in explained if len([w for w in ex.word_ids if w is not None]) > len(ex.words)]
    assert 0 < len(split) < len(explained)  # "unbelievable acting" is split into sub-word tokens
    result = run.metrics["faithfulness"]["result"]
    assert result["ranked_by_word"] == [{"method": "lime", "examples": len(split)}]


def test_faithfulness_and_atlas_do_not_depend_on_batching(small_run, classifier):
    full, runner = small_run
    keep = [m for m in ("grad_x_input", "random") if m in full.attributions][:2] or list(full.attributions)[:2]
    few = [ex for ex in full.examples if ex.ok][:3]
    run = RunResult(model=full.model, examples=few,
                            methods={m: full.methods[m] for m in keep},
                            attributions={m: full.attributions[m] for m in keep})
    one_by_one = ModelRunner(classifier, max_batch_tokens=1)
    fractions = {"fractions": [0.1, 0.5]}
    for name, params in (("faithfulness", fractions), ("attention_atlas", {})):
        batched = metrics.get(name)(**params).compute(run, runner)
        alone = metrics.get(name)(**params, **({"chunk_size": 1} if name == "faithfulness" else {})).compute(
            run, one_by_one)
        key = "summary" if name == "faithfulness" else "per_head"
        for a, b in zip(batched[key], alone[key]):
            assert a.keys() == b.keys()
            for k, v in a.items():
                assert b[k] == (pytest.approx(v, abs=1e-5) if isinstance(v, float) else v), (name, k)
    assert max(one_by_one.batch_sizes) == 1


# ---------------------------------------------------------------- faithfulness sanity on a trained model

CHANCE = "random"
SENSIBLE = ("saliency", "grad_x_input", "occlusion", "integrated_gradients", "lime", "shap")
# lime and shap on budgets well below their defaults (500 each), to keep the test fast.
SENSIBLE_PARAMS = {"lime": {"num_samples": 64}, "shap": {"max_evals": 48}}


@pytest.fixture(scope="module")
def keyword_run(keyword_classifier):
    """The keyword model (one known word decides the class) explained on fresh sentences."""
    texts, labels = keyword_sentences(24, np.random.default_rng(1))
    dataset = Dataset(texts=texts, labels=labels, rows=list(range(len(texts))))
    config = RunConfig(methods=[*SENSIBLE, CHANCE], metrics=["performance", "faithfulness"], seed=0,
                       method_params=SENSIBLE_PARAMS)
    return measured(keyword_classifier, dataset, config)


def test_keyword_model_learned_its_rule(keyword_run):
    assert keyword_run.metrics["performance"]["result"]["overall"]["accuracy"] >= 0.95


@pytest.mark.parametrize("method", SENSIBLE)
def test_gradient_and_perturbation_methods_beat_random_on_comprehensiveness(keyword_run, method):
    result = keyword_run.metrics["faithfulness"]["result"]
    summary = {row["method"]: row for row in result["summary"]}
    assert result["control"] == CHANCE
    assert summary[method]["comprehensiveness"] > summary[CHANCE]["comprehensiveness"]
    assert summary[method]["comprehensiveness_lift"] > 0.05
