"""How the attention maps kept for the explorer are stored in the results.

One row per (layer, head): ``n`` tokens, ``scale`` and ``weights``, the n x n query x key matrix
flattened query by query in whole units of 1/scale, as base64 of little-endian unsigned 16-bit
integers. Results written before this encoding hold ``weights`` as a list of integers, and older
ones nested [layer][head][query][key] floats; both still load.

Why base64: turning every weight of every layer and head into a Python integer and then into JSON
cost more than the model's own forward pass of the example; a string per map is several times
cheaper to write and read, and the results hold one string per map instead of n^2 integers.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

DTYPE = "<u2"
MAX_SCALE = np.iinfo(DTYPE).max


def encode_rows(weights: np.ndarray, scale: int) -> list[dict[str, Any]]:
    """Stored rows of a [layer, head, n, n] array of weights in [0, 1]."""
    if scale > MAX_SCALE:
        raise ValueError(f"attention maps are stored as 16-bit integers: scale at most {MAX_SCALE}, not {scale}")
    units = np.rint(np.clip(np.nan_to_num(weights), 0.0, 1.0) * scale).astype(DTYPE)
    layers, heads, n = units.shape[0], units.shape[1], units.shape[-1]
    return [{"layer": layer, "head": head, "n": n, "scale": scale,
             "weights": base64.b64encode(units[layer, head].tobytes()).decode("ascii")}
            for layer in range(layers) for head in range(heads)]


def row_weights(row: dict[str, Any]) -> np.ndarray:
    """A stored row's weights in units of 1/scale, flattened; ValueError if they cannot be read."""
    weights = row["weights"]
    if isinstance(weights, str):
        try:
            return np.frombuffer(base64.b64decode(weights, validate=True), dtype=DTYPE).astype(np.int64)
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"unreadable attention map weights: {err}") from None
    return np.asarray(weights, dtype=np.int64)


def maps_array(maps: list) -> np.ndarray:
    """Stored attention maps as a [layer, head, query, key] array of weights (older formats too)."""
    if not maps or not isinstance(maps[0], dict):
        return np.asarray(maps, dtype=float)
    layers, heads, n = 1 + max(r["layer"] for r in maps), 1 + max(r["head"] for r in maps), maps[0]["n"]
    array = np.zeros((layers, heads, n, n))
    for r in maps:
        array[r["layer"], r["head"]] = row_weights(r).reshape(n, n) / r["scale"]
    return array


def stored_maps(extra: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An attribution's kept attention maps as stored rows (one per layer and head), old nested ones too."""
    maps = extra.get("maps")
    if not maps:
        return None
    return maps if isinstance(maps[0], dict) else nested_maps_as_rows(maps)


def nested_maps_as_rows(maps: list[list[list[list[float]]]]) -> list[dict[str, Any]]:
    """Attention maps saved by older versions ([layer][head][query][key] weights) as stored rows."""
    return [{"layer": layer, "head": head, "n": len(matrix), "scale": 1000,
             "weights": [int(round(w * 1000)) if w is not None and math.isfinite(w) else 0
                         for query in matrix for w in query]}
            for layer, heads in enumerate(maps) for head, matrix in enumerate(heads)]
