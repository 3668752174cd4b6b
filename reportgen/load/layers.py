"""Where a transformers model keeps its embedding block and its layers, found without naming an architecture:
what layer integrated gradients attributes to and what the sanity checks randomise."""

from __future__ import annotations

from typing import Any

import torch


def attribution_layers(model: Any) -> list[tuple[str, torch.nn.Module]]:
    """The embedding block and each encoder layer of a transformers model, with their module paths.

    Found without naming an architecture: ``model.base_model.embeddings`` (else the input
    embeddings) and the ModuleList under the base model whose length is the configured number
    of hidden layers (the longest ModuleList when the config does not say). Tested on BERT,
    DistilBERT and RoBERTa; models that reuse one layer several times (ALBERT) are refused.
    """
    base = getattr(model, "base_model", model)
    prefix = getattr(model, "base_model_prefix", "") or ""
    found = [(name, module) for name, module in base.named_modules()
             if isinstance(module, torch.nn.ModuleList) and len(module) > 0]
    expected = getattr(model.config, "num_hidden_layers", None)
    if expected is not None:
        found = [item for item in found if len(item[1]) == expected]
    if not found:
        wanted = f"{expected} encoder layers" if expected is not None else "encoder layers"
        raise ValueError(f"cannot find the {wanted} (a ModuleList) in {type(model).__name__}")
    layers_name, layers = max(found, key=lambda item: len(item[1]))
    embeddings = getattr(base, "embeddings", None)
    if isinstance(embeddings, torch.nn.Module):
        named = [("embeddings", embeddings)]
    else:
        named = [("input_embeddings", model.get_input_embeddings())]
    named += [(f"{layers_name}.{i}", layer) for i, layer in enumerate(layers)]
    if prefix and base is not model:
        named = [(f"{prefix}.{name}", module) for name, module in named]
    return named
