"""A control explainer: seeded random scores, the chance level for every metric."""

from __future__ import annotations

import numpy as np

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers


@explainers.register
class RandomScores(Explainer):
    name = "random"
    reads_target = False
    description = (
        "Control: independent standard-normal scores per non-special token from a numpy Generator "
        "seeded with (run seed, example index), so the scores do not depend on batching; special "
        "tokens score 0. Any method should beat it on faithfulness."
    )
    order = 90

    def attribute(self, batch: Batch) -> list[Explanation]:
        return [Explanation(self.scores(ex.index, ex.word_ids)) for ex in batch.examples]

    def scores(self, index: int, word_ids: list[int | None]) -> np.ndarray:
        """The scores for one example, from its own generator."""
        generator = np.random.default_rng([int(self.seed) % 2**64, int(index) % 2**64])
        values = generator.standard_normal(len(word_ids))
        values[[word is None for word in word_ids]] = 0.0
        return values
