"""What every attention head does over the whole dataset: spread, reach and special-token sinks."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..ops.masks import query_rows, special_mask
from ..ops.params import Number, Whole, token_position
from ..ops.rollout import rollout_steps
from ..results.queries import explained
from ..results.records import RunResult
from .base import Metric, defined, metrics

STATS = ("entropy", "normalized_entropy", "distance", "relative_distance", "special_share")

DEFINITIONS = {
    "scope": (
        "Over all explained examples, from a fresh forward pass with attention weights (batched, "
        "right-padded; a document read in windows, by its first window). Padding is ignored: only real tokens count as queries and keys. Layers and "
        "heads are numbered from 0. For each example, a statistic is averaged over all its query "
        "tokens (special tokens included); the value reported is the mean over examples (each "
        "example weighs the same). Special tokens are those outside every word ([CLS], [SEP], <s>, ...)."
    ),
    "entropy": "entropy = -sum_j a_ij ln a_ij (nats) of query i's attention row over the n real keys.",
    "normalized_entropy": "normalized_entropy = entropy / ln n (0: one key, 1: uniform over all keys).",
    "distance": (
        "distance = sum_j a_ij |i - j| in tokens: the attention-weighted distance between query and "
        "key; small for local heads (neighbours, self), large for global ones."
    ),
    "relative_distance": "relative_distance = distance / (n - 1), so 1 is the largest possible.",
    "special_share": "special_share = sum of a_ij over the special-token keys j.",
    "rollout": (
        "Attention rollout (Abnar & Zuidema 2020): per layer, head-mean attention A, mixed "
        "M = (1 - r) A + r I with r = residual_weight, rows renormalised; R_d = M_d ... M_0. "
        "For rollout depth d (after layer d) the row of query token `query` (the first token) is "
        "split into special_mass (on special tokens) and word_mass (on word tokens), and its "
        "entropy; means over examples."
    ),
}


@metrics.register
class AttentionAtlas(Metric):
    name = "attention_atlas"
    order = 70
    description = ("Per layer x head: mean attention entropy, attention distance (local vs global) and share "
                   "on special tokens; plus attention-rollout mass on special tokens vs words by depth.")
    parameters = {"residual_weight": Number(0.5, low=0, high=1),
                  "query": Whole(0, low=0, also={None: "the task's query position"}, model_range=token_position),
                  "max_examples": Whole(None, low=1, also={None: "all"})}
    needs_model = True

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        self.check_model(getattr(runner, "classifier", None))
        started, evaluations = time.perf_counter(), getattr(runner, "evaluations", 0)
        readable = getattr(runner, "readable", lambda ex: ex)  # a long document's first window
        examples = [readable(ex) for ex in explained(run) if ex.input_ids]
        if self.params["max_examples"] is not None:
            examples = examples[: int(self.params["max_examples"])]
        head_sums: np.ndarray | None = None
        roll_sums: np.ndarray | None = None
        for positions in runner.batches([len(ex.input_ids) for ex in examples]):
            batch = [examples[i] for i in positions]
            ids, mask = runner.pad([ex.input_ids for ex in batch])
            with torch.no_grad():
                out = runner.forward(ids, mask, output_attentions=True)
            attentions = getattr(out, "attentions", None)
            if not attentions or any(layer is None for layer in attentions):
                raise RuntimeError("the model returned no attention weights; load it with attn_implementation='eager'")
            special = special_mask([ex.word_ids for ex in batch], mask.shape, mask.device)
            queries = self._queries(batch, runner)
            heads, roll = self._batch_stats(attentions, mask.bool(), special, queries)
            head_sums = heads if head_sums is None else head_sums + heads
            roll_sums = roll if roll_sums is None else roll_sums + roll
        n = len(examples)
        per_head, per_layer, rollout_rows = [], [], []
        if head_sums is not None and n:
            means = head_sums / n  # [layers, heads, stats]
            for layer in range(means.shape[0]):
                for head in range(means.shape[1]):
                    per_head.append({"layer": layer, "head": head,
                                     **{s: float(means[layer, head, k]) for k, s in enumerate(STATS)}})
                per_layer.append({"layer": layer, **{s: float(means[layer, :, k].mean()) for k, s in enumerate(STATS)}})
            rolled = roll_sums / n
            for layer in range(rolled.shape[0]):
                rollout_rows.append({"layer": layer, "special_mass": float(rolled[layer, 0]),
                                     "word_mass": float(rolled[layer, 1]), "entropy": float(rolled[layer, 2])})
        return {
            **defined(DEFINITIONS),
            "examples": n,
            "n_layers": len(per_layer),
            "n_heads": (len(per_head) // len(per_layer)) if per_layer else 0,
            "per_head": per_head,
            "per_layer": per_layer,
            "rollout": rollout_rows,
            "residual_weight": float(self.params["residual_weight"]),
            "query": self.params["query"],
            "model_evaluations": getattr(runner, "evaluations", 0) - evaluations,
            "seconds": time.perf_counter() - started,
        }

    def _queries(self, batch: list, runner) -> torch.Tensor | None:
        """The task's query position of each example when the query parameter is None, else None."""
        if self.params["query"] is not None:
            return None
        return torch.tensor(runner.task.query_positions(batch), device=runner.device)

    def _batch_stats(self, attentions, real: torch.Tensor, special: torch.Tensor,
                     query_positions: torch.Tensor | None) -> tuple[np.ndarray, np.ndarray]:
        """Sums over the batch's examples of per-example head statistics [L, H, 5] and rollout rows [L, 3]."""
        size = real.shape[1]
        device = real.device
        position = torch.arange(size, device=device, dtype=torch.float32)
        distance = (position[:, None] - position[None, :]).abs()
        lengths = real.sum(dim=1).float()  # [B]
        keys = real[:, None, None, :].float()  # [B, 1, 1, K]
        queries = real[:, None, :].float()  # [B, 1, Q]
        special_keys = (special & real).float()[:, None, None, :]
        log_n = torch.log(lengths).clamp_min(1e-12)[:, None, None]
        spread = (lengths - 1).clamp_min(1.0)[:, None, None]
        head_rows = []
        for layer in attentions:
            a = layer.float() * keys
            entropy = -(a * torch.log(a.clamp_min(1e-30))).sum(-1)  # [B, H, Q]
            reach = (a * distance).sum(-1)
            stats = [entropy, torch.where(lengths[:, None, None] > 1, entropy / log_n, torch.zeros_like(entropy)),
                     reach, reach / spread, (a * special_keys).sum(-1)]
            per_example = [(s * queries).sum(-1) / lengths[:, None] for s in stats]  # each [B, H]
            head_rows.append(torch.stack(per_example, dim=-1).sum(dim=0))  # [H, 5]
        heads = torch.stack(head_rows).cpu().numpy().astype(np.float64)

        r = float(self.params["residual_weight"])
        word_keys = (real & ~special).float()
        roll_rows = []
        for flow in rollout_steps(tuple(layer.float() * keys for layer in attentions), r):
            row = query_rows(flow, 1, self.params["query"], query_positions) * real.float()  # [B, K]
            row_entropy = -(row * torch.log(row.clamp_min(1e-30))).sum(-1)
            roll_rows.append(torch.stack([(row * (special & real).float()).sum(-1), (row * word_keys).sum(-1),
                                          row_entropy], dim=-1).sum(dim=0))
        roll = torch.stack(roll_rows).cpu().numpy().astype(np.float64)
        return heads, roll
