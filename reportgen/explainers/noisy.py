"""Gradient methods averaged over random samples of the word embeddings: SmoothGrad (Smilkov et al. 2017) and
GradientSHAP (Lundberg and Lee 2017, as Captum computes it).

Each example draws its samples from its own generators, seeded with (run seed, example index), so its scores do
not depend on the batch it is in. The draws follow Captum's order (NoiseTunnel's noise from torch's normal
sampler, GradientShap's path coefficients from numpy's legacy uniform sampler), so that Captum, seeded with the
same number, draws the same samples: the reference tests compare the two exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..explain.pooling import example_seed
from ..ops.params import Number, Whole
from .integrated import baseline_ids

MAX_SAMPLES = 1000  # each sample is a forward and backward pass per example


def target_gradients(batch: Batch, embeds: torch.Tensor) -> torch.Tensor:
    """The gradient of each example's target logit with respect to the embeddings it is given."""
    embeds = embeds.detach().requires_grad_(True)
    logits = batch.runner.forward(batch.input_ids, batch.attention_mask, inputs_embeds=embeds).logits
    (grads,) = torch.autograd.grad(batch.task.target_logits(logits, batch.targets).sum(), embeds)
    return grads.detach()


@explainers.register
class SmoothGrad(Explainer):
    name = "smoothgrad"
    description = (
        "SmoothGrad: the mean, over n_samples copies of the word embeddings with Gaussian noise added "
        "(standard deviation = noise x (largest - smallest value of the example's embeddings)), of "
        "d(target logit)/d(embedding); per token its L2 norm over the hidden dimension, as saliency."
    )
    order = 22
    parameters = {"n_samples": Whole(20, low=1, high=MAX_SAMPLES), "noise": Number(0.1, low=0, high=10)}

    def attribute(self, batch: Batch) -> list[Explanation]:
        embeds = batch.classifier.embeddings()(batch.input_ids).detach()
        noise = self.noise(batch, embeds)
        total = torch.zeros_like(embeds)
        for sample in range(self.params["n_samples"]):
            total += target_gradients(batch, embeds + noise[sample])
        mean = total / self.params["n_samples"]
        return [Explanation(row) for row in batch.per_example(mean.norm(dim=-1))]

    def noise(self, batch: Batch, embeds: torch.Tensor) -> torch.Tensor:
        """[samples, batch, tokens, hidden]: each example's own draws over its own tokens, zero on padding."""
        n = self.params["n_samples"]
        noise = torch.zeros((n, *embeds.shape), dtype=embeds.dtype, device=embeds.device)
        for row, (ex, length) in enumerate(zip(batch.examples, batch.lengths)):
            mine = embeds[row, :length]
            spread = float(mine.max() - mine.min()) * self.params["noise"]
            generator = torch.Generator().manual_seed(example_seed(self.seed, ex.index))
            drawn = torch.randn((n, length, embeds.shape[-1]), generator=generator, dtype=torch.float32) * spread
            noise[:, row, :length] = drawn.to(embeds)
        return noise


@explainers.register
class GradientShap(Explainer):
    name = "gradient_shap"
    description = (
        "GradientSHAP (expected gradients): the mean, over n_samples points baseline + a x (embedding - "
        "baseline) with a drawn uniformly from [0, 1], of d(target logit)/d(point) x (embedding - baseline); "
        "per token the sum over the hidden dimension. The baseline is integrated gradients': each word token's "
        "embedding replaced by the baseline token's, special tokens kept."
    )
    order = 26
    parameters = {"n_samples": Whole(20, low=1, high=MAX_SAMPLES)}

    def attribute(self, batch: Batch) -> list[Explanation]:
        embeddings = batch.classifier.embeddings()
        embeds = embeddings(batch.input_ids).detach()
        baseline = embeddings(baseline_ids(batch)).detach()
        alphas = self.alphas(batch).to(embeds)
        total = torch.zeros_like(embeds)
        for sample in range(self.params["n_samples"]):
            alpha = alphas[:, sample].view(-1, 1, 1)
            total += target_gradients(batch, baseline + alpha * (embeds - baseline))
        scores = (total / self.params["n_samples"] * (embeds - baseline)).sum(dim=-1)
        return [Explanation(row) for row in batch.per_example(scores)]

    def alphas(self, batch: Batch) -> torch.Tensor:
        """[batch, samples]: each example's path coefficients, from its own generator."""
        drawn = [np.random.RandomState(example_seed(self.seed, ex.index)).uniform(0.0, 1.0, self.params["n_samples"])
                 for ex in batch.examples]
        return torch.tensor(np.array(drawn), dtype=torch.float64)
