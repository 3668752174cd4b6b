"""One text in, any number of labels out: a sigmoid per label (moderation, tagging, topics)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..results.records import Example
from .base import ONE_CLASS_METRICS, is_decoder_only, tasks
from .sequence_classification import SequenceClassification

MULTI_LABEL_PROBLEM = "multi_label_classification"


def is_multi_label(config: Any) -> bool:
    """Whether a transformers config declares one sigmoid per label."""
    return getattr(config, "problem_type", None) == MULTI_LABEL_PROBLEM


@tasks.register
class MultiLabel(SequenceClassification):
    name = "multi_label"
    description = ("A single-text classifier with a sigmoid per label, each label predicted on its own at "
                   "--threshold (problem_type multi_label_classification, or --multi-label); one explanation "
                   "per (example, label).")
    order = 5
    per_label = True
    windowed = False  # its rows already expand into one explanation per label
    contrasts_errors = False  # a unit explains one label, predicted or not: no other class to contrast
    randomisable = False  # explained one label at a time (units); the checks take one class per example
    excluded_metrics = ONE_CLASS_METRICS  # the multi_label statistic replaces them

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return is_multi_label(config) and not paired and not is_decoder_only(config)

    def probabilities(self, logits: Any) -> Any:
        return logits.float().sigmoid()

    def prediction(self, probabilities: Sequence[float]) -> int:
        """The label the model is surest of (the set it predicts is :meth:`predicted`)."""
        return int(np.argmax(probabilities))

    def predicted(self, probabilities: Sequence[float], threshold: float) -> list[int]:
        """The labels whose probability reaches ``threshold``."""
        return [label for label, p in enumerate(probabilities) if p >= threshold]

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        example.probabilities = outcome["probabilities"]
        example.predicted = self.predicted(example.probabilities, threshold)

    def units(self, example: Example, explain: str) -> list[dict[str, Any]]:
        """One per label the model predicts ('pred') or per true label ('label'), in id order."""
        chosen = example.predicted if explain == "pred" else example.labels
        return [{"target": label} for label in chosen or []]
