"""Metrics on runs of real tiny models: every registered metric, sanity of faithfulness, batching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from reportgen import records
from reportgen.data import Dataset
from reportgen.engine import Engine, RunConfig
from reportgen.explainers import explainers
from reportgen.metrics import metrics
from reportgen.modeling import load_classifier
from reportgen.runner import ModelRunner
from tiny_models import CORPUS, build_model_folder

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
    return engine.run(dataset), engine.runner


@pytest.mark.parametrize("name", metrics.names())
def test_every_registered_metric_runs_on_a_real_run(small_run, name):
    run, runner = small_run
    entry = run.metrics[name]
    assert "error" not in entry, entry.get("error")
    result = entry["result"]
    assert isinstance(result["definition"], str) and len(result["definition"]) > 40
    json.dumps(entry, allow_nan=False)
    again = metrics.get(name)().compute(run, runner)
    assert json.dumps(sorted(again)) == json.dumps(sorted(result))


def test_metrics_round_trip_through_saved_results(small_run, tmp_path):
    run, _ = small_run
    loaded = records.load(records.save(run, tmp_path / "results"))
    assert loaded.metrics == json.loads(json.dumps(run.metrics))


def test_real_run_counts_the_failed_example(small_run):
    run, _ = small_run
    performance = run.metrics["performance"]["result"]
    assert performance["counts"]["failed"] == 1 and performance["counts"]["scored"] == len(CORPUS) + 1
    assert {row["group"] for row in performance["groups"]} == {"a", "b"}
    faithfulness = run.metrics["faithfulness"]["result"]
    assert {row["method"] for row in faithfulness["summary"]} == set(run.attributions)
    assert len(faithfulness["per_example"]) == len(run.attributions) * (len(CORPUS) + 1)


def test_faithfulness_and_atlas_do_not_depend_on_batching(small_run, classifier):
    full, runner = small_run
    keep = [m for m in ("grad_x_input", "random") if m in full.attributions][:2] or list(full.attributions)[:2]
    few = [ex for ex in full.examples if ex.ok][:3]
    run = records.RunResult(model=full.model, examples=few,
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

NEUTRAL = ("the a an movie film plot actor story scene is was it this that and of to in on with for as by at "
           "from cast director script music ending").split()
CHANCE = "random"
SENSIBLE = ("saliency", "grad_x_input", "occlusion", "integrated_gradients")


def keyword_sentences(n: int, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """Neutral filler with one deciding word: 'great' -> positive (1), 'awful' -> negative (0)."""
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(NEUTRAL, size=int(rng.integers(5, 10))))
        label = int(rng.integers(2))
        words.insert(int(rng.integers(len(words) + 1)), "great" if label else "awful")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def keyword_run(tmp_path_factory):
    """The tiny BERT trained (80 Adam steps; the loss is ~0.01 after 50) so that one known word decides the class, then explained."""
    folder = build_model_folder(tmp_path_factory.mktemp("keyword") / "bert", "bert", seed=1)
    classifier = load_classifier(folder, device="cpu")
    model, tokenizer = classifier.model, classifier.tokenizer
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(80):
        texts, labels = keyword_sentences(32, rng)
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        loss = model(**batch, labels=torch.tensor(labels)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    texts, labels = keyword_sentences(24, np.random.default_rng(1))
    dataset = Dataset(texts=texts, labels=labels, rows=list(range(len(texts))))
    config = RunConfig(methods=[*SENSIBLE, CHANCE], metrics=["performance", "faithfulness"], seed=0)
    return Engine(classifier, config, progress=False).run(dataset)


def test_keyword_model_learned_its_rule(keyword_run):
    assert keyword_run.metrics["performance"]["result"]["overall"]["accuracy"] >= 0.95


@pytest.mark.parametrize("method", SENSIBLE)
def test_gradient_and_perturbation_methods_beat_random_on_comprehensiveness(keyword_run, method):
    result = keyword_run.metrics["faithfulness"]["result"]
    summary = {row["method"]: row for row in result["summary"]}
    assert result["control"] == CHANCE
    assert summary[method]["comprehensiveness"] > summary[CHANCE]["comprehensiveness"]
    assert summary[method]["comprehensiveness_lift"] > 0.05
