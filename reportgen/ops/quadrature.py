"""Nodes and weights for integrating along a straight path from a baseline to the input."""

from __future__ import annotations

import numpy as np

RIEMANN_RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
METHODS = ("gausslegendre",) + RIEMANN_RULES


def quadrature(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in [0, 1] and their weights (summing to 1) for integrating over the path.

    ``gausslegendre`` is exact for polynomials of degree 2n-1. The Riemann rules use n
    equal cells (left/right/middle point of each); ``riemann_trapezoid`` is the composite
    trapezoid rule on n evenly spaced points including both ends.
    """
    if isinstance(n_steps, bool) or int(n_steps) != n_steps:
        raise ValueError(f"n_steps must be a whole number, not {n_steps!r}")
    n = int(n_steps)
    if method not in METHODS:
        raise ValueError(f"unknown integration method {method!r}; use one of {', '.join(METHODS)}")
    if method == "gausslegendre":
        if n < 1:
            raise ValueError("gausslegendre needs n_steps >= 1")
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return (nodes + 1.0) / 2.0, weights / 2.0
    if n < 2:
        raise ValueError(f"{method} needs n_steps >= 2")
    if method == "riemann_trapezoid":
        weights = np.full(n, 1.0 / (n - 1))
        weights[[0, -1]] /= 2.0
        return np.linspace(0.0, 1.0, n), weights
    offset = {"riemann_left": 0.0, "riemann_middle": 0.5, "riemann_right": 1.0}[method]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)
