"""The reference libraries as their users run them: one example at a time, their own defaults."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Sample:
    """One benchmark example: the text, its token ids and the class explained."""

    text: str
    ids: list[int]
    target: int


class References:
    """Captum, shap and lime on one classifier, each call explaining one example."""

    def __init__(self, classifier):
        self.classifier = classifier
        self.model = classifier.model
        self.tokenizer = classifier.tokenizer
        self.device = classifier.device
        self.special = set(self.tokenizer.all_special_ids)

    def _tensors(self, sample: Sample):
        ids = torch.tensor([sample.ids], device=self.device)
        return ids, torch.ones_like(ids)

    def _logit_of_ids(self, ids, mask):
        return self.model(input_ids=ids, attention_mask=mask).logits

    def _logit_of_embeds(self, embeds, mask):
        return self.model(inputs_embeds=embeds, attention_mask=mask).logits

    def integrated_gradients(self, sample: Sample, n_steps: int = 50, method: str = "gausslegendre") -> float:
        """Captum LayerIntegratedGradients on the word embeddings; returns |convergence delta|."""
        from captum.attr import LayerIntegratedGradients

        ids, mask = self._tensors(sample)
        baseline = torch.tensor([[i if i in self.special else self.classifier.pad_id for i in sample.ids]],
                                device=self.device)
        explainer = LayerIntegratedGradients(self._logit_of_ids, self.model.get_input_embeddings())
        _, delta = explainer.attribute(ids, baselines=baseline, target=sample.target, additional_forward_args=(mask,),
                                       n_steps=n_steps, method=method, return_convergence_delta=True)
        return float(delta.abs().item())

    def layer_integrated_gradients(self, sample: Sample, n_steps: int = 50, method: str = "riemann_trapezoid") -> float:
        """Captum LayerIntegratedGradients on every layer reportgen attributes; the largest |convergence delta|."""
        from captum.attr import LayerIntegratedGradients

        from reportgen.explainers.integrated import attribution_layers

        ids, mask = self._tensors(sample)
        baseline = torch.tensor([[i if i in self.special else self.classifier.pad_id for i in sample.ids]],
                                device=self.device)
        deltas = []
        for _, module in attribution_layers(self.model):
            explainer = LayerIntegratedGradients(self._logit_of_ids, module)
            _, delta = explainer.attribute(ids, baselines=baseline, target=sample.target,
                                           additional_forward_args=(mask,), n_steps=n_steps, method=method,
                                           return_convergence_delta=True)
            deltas.append(float(delta.abs().item()))
        return max(deltas)

    def saliency(self, sample: Sample) -> np.ndarray:
        from captum.attr import Saliency

        ids, mask = self._tensors(sample)
        embeds = self.model.get_input_embeddings()(ids).detach().requires_grad_(True)
        grads = Saliency(self._logit_of_embeds).attribute(embeds, target=sample.target, abs=False,
                                                         additional_forward_args=(mask,))
        return grads.norm(dim=-1).detach().cpu().numpy()

    def grad_x_input(self, sample: Sample) -> np.ndarray:
        from captum.attr import InputXGradient

        ids, mask = self._tensors(sample)
        embeds = self.model.get_input_embeddings()(ids).detach().requires_grad_(True)
        scores = InputXGradient(self._logit_of_embeds).attribute(embeds, target=sample.target,
                                                                 additional_forward_args=(mask,))
        return scores.sum(dim=-1).detach().cpu().numpy()

    def occlusion(self, sample: Sample) -> np.ndarray:
        """Captum FeatureAblation, one token per feature, the mask id as baseline, default one input per call."""
        from captum.attr import FeatureAblation

        ids, mask = self._tensors(sample)
        keep = torch.tensor([[i in self.special for i in sample.ids]], device=self.device)
        baseline = torch.where(keep, ids, torch.full_like(ids, self.classifier.task.replacement_id(self.classifier)))

        def probability(input_ids, attention_mask):
            return torch.softmax(self._logit_of_ids(input_ids, attention_mask), dim=-1)

        with torch.no_grad():
            scores = FeatureAblation(probability).attribute(
                ids, baselines=baseline, target=sample.target, additional_forward_args=(mask,),
                feature_mask=torch.arange(len(sample.ids), device=self.device)[None, :],
            )
        return scores.cpu().numpy()

    def predict_strings(self, texts, chunk: int = 64) -> np.ndarray:
        """A user's classifier function: tokenise and predict the strings in order, in fixed chunks."""
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), chunk):
                enc = self.tokenizer(list(texts[start : start + chunk]), padding=True, truncation=True,
                                     max_length=self.classifier.max_length, return_tensors="pt").to(self.device)
                out.append(torch.softmax(self.model(**enc).logits, dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classifier.labels)))

    def shap(self, sample: Sample, max_evals: int = 500) -> tuple[float, np.ndarray]:
        """shap's Partition explainer with a Text masker and its default batching.

        Returns |additivity error| and the token values for the explained class.
        """
        import shap

        masker = shap.maskers.Text(self.tokenizer)
        explainer = shap.Explainer(lambda texts: self.predict_strings(list(texts)), masker, algorithm="partition")
        result = explainer([sample.text], max_evals=max_evals, silent=True)
        output = self.predict_strings([sample.text])[0, sample.target]
        values = np.asarray(result.values[0][:, sample.target], dtype=np.float64)
        total = float(result.base_values[0][sample.target] + values.sum())
        return abs(total - float(output)), values

    def lime(self, sample: Sample, num_samples: int = 5000, seed: int = 0) -> "LimeResult":
        """lime's LimeTextExplainer with its defaults: its explanation and the surrogate's own score."""
        from lime.lime_text import IndexedString, LimeTextExplainer

        explainer = LimeTextExplainer(random_state=seed)
        result = explainer.explain_instance(sample.text, self.predict_strings, labels=(sample.target,),
                                            num_samples=num_samples)
        indexed = IndexedString(sample.text, bow=explainer.bow, split_expression=explainer.split_expression,
                                mask_string=explainer.mask_string)
        surrogate = (result.intercept[sample.target], dict(result.local_exp[sample.target]))
        return LimeResult(float(result.score), indexed, surrogate, seed)

    def lime_heldout(self, sample: Sample, result: "LimeResult") -> float:
        """The reference surrogate's score on fresh samples (see :func:`heldout_surrogate_score`)."""
        from lime.lime_text import LimeTextExplainer

        fresh = LimeTextExplainer(random_state=result.seed + HELDOUT_SEED_OFFSET)
        return heldout_surrogate_score(fresh, result.indexed, self.predict_strings, sample.target, result.surrogate)


@dataclass
class LimeResult:
    score: float
    indexed: object
    surrogate: tuple[float, dict[int, float]]
    seed: int


HELDOUT_SEED_OFFSET = 7919
HELDOUT_SAMPLES = 500


def heldout_surrogate_score(explainer, indexed, predict, target: int, surrogate: tuple[float, dict[int, float]],
                            n_samples: int = HELDOUT_SAMPLES) -> float:
    """Weighted R^2 of a LIME surrogate on fresh perturbations drawn as lime draws its own.

    The score lime reports is measured on the samples the surrogate was fitted to, so it
    rises as the budget falls (fewer points are easier to fit); on fresh samples it
    measures how well the surrogate predicts the model near the text. ``explainer`` is a
    LimeTextExplainer with the sampling settings of the explanation and another seed.
    """
    from sklearn.metrics import r2_score

    draw = getattr(explainer, "_LimeTextExplainer__data_labels_distances")  # lime's own sampler
    data, outputs, distances = draw(indexed, predict, n_samples)
    intercept, coefficients = surrogate
    predicted = np.full(len(data), float(intercept))
    for feature, weight in coefficients.items():
        predicted += data[:, int(feature)] * float(weight)
    return float(r2_score(outputs[:, target], predicted, sample_weight=explainer.base.kernel_fn(distances)))
