"""Runs the tests share: a small run, a demo-like run of the tiny model and its hostile twin."""

from __future__ import annotations

import copy

from reportgen.api import explain_and_measure
from reportgen.explainers import explainers
from reportgen.load.data import Dataset
from reportgen.measure import compute_metrics
from reportgen.options import RunConfig

from .tiny_models import CORPUS

SMALL_TEXTS = ["the movie was good and the cast was great", "a dull film", "", "unbelievable acting!"]


def measured(classifier, dataset, config, checkpoint=None):
    """The explain and the measure stage, as the API runs them, without progress bars."""
    return explain_and_measure(classifier, dataset, config, checkpoint=checkpoint, progress=False)


def small_run(classifier, methods=("attention", "saliency", "grad_x_input")):
    """Three cheap methods and no statistics on four texts, one of them empty (a failure)."""
    data = Dataset(SMALL_TEXTS, [1, 0, 0, 1], [0, 1, 2, 3], info={"path": "inline", "rows": 4})
    return measured(classifier, data, RunConfig(methods=list(methods), metrics=[]))


# Every registered method except shap (its first call alone costs seconds; its scores are drawn
# like any other method's), with fewer samples and steps than the defaults, and every metric.
QUICK = {"lime": {"num_samples": 40}, "integrated_gradients": {"n_steps": 4},
         "layer_integrated_gradients": {"n_steps": 4}}
ATTENTION_MAPS = 3

_RUNS: dict[int, object] = {}


def demo_like_run(classifier):
    """All methods but shap and all statistics on the tiny BERT: 8 texts, one empty (a failure),
    two groups, full attention maps for the first 3 examples. Built once per session; a copy."""
    if id(classifier) not in _RUNS:
        texts = CORPUS + ["", "the film was fun"]
        dataset = Dataset(texts=texts, labels=[i % 2 for i in range(len(texts))], rows=list(range(len(texts))),
                          groups=["a" if i % 3 else "b" for i in range(len(texts))],
                          info={"path": "inline", "name": "tiny corpus", "rows": len(texts)})
        methods = [name for name in explainers.names() if name != "shap"]
        params = {name: {k: v for k, v in p.items() if k in explainers.get(name).defaults}
                  for name, p in QUICK.items() if name in methods}
        config = RunConfig(methods=methods, seed=0, method_params=params, attention_maps=ATTENTION_MAPS,
                           sanity_examples=2)  # the default would check none of 8 examples
        _RUNS[id(classifier)] = measured(classifier, dataset, config)
    return copy.deepcopy(_RUNS[id(classifier)])


HOSTILE_STRINGS = [
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "<img src=x onerror=alert(2)>",
    '" onmouseover="alert(3)',
    "{{ 7*7 }}",
    "{% raw %}",
    "${alert(4)}",
    "\u2028line\u2029para",
    "back\\slash \\u003c \\\"quoted\\\"",
    "'single' \"double\"",
    "\u202eevil override",
    "emoji \U0001f600\U0001f4a5",
    "x" * 300,
    "datum.x + ']); alert(5); //",
    "javascript:alert(6)",
    "&amp; &lt;b&gt;",
]


def hostile_text(i: int) -> str:
    return " | ".join(HOSTILE_STRINGS[i % len(HOSTILE_STRINGS):] + HOSTILE_STRINGS[: i % len(HOSTILE_STRINGS)])


def hostile_run(classifier):
    """The demo-like run with every dataset string (texts, tokens, words, class names, groups)
    replaced by hostile ones; word statistics are recomputed so they hold hostile words too."""
    run = demo_like_run(classifier)
    n = len(HOSTILE_STRINGS)
    for i, ex in enumerate(run.examples):
        ex.text = hostile_text(i)
        ex.tokens = [HOSTILE_STRINGS[(i + j) % n] for j in range(len(ex.tokens))]
        ex.words = [HOSTILE_STRINGS[(i + j + 3) % n] for j in range(len(ex.words))]
        ex.group = HOSTILE_STRINGS[i % 3]
    run.model["labels"] = ["<b>neg</b></script>", "{{ pos }}\u202e"]
    run.model["display_name"] = "<script>alert('model')</script>"
    run.dataset["name"] = "<!--<script> data"
    for failure in run.failures:  # a results folder read back is hostile too: its reasons reach the alerts
        failure.reason = f"{HOSTILE_STRINGS[0]} {HOSTILE_STRINGS[2]}"
    compute_metrics(run, None, ["performance", "calibration", "top_words", "error_words"],
                    {"top_words": {"min_count": 1}, "error_words": {"min_count": 1}})
    return run
