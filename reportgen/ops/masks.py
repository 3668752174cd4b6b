"""Which positions of a padded batch are special tokens, as a torch mask."""

from __future__ import annotations

from typing import Sequence

import torch


def special_mask(word_ids: Sequence[Sequence[int | None]], shape: torch.Size, device: torch.device) -> torch.Tensor:
    """True where a position holds a special token ([CLS], [SEP], ...: no word) or padding."""
    mask = torch.ones(shape, dtype=torch.bool, device=device)
    for row, ids in enumerate(word_ids):
        mask[row, : len(ids)] = torch.tensor([w is None for w in ids])
    return mask
