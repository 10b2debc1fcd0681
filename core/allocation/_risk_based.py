"""Allocations that need no solver: equal weight, inverse volatility, equal risk contributions."""

from __future__ import annotations

import numpy as np

from core.allocation._spec import AllocationError


def equal_weights(n_assets: int) -> np.ndarray:
    """``1/n`` each."""
    return np.full(n_assets, 1.0 / n_assets)


def inverse_volatility(cov: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Weights proportional to ``1/σ_i``, capped at ``upper``.

    The excess goes to the uncapped assets in the same proportions, repeated until nothing
    is over its cap.
    """
    raw = 1.0 / np.sqrt(np.diag(cov))
    return capped_proportional(raw, upper)


def capped_proportional(raw: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The weights closest in proportion to ``raw`` that sum to one under ``upper``."""
    weights = np.zeros_like(raw, dtype=float)
    free = np.ones(len(raw), dtype=bool)
    while True:
        remaining = 1.0 - weights[~free].sum()
        weights[free] = remaining * raw[free] / raw[free].sum()
        over = free & (weights > upper)
        if not over.any():
            return weights
        weights[over] = upper[over]
        free &= ~over


def equal_risk_contributions(cov: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Long-only weights whose contributions ``w_i (Σw)_i`` are all equal.

    Newton's method on the strictly convex ``f(y) = ½yᵀΣy − (1/n) Σ log y_i`` (Spinu 2013):
    at its minimum ``y_i (Σy)_i = 1/n`` for every ``i``, so ``w = y / Σy`` has equal risk
    contributions. ``n·f`` is self-concordant, so the damped step ``1/(1 + λ)`` (λ the Newton
    decrement of ``n·f``) keeps ``y > 0`` and converges from any start.
    """
    n = len(cov)
    b = np.full(n, 1.0 / n)
    y = 1.0 / np.sqrt(np.diag(cov) * n)
    for _ in range(200):
        gradient = cov @ y - b / y
        step = np.linalg.solve(cov + np.diag(b / y**2), gradient)
        decrement = float(np.sqrt(max(n * gradient @ step, 0.0)))
        y = y - (step if decrement < 0.25 else step / (1.0 + decrement))
        if decrement < tol:
            break
    else:
        raise AllocationError("risk parity did not converge (is the covariance singular?)")
    return y / y.sum()
