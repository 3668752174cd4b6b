"""Integrated gradients on the word embeddings, and layer integrated gradients per encoder layer.

Both integrate along a straight path from a baseline to the input. The path points
of every example in the batch (and, for the layer method, of every layer) are
pooled into one list of model sequences and cut into chunks that respect the
runner's token budget, so a batch of short texts needs only a few large model calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..explain.batch import Batch
from ..explain.explainer import Explainer, Explanation, explainers
from ..load.layers import attribution_layers
from ..ops.params import Choice, Whole
from ..ops.quadrature import METHODS, quadrature

MAX_STEPS = 1000  # each step is a forward and backward pass per example (and layer): 20 times Captum's 50


def path_parameters(n_steps: int) -> dict:
    """The integration rule and its number of steps (the rule decides the fewest steps: see ``problems``)."""
    return {"n_steps": Whole(n_steps, low=1, high=MAX_STEPS),
            "method": Choice("gausslegendre", choices=METHODS, what="integration method")}


class _PathExplainer(Explainer):
    """Shared parameter check: the integration rule and its number of steps together."""

    def problems(self) -> list[str | None]:
        try:
            quadrature(self.params["method"], self.params["n_steps"])
        except (TypeError, ValueError) as err:
            return [str(err)]
        return []


def baseline_ids(batch: Batch) -> torch.Tensor:
    """The batch's ids with every non-special token replaced by the task's baseline id (specials kept, and the
    tokens the task holds fixed)."""
    baseline = torch.full_like(batch.input_ids, batch.task.baseline_id(batch.classifier))
    kept = batch.special_mask
    fixed = batch.task.held_fixed(batch.examples, batch.input_ids.shape[1])
    if fixed is not None:
        kept = kept | torch.tensor(fixed, dtype=torch.bool, device=kept.device)
    return torch.where(kept, batch.input_ids, baseline)


@dataclass
class PathPoint:
    """One model sequence on an integration path: which example, where on the path, how much it counts."""

    row: int
    alpha: float
    weight: float
    layer: int = 0


def path_points(batch: Batch, method: str, n_steps: int, layers: int = 1) -> list[PathPoint]:
    """Every (example, layer, node) sequence, plus the two ends of each path (weight 0 unless a node)."""
    nodes, weights = quadrature(method, n_steps)
    alphas = dict(zip(nodes.tolist(), weights.tolist()))
    for end in (0.0, 1.0):
        alphas.setdefault(end, 0.0)
    return [
        PathPoint(row, alpha, weight, layer)
        for row in range(len(batch.examples))
        for layer in range(layers)
        for alpha, weight in alphas.items()
    ]


@explainers.register
class IntegratedGradients(_PathExplainer):
    name = "integrated_gradients"
    description = (
        "Integrated gradients of the target-class logit with respect to the word embeddings "
        "(the model's input embedding layer, fed as inputs_embeds). Baseline: the input with every "
        "non-special token replaced by the pad token, embedded (special tokens kept, so they score "
        "exactly 0). Token score = sum over the hidden dimension of (embedding - baseline) x "
        "path-averaged gradient. extra['delta'] = sum of scores - (logit(input) - logit(baseline))."
    )
    # 16 Gauss-Legendre steps match the convergence delta of Captum's 50 Riemann steps (benchmarks/RESULTS.md)
    parameters = path_parameters(16)
    order = 30

    def attribute(self, batch: Batch) -> list[Explanation]:
        runner, embed = batch.runner, batch.classifier.embeddings()
        targets = batch.targets
        with torch.no_grad():
            inputs = embed(batch.input_ids)
            starts = embed(baseline_ids(batch))
        points = path_points(batch, self.params["method"], self.params["n_steps"])
        gradients = torch.zeros(inputs.shape, dtype=torch.float32, device=inputs.device)
        ends = torch.zeros((len(batch.examples), 2), dtype=torch.float64)
        with torch.enable_grad():
            for chunk in runner.batches([batch.lengths[p.row] for p in points]):
                picked = [points[i] for i in chunk]
                rows = torch.tensor([p.row for p in picked], device=inputs.device)
                length = max(batch.lengths[p.row] for p in picked)
                alpha = torch.tensor([p.alpha for p in picked], dtype=inputs.dtype, device=inputs.device)
                start = starts[rows, :length]
                path = (start + alpha[:, None, None] * (inputs[rows, :length] - start)).requires_grad_(True)
                logits = runner.forward(batch.input_ids[rows, :length], batch.attention_mask[rows, :length],
                                        inputs_embeds=path).logits
                chosen = batch.task.target_logits(logits, targets[rows])
                (grads,) = torch.autograd.grad(chosen.sum(), path)
                weight = torch.tensor([p.weight for p in picked], dtype=torch.float32, device=inputs.device)
                gradients[:, :length].index_add_(0, rows, grads.float() * weight[:, None, None])
                _record_ends(ends, picked, chosen)
        scores = ((inputs.float() - starts.float()) * gradients).sum(dim=-1)
        explanations = [Explanation(row) for row in batch.per_example(scores)]
        for row, explanation in enumerate(explanations):
            change = ends[row, 1] - ends[row, 0]
            explanation.extra["delta"] = float(explanation.tokens.sum() - change)
        return explanations


def _record_ends(ends: torch.Tensor, picked: list[PathPoint], chosen: torch.Tensor) -> None:
    """Keep the target logit at alpha 0 (baseline) and alpha 1 (input) of each path."""
    values = chosen.detach().cpu().double()
    for point, value in zip(picked, values):
        if point.alpha in (0.0, 1.0):
            ends[point.row, int(point.alpha)] = value


class _LayerHooks:
    """Forward hooks that either record each layer's output or overwrite some rows of it."""

    def __init__(self, modules: list[torch.nn.Module]):
        self.captured: list[torch.Tensor | None] = [None] * len(modules)
        self.replace: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.fired: set[int] = set()
        self.handles = [module.register_forward_hook(self._hook(i)) for i, module in enumerate(modules)]

    def start(self, replace: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = None) -> None:
        """Before each model call: what to overwrite (nothing: record every layer's output)."""
        self.replace, self.fired = replace or {}, set()

    def _hook(self, index: int):
        def hook(module, args, output):
            if index in self.fired:
                raise RuntimeError("a hooked layer ran twice in one forward pass; layer IG needs distinct layers")
            self.fired.add(index)
            hidden = output[0] if isinstance(output, tuple) else output
            if index in self.replace:
                rows, values = self.replace[index]
                hidden = hidden.index_put((rows,), values.to(hidden.dtype))
                return (hidden,) + tuple(output[1:]) if isinstance(output, tuple) else hidden
            if not self.replace:
                self.captured[index] = hidden.detach()
            return None

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


@explainers.register
class LayerIntegratedGradients(_PathExplainer):
    name = "layer_integrated_gradients"
    description = (
        "Layer integrated gradients of the target-class logit for the embedding block output and every "
        "encoder layer output: each layer's output is interpolated between its value on the baseline "
        "input (non-special tokens replaced by the pad token) and on the input, the rest of the model "
        "runs on from there, as Captum's LayerIntegratedGradients does. extra['layers'] is the "
        "layers x tokens matrix of attributions summed over the hidden dimension (extra['layer_names'] "
        "names the rows, extra['deltas'] holds each row's convergence delta); the token score is the "
        "column total over all layers. Special tokens keep their (non-zero) scores."
    )
    # 24 Gauss-Legendre steps match the largest per-layer convergence delta of Captum's 50 Riemann steps
    parameters = path_parameters(24)
    order = 31

    def attribute(self, batch: Batch) -> list[Explanation]:
        runner, targets = batch.runner, batch.targets
        named = attribution_layers(batch.classifier.model)
        hooks = _LayerHooks([module for _, module in named])
        try:
            inputs, starts, ends = self._endpoints(batch, hooks, len(named))
            gradients = torch.zeros(inputs.shape, dtype=torch.float32, device=inputs.device)
            points = [
                p for p in path_points(batch, self.params["method"], self.params["n_steps"], len(named))
                if p.weight != 0.0
            ]
            with torch.enable_grad():
                for chunk in runner.batches([batch.lengths[p.row] for p in points]):
                    self._integrate([points[i] for i in chunk], batch, hooks, inputs, starts, gradients, targets)
        finally:
            hooks.close()
        layers = ((inputs.float() - starts.float()) * gradients).sum(dim=-1)  # [batch, layers, tokens]
        explanations = []
        for row, length in enumerate(batch.lengths):
            matrix = layers[row, :, :length].cpu().double().numpy()
            change = float(ends[row, 1] - ends[row, 0])
            explanations.append(Explanation(matrix.sum(axis=0), extra={
                "layers": matrix.tolist(),
                "layer_names": [name for name, _ in named],
                "deltas": [float(total - change) for total in matrix.sum(axis=1)],
            }))
        return explanations

    @torch.no_grad()
    def _endpoints(self, batch: Batch, hooks: _LayerHooks, n_layers: int):
        """Every layer's output on the input and on the baseline, and the target logit of both."""
        runner, targets = batch.runner, batch.targets
        count = len(batch.examples)
        ids = torch.cat([batch.input_ids, baseline_ids(batch)])
        lengths = batch.lengths * 2
        outputs = [None, None]
        ends = torch.zeros((count, 2), dtype=torch.float64)
        for chunk in runner.batches(lengths):
            rows = torch.tensor(chunk, device=ids.device)
            length = max(lengths[i] for i in chunk)
            mask = batch.attention_mask[rows % count, :length]
            hooks.start()
            logits = runner.forward(ids[rows, :length], mask).logits
            chosen = batch.task.target_logits(logits, targets[rows % count]).cpu().double()
            for position, value in zip(chunk, chosen):
                ends[position % count, 0 if position >= count else 1] = value
            stacked = torch.stack(hooks.captured, dim=1)  # [chunk, layers, length, hidden]
            if outputs[0] is None:
                shape = (count, n_layers, ids.shape[1], stacked.shape[-1])
                outputs = [torch.zeros(shape, dtype=stacked.dtype, device=stacked.device) for _ in range(2)]
            for i, position in enumerate(chunk):
                side = outputs[1] if position >= count else outputs[0]
                side[position % count, :, :length] = stacked[i]
        return outputs[0], outputs[1], ends

    @staticmethod
    def _integrate(points: list[PathPoint], batch: Batch, hooks: _LayerHooks, inputs, starts, gradients, targets):
        """One model call over path points of any examples and layers; adds their weighted gradients."""
        device = inputs.device
        rows = torch.tensor([p.row for p in points], device=device)
        length = max(batch.lengths[p.row] for p in points)
        leaves = {}
        for layer in sorted({p.layer for p in points}):
            mine = [i for i, p in enumerate(points) if p.layer == layer]
            at = torch.tensor(mine, device=device)
            alpha = torch.tensor([points[i].alpha for i in mine], dtype=inputs.dtype, device=device)
            start = starts[rows[at], layer, :length]
            leaf = (start + alpha[:, None, None] * (inputs[rows[at], layer, :length] - start)).requires_grad_(True)
            leaves[layer] = (at, leaf)
        hooks.start({layer: (at, leaf) for layer, (at, leaf) in leaves.items()})
        try:
            logits = batch.runner.forward(batch.input_ids[rows, :length], batch.attention_mask[rows, :length]).logits
        finally:
            hooks.start()
        chosen = batch.task.target_logits(logits, targets[rows]).sum()
        grads = torch.autograd.grad(chosen, [leaf for _, leaf in leaves.values()])
        for (layer, (at, _)), grad in zip(leaves.items(), grads):
            weight = torch.tensor([points[i].weight for i in at.tolist()], dtype=torch.float32, device=device)
            gradients[:, layer, :length].index_add_(0, rows[at], grad.float() * weight[:, None, None])
