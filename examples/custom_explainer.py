"""A reportgen plugin: the L2 norm of each token's word embedding, as a control method.

Large embedding norms often mark rare or content-heavy tokens. If a real attribution
method agrees closely with ``embedding_norm`` (see the report's agreement table), it
may be reporting token frequency rather than what the classifier uses. Load it with::

    reportgen run --model DIR --data reviews.csv \\
        --plugin examples/custom_explainer.py:EmbeddingNorm --methods embedding_norm,saliency

A plugin is one class: a ``name``, a ``description`` saying exactly what is computed,
its ``defaults`` (overridable per run) and ``attribute(batch)`` returning one
:class:`Explanation` per example in ``batch.examples`` with one score per token.
To ship it in a package instead, declare an entry point::

    [project.entry-points."reportgen.explainers"]
    embedding_norm = "my_package.explainers:EmbeddingNorm"
"""

from __future__ import annotations

import torch

from reportgen.explainers import Batch, Explainer, Explanation


class EmbeddingNorm(Explainer):
    name = "embedding_norm"
    description = (
        "Control: the vector norm (order `ord`, default L2) of each token's word embedding; "
        "independent of the target class and the context. Special tokens score 0."
    )
    defaults = {"ord": 2}

    @torch.no_grad()
    def attribute(self, batch: Batch) -> list[Explanation]:
        embeds = batch.classifier.embeddings()(batch.input_ids).float()
        norms = torch.linalg.vector_norm(embeds, ord=self.params["ord"], dim=-1)
        norms = norms.masked_fill(batch.special_mask, 0.0)
        return [Explanation(row) for row in batch.per_example(norms)]
