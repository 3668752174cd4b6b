"""Partition SHAP through the ``shap`` package, with the model calls of a whole batch pooled."""

from __future__ import annotations

import numpy as np

from ..explain.batch import Batch
from ..explain.explainer import Explanation, explainers
from ..explain.pooling import Job, PooledExplainer, Predict, visible_text
from ..ops.params import Choice, Text, Whole
from ..ops.words import fold_to_words
from ..results.records import Example

OUTPUTS = ("probability", "log_odds")
MAX_EVALS = 100_000  # two hundred times shap's default budget; each evaluation is one masked text scored
LOG_EPS = 1e-12


@explainers.register
class PartitionShap(PooledExplainer):
    name = "shap"
    description = (
        "Partition SHAP (shap package, shap.Explainer with algorithm 'partition', i.e. Owen values over "
        "shap's hierarchical clustering of the tokens) with a shap.maskers.Text masker on the "
        "classifier's tokenizer. Explained output: the target class probability (output 'probability'; "
        "'log_odds' gives log p/(1-p)). Features are the tokenizer's tokens of the text; the special "
        "tokens are kept and get 0. A masked token is replaced by mask_token (None: the tokenizer's "
        "mask token, or '...' when it has none), consecutive masked tokens collapsed into one when "
        "collapse_mask_token says so ('auto': only when the tokenizer has no mask token). The budget "
        "is max_evals model evaluations per example; batch_size is shap's number of tree nodes per "
        "model call ('auto' = the masker's default, 5) and fixed_context is shap's (None = its "
        "default). Token scores are folded into words by summing; base value + sum of scores equals "
        "the output on the unmasked text (additivity; the gap to the model's output on the example "
        "is kept per example). NumPy's global random state (which shap uses to break ties) is seeded "
        "per example from (run seed, example index). Truncated texts are cut after the last token "
        "the model sees. The masked texts of all examples of a batch are evaluated together in "
        "pooled model batches."
    )
    order = 60
    parameters = {
        # shap's own default: no smaller budget comes as close to the converged scores (benchmarks/RESULTS.md)
        "max_evals": Whole(500, low=4, high=MAX_EVALS),
        "output": Choice("probability", choices=OUTPUTS),
        "mask_token": Text(None, also={None: "the tokenizer's mask token"}),
        "collapse_mask_token": Choice("auto", choices=(True, False, "auto")),
        "batch_size": Whole("auto", low=1, high=MAX_EVALS, also={"auto": "the masker's default"}),
        "fixed_context": Choice(None, choices=(None, 0, 1)),
    }

    def shap_explainer(self, tokenizer, model_fn):
        """The package's explainer configured as reportgen runs it (also used by tests)."""
        import shap

        masker = shap.maskers.Text(
            tokenizer, mask_token=self.params["mask_token"],
            collapse_mask_token=self.params["collapse_mask_token"],
        )
        return shap.Explainer(model_fn, masker, algorithm="partition")

    def explained_output(self, probabilities: np.ndarray, target: int) -> np.ndarray:
        """The explained scalar per row of class probabilities."""
        chosen = np.asarray(probabilities, dtype=np.float64)[..., target]
        if self.params["output"] == "log_odds":
            chosen = np.clip(chosen, LOG_EPS, 1.0 - LOG_EPS)
            return np.log(chosen) - np.log1p(-chosen)
        return chosen

    def job(self, batch: Batch, ex: Example) -> Job:
        classifier = batch.classifier
        text = visible_text(classifier, ex)
        (enc,) = classifier.encode([text])
        if enc.truncated or enc.words != ex.words:
            raise ValueError("shap's tokens of the text do not line up with the example's words")
        target = ex.target
        model_output = float(self.explained_output(np.asarray(ex.probabilities), target))

        def run(predict: Predict) -> Explanation:
            def model_fn(strings):
                return self.explained_output(predict(list(strings)), target)

            explainer = self.shap_explainer(classifier.tokenizer, model_fn)
            result = explainer(
                [text], max_evals=self.params["max_evals"], batch_size=self.params["batch_size"],
                fixed_context=self.params["fixed_context"], silent=True,
            )
            values = np.asarray(result.values[0], dtype=np.float64)
            if values.shape != (len(enc.input_ids),):
                raise ValueError(f"shap gave {values.shape} scores for {len(enc.input_ids)} tokens")
            base = float(np.ravel(result.base_values)[0])
            words = fold_to_words(values, enc.word_ids, len(enc.words))
            tokens = values if enc.input_ids == list(ex.input_ids) else None
            extra = {
                "base_value": base,
                "model_output": model_output,
                "additivity_gap": base + float(values.sum()) - model_output,
                "output": self.params["output"],
                "evaluations": int(getattr(explainer, "last_eval_count", 0)) + 2,
            }
            return Explanation(tokens=tokens, words=words, extra=extra)

        return run
