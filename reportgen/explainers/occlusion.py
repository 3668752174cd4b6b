"""Occlusion: how much the target probability drops when one token is masked."""

from __future__ import annotations

import numpy as np

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..ops.params import Choice

REPLACEMENTS = ("auto", "mask", "pad", "unk")


@explainers.register
class Occlusion(Explainer):
    name = "occlusion"
    description = (
        "Drop in the target-class probability when one token is replaced by the replacement token "
        "(default 'auto': the run's --replacement token, itself by default the tokenizer's mask token, else its "
        "pad token; 'mask': the mask token, else the pad token): p(input) - p(input with that token replaced), "
        "one model call per non-special token. Special tokens score 0."
    )
    parameters = {"replacement": Choice("auto", choices=REPLACEMENTS)}
    order = 40

    def attribute(self, batch: Batch) -> list[Explanation]:
        replacement = self._replacement_id(batch)
        id_lists: list[list[int]] = []
        explained: list = []  # the example each input is scored for: only its explained probability comes back
        spans: list[tuple[int, list[int]]] = []
        for ex in batch.examples:
            ids = list(ex.input_ids)
            start = len(id_lists)
            id_lists.append(ids)
            positions = [i for i, word in enumerate(ex.word_ids) if word is not None]
            for position in positions:
                id_lists.append(ids[:position] + [replacement] + ids[position + 1 :])
            explained += [ex] * (len(positions) + 1)
            spans.append((start, positions))
        probabilities = batch.runner.predict_ids(id_lists, explained=explained)
        explanations = []
        for ex, (start, positions) in zip(batch.examples, spans):
            target = probabilities[start : start + len(positions) + 1]
            scores = np.zeros(len(ex.input_ids), dtype=np.float64)
            scores[positions] = target[0] - target[1:]
            explanations.append(Explanation(scores))
        return explanations

    def _replacement_id(self, batch: Batch) -> int:
        choice = self.params["replacement"]
        classifier = batch.classifier
        if choice == "auto":
            return batch.task.replacement_id(classifier)
        if choice == "mask" and classifier.tokenizer.mask_token_id is not None:
            return classifier.tokenizer.mask_token_id
        if choice == "unk" and classifier.tokenizer.unk_token_id is not None:
            return classifier.tokenizer.unk_token_id
        return classifier.pad_id
