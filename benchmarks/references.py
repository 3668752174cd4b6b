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
        baseline = torch.where(keep, ids, torch.full_like(ids, self.classifier.mask_id))

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

    def shap(self, sample: Sample, max_evals: int = 500) -> float:
        """shap's Partition explainer with a Text masker and its default batching; returns |additivity error|."""
        import shap

        masker = shap.maskers.Text(self.tokenizer)
        explainer = shap.Explainer(lambda texts: self.predict_strings(list(texts)), masker, algorithm="partition")
        result = explainer([sample.text], max_evals=max_evals, silent=True)
        output = self.predict_strings([sample.text])[0, sample.target]
        total = float(result.base_values[0][sample.target] + result.values[0][:, sample.target].sum())
        return abs(total - float(output))

    def lime(self, sample: Sample, num_samples: int = 5000, seed: int = 0) -> float:
        """lime's LimeTextExplainer with its defaults; returns the local surrogate's score (R^2)."""
        from lime.lime_text import LimeTextExplainer

        explainer = LimeTextExplainer(random_state=seed)
        result = explainer.explain_instance(sample.text, self.predict_strings, labels=(sample.target,),
                                            num_samples=num_samples)
        return float(result.score)
