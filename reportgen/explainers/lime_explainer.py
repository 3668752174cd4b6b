"""LIME through the ``lime`` package, with the model calls of a whole batch pooled."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..explain.batch import Batch
from ..explain.explainer import Explanation, explainers
from ..explain.perturbed import perturbed_text
from ..explain.pooling import Job, PooledExplainer, Predict, example_seed
from ..ops.params import MAX_WORDS, Choice, Number, Text, Whole
from ..results.records import Example

FEATURE_SELECTION = ("none", "auto", "forward_selection", "highest_weights", "lasso_path")
DISTANCES = ("cosine", "euclidean", "manhattan", "cityblock", "l1", "l2")  # what scikit-learn takes on sparse rows
MAX_SAMPLES = 50_000  # ten times lime's own default; each sample is a perturbed text kept until it is scored


@explainers.register
class Lime(PooledExplainer):
    name = "lime"
    description = (
        "LIME (lime package, LimeTextExplainer.explain_instance) for the target class probability. "
        "Features are reportgen's words of the example, by position (bow=False, split_expression "
        "returns the words), so there is one score per word. A perturbed text keeps a random subset "
        "of the words (lime draws how many to drop uniformly from 1..n, then which); dropped words are "
        "replaced by mask_string, '' by default, i.e. deleted from the text (lime's own default for "
        "bow=False would be the string 'UNKWORDZ'). Samples are weighted by the kernel "
        "sqrt(exp(-d^2/kernel_width^2)) of d = 100 x cosine distance between the binary keep-vectors; "
        "the surrogate is lime's weighted Ridge(alpha=1) with intercept on all words "
        "(feature_selection 'none'; with another lime selection method only num_features words are "
        "fitted, None = all, and the others score 0); a word's score is its coefficient. The random "
        "state of each example is seeded from (run seed, example index). Truncated texts are cut "
        "after the last token the model sees. The two texts of a pair are perturbed as one string "
        "joined by the separator tokens (never removed) and scored as a pair again. The perturbed "
        "texts of all examples of a batch are evaluated together in pooled model batches."
    )
    order = 50
    parameters = {
        # the surrogate's fit on fresh samples matches lime's at its default 5,000 (benchmarks/RESULTS.md)
        "num_samples": Whole(500, low=2, high=MAX_SAMPLES),
        "kernel_width": Number(25.0, low=0, low_open=True),
        "distance_metric": Choice("cosine", choices=DISTANCES),
        "feature_selection": Choice("none", choices=FEATURE_SELECTION),
        "num_features": Whole(None, low=1, high=MAX_WORDS, also={None: "all words"}),
        "mask_string": Text(""),
    }

    def lime_explainer(self, words: list[str], seed: int):
        """The package's LimeTextExplainer configured as reportgen runs it (also used by tests)."""
        from lime.lime_text import LimeTextExplainer

        return LimeTextExplainer(
            kernel_width=self.params["kernel_width"],
            feature_selection=self.params["feature_selection"],
            split_expression=lambda text: list(words),
            bow=False,
            mask_string=self.params["mask_string"],
            random_state=seed,
        )

    def job(self, batch: Batch, ex: Example) -> Job:
        from lime.lime_text import IndexedString

        perturbed = perturbed_text(batch.classifier, ex)
        text = perturbed.string
        words = list(ex.words)
        indexed = IndexedString(text, split_expression=lambda t: words, bow=False,
                                mask_string=self.params["mask_string"])
        if list(indexed.inverse_vocab) != words:
            raise ValueError("lime cannot split the text into reportgen's words (a gap between words repeats a word)")
        n_features = self.params["num_features"] or len(words)
        seed = example_seed(self.seed, ex.index)
        target = batch.task.explained_class(ex)

        def run(predict: Predict) -> Explanation:
            explainer = self.lime_explainer(words, seed)
            result = explainer.explain_instance(
                text, lambda strings: predict(perturbed.inputs(strings)), labels=(target,), num_features=n_features,
                num_samples=self.params["num_samples"], distance_metric=self.params["distance_metric"],
            )
            return _explanation(result, target, len(words))

        return run


def _explanation(result: Any, target: int, n_words: int) -> Explanation:
    scores = np.zeros(n_words, dtype=np.float64)
    for feature, weight in result.local_exp[target]:
        scores[int(feature)] = float(weight)
    extra = {
        "intercept": float(result.intercept[target]),
        "surrogate_r2": float(result.score),
        "surrogate_prediction": float(np.ravel(result.local_pred)[0]),
        "model_output": float(result.predict_proba[target]),
    }
    return Explanation(tokens=None, words=scores, extra=extra)
