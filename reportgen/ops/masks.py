"""Positions in a padded batch: which are special tokens, and each row's slice at its query position."""

from __future__ import annotations

from typing import Sequence

import torch


def special_mask(word_ids: Sequence[Sequence[int | None]], shape: torch.Size, device: torch.device) -> torch.Tensor:
    """True where a position holds a special token ([CLS], [SEP], ...: no word) or padding."""
    mask = torch.ones(shape, dtype=torch.bool, device=device)
    for row, ids in enumerate(word_ids):
        mask[row, : len(ids)] = torch.tensor([w is None for w in ids])
    return mask


def query_rows(values: torch.Tensor, dim: int, query: int | None,
               positions: torch.Tensor | None = None) -> torch.Tensor:
    """Each row's slice of ``values`` (rows first) along ``dim``: at position ``query`` for every row, or,
    when it is None, at the row's own entry of ``positions``."""
    if query is not None:
        return values.select(dim, int(query))
    rows = torch.arange(values.shape[0], device=values.device)
    return values[(rows,) + (slice(None),) * (dim - 1) + (positions,)]
