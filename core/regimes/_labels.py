"""Naming the states of a fitted regime model: bull, bear, sideways, high volatility.

Rules (``label_states``), applied to each state's mean ``μ_i`` and volatility
``σ_i = √variance_i`` of the first feature (the per-bar log return):

1. **High volatility.** With three states, the most volatile state is
   ``"high_volatility"`` when ``σ_max ≥ vol_ratio · σ_second`` (default 1.5: its
   volatility is well above every other state's). With four states the most
   volatile state always is (four states, four labels). Two states never get it.
2. **The other states**, in order of increasing mean:

   - three of them: ``"bear"``, ``"sideways"``, ``"bull"`` by rank of the mean;
   - two of them: a state is *flat* when its per-bar Sharpe ratio is small,
     ``|μ_i / σ_i| < flat_sharpe`` (default 0.03 per bar, ≈ 0.48 annualised for
     daily bars; scale it by ``√(bar length in days)`` for other bars). The lower
     state is ``"bear"`` unless ``μ/σ > -flat_sharpe`` (then ``"sideways"``), the upper
     one ``"bull"`` unless ``μ/σ < flat_sharpe`` (then ``"sideways"``). When both
     would be ``"sideways"``: with two negative means the lower is ``"bear"``, with
     two positive means the upper is ``"bull"``, and with means of opposite signs
     the state with the larger ``|μ/σ|`` takes the label of its sign.

Labels are therefore unique, and a state is only called ``"bull"`` (``"bear"``) when
its mean is above (below) another state's.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from core.errors import InvalidInputError

RegimeLabel = Literal["bull", "bear", "sideways", "high_volatility"]
LABELS: tuple[str, ...] = ("bull", "bear", "sideways", "high_volatility")
VOL_RATIO = 1.5
FLAT_SHARPE = 0.03


def label_states(
    means: np.ndarray,
    variances: np.ndarray,
    *,
    vol_ratio: float = VOL_RATIO,
    flat_sharpe: float = FLAT_SHARPE,
) -> list[str]:
    """One unique label per state from its mean and variance (rules in the module doc).

    Parameters
    ----------
    means, variances : ndarray of shape (n_states,) or (n_states, n_features)
        Per-bar mean and variance of each state; only column 0 (the log return)
        is read. Two to four states.
    vol_ratio : float
        How many times the second-largest volatility the largest must reach to be
        ``"high_volatility"`` with three states, > 1.
    flat_sharpe : float
        Per-bar ``|mean / volatility|`` below which a state is flat, ≥ 0.

    Returns
    -------
    list of str of length n_states, a subset of :data:`LABELS`
    """
    mu = _first_column(means)
    sigma = np.sqrt(_first_column(variances))
    k = len(mu)
    if not 2 <= k <= 4 or len(sigma) != k:
        raise InvalidInputError(f"need 2 to 4 states with one mean and variance each, got {k}")
    labels: list[str | None] = [None] * k
    rest = list(np.argsort(mu, kind="stable"))
    volatile = _high_volatility_state(sigma, vol_ratio)
    if volatile is not None:
        labels[volatile] = "high_volatility"
        rest.remove(volatile)
    if len(rest) == 3:
        for state, name in zip(rest, ("bear", "sideways", "bull"), strict=True):
            labels[state] = name
    else:
        low, high = rest
        labels[low], labels[high] = _pair_labels(mu[[low, high]] / sigma[[low, high]], flat_sharpe)
    return [str(label) for label in labels]


def _high_volatility_state(sigma: np.ndarray, vol_ratio: float) -> int | None:
    k = len(sigma)
    if k < 3:
        return None
    order = np.argsort(sigma, kind="stable")
    top, second = int(order[-1]), int(order[-2])
    return top if k == 4 or sigma[top] >= vol_ratio * sigma[second] else None


def _pair_labels(sharpe: np.ndarray, flat: float) -> tuple[str, str]:
    low = "bear" if sharpe[0] <= -flat else "sideways"
    high = "bull" if sharpe[1] >= flat else "sideways"
    if low != high:
        return low, high
    if sharpe[1] <= 0 or (sharpe[0] < 0 and abs(sharpe[0]) > abs(sharpe[1])):
        return "bear", "sideways"
    return "sideways", "bull"


def _first_column(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[:, 0] if array.ndim == 2 else array
