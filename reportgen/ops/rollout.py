"""Attention rollout (Abnar & Zuidema 2020): attention mixed with the residual path, multiplied over layers."""

from __future__ import annotations

from typing import Iterator

import torch


def rollout(attentions: tuple[torch.Tensor, ...], residual_weight: float) -> torch.Tensor:
    """Rolled-out attention [batch, query, key] through all layers."""
    *_, flow = rollout_steps(attentions, residual_weight)
    return flow


def rollout_steps(attentions: tuple[torch.Tensor, ...], residual_weight: float) -> Iterator[torch.Tensor]:
    """Rolled-out attention [batch, query, key] after each layer, first layer first."""
    identity = torch.eye(attentions[0].shape[-1], device=attentions[0].device)
    flow = None
    for layer in attentions:
        mixed = (1 - residual_weight) * layer.mean(dim=1) + residual_weight * identity
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        flow = mixed if flow is None else mixed @ flow
        yield flow
