"""Partition SHAP through the ``shap`` package, with the model calls of a whole batch pooled."""

from __future__ import annotations

import numpy as np

from ..explain.batch import Batch
from ..explain.explainer import Explanation, explainers
from ..explain.perturbed import perturbed_text
from ..explain.pooling import Job, PooledExplainer, Predict
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
        "mask token, or '...' when it has none; for a black-box model, --predict, it is deleted), "
        "consecutive masked tokens collapsed into one when collapse_mask_token says so ('auto': only when the tokenizer has no mask token). The budget "
        "is max_evals model evaluations per example; batch_size is shap's number of tree nodes per "
        "model call ('auto' = the masker's default, 5) and fixed_context is shap's (None = its "
        "default). Token scores are folded into words by summing; base value + sum of scores equals "
        "the output on the unmasked text (additivity; the gap to the model's output on the example "
        "is kept per example). NumPy's global random state (which shap uses to break ties) is seeded "
        "per example from (run seed, example index). Truncated texts are cut after the last token "
        "the model sees. A pair's two texts are one string joined by the separator tokens, which "
        "shap's masker keeps, and each masked string is split there and scored as a pair. The masked "
        "texts of all examples of a batch are evaluated together in pooled model batches."
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

    def shap_explainer(self, tokenizer, model_fn, pieces=None, deletes=False):
        """The package's explainer configured as reportgen runs it (also used by tests). ``pieces``: the
        (string, its token pieces, their ids) that the masker cuts that one string into (a joined pair);
        ``deletes``: a masked token is deleted when no mask_token is given (a black-box model's removed word)."""
        import shap

        mask_token = self.params["mask_token"]
        masker = shap.maskers.Text(
            tokenizer, mask_token="" if mask_token is None and deletes else mask_token,
            collapse_mask_token=self.params["collapse_mask_token"],
        )
        if pieces is not None:
            masker.token_segments = _cut_as(masker.token_segments, *pieces)
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
        perturbed = perturbed_text(classifier, ex)
        text = perturbed.string
        enc, pieces = self._encoded(classifier, perturbed)
        if enc.truncated or enc.words != ex.words:
            raise ValueError("shap's tokens of the text do not line up with the example's words")
        target = batch.task.explained_class(ex)
        stored = batch.task.explains_stored_class

        def run(predict: Predict) -> Explanation:
            def model_fn(strings):
                return self.explained_output(predict(perturbed.inputs(strings)), target)

            model_output = float(self.explained_output(np.asarray(ex.probabilities), target) if stored
                                 else model_fn([text])[0])

            explainer = self.shap_explainer(classifier.tokenizer, model_fn, pieces, classifier.task.scores_texts)
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

    @staticmethod
    def _encoded(classifier, perturbed):
        """The task's encoding of the text, and for a pair the pieces the masker is to cut the joined string
        into: the pair's own tokens (tokenising the joined string whole can shift the second text's offsets)."""
        if perturbed.joiner is None:
            (enc,) = classifier.task.token_encode(classifier.tokenizer, [perturbed.string], classifier.max_length)
            return enc, None
        ((text, pair),) = perturbed.inputs([perturbed.string])
        (enc,) = classifier.encode([text], [pair])
        return enc, (perturbed.string, pair_pieces(classifier.tokenizer, text, pair, perturbed.joiner),
                     enc.input_ids)


def pair_pieces(tokenizer, text: str, pair: str, joiner: str) -> list[str]:
    """The substring of ``text + joiner + pair`` that each token of the pair's encoding stands for, cut as
    shap's masker cuts one text (a token runs on to where the next token of its text starts); a special token
    between the texts is its own token string (which the masker never masks), the first and last are ''."""
    enc = tokenizer(text, pair, return_offsets_mapping=True)
    starts, ends = (0, len(text) + len(joiner)), (len(text), len(text) + len(joiner) + len(pair))
    sequences = enc.sequence_ids(0)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    joined = text + joiner + pair
    pieces = []
    for i, (sequence, (start, end)) in enumerate(zip(sequences, enc["offset_mapping"])):
        if sequence is None:
            inside = any(s is not None for s in sequences[:i]) and any(s is not None for s in sequences[i:])
            pieces.append(tokens[i] if inside else "")
            continue
        following = next((enc["offset_mapping"][j][0] for j in range(i + 1, len(sequences))
                          if sequences[j] == sequence), ends[sequence] - starts[sequence])
        pieces.append(joined[starts[sequence] + start: starts[sequence] + max(end, following)])
    return pieces


def _cut_as(token_segments, string: str, pieces: list[str], ids: list[int]):
    """The masker's token_segments, giving ``pieces`` and ``ids`` for ``string``."""
    def cut(s):
        return (list(pieces), list(ids)) if s == string else token_segments(s)

    return cut
