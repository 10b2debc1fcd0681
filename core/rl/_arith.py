"""The environment's arithmetic without gymnasium: actions to weights, one decision's trade.

Shared by :class:`~core.rl.PortfolioEnv`, the evaluation of every policy and the trained
policy, so all of them map actions and charge costs the same way (formulas in
:mod:`core.rl._env`).
"""

from __future__ import annotations

import numpy as np

from core.rl._settings import EnvSettings

_add = np.add.reduce  # a sum without ndarray.sum's Python-level wrapper (small arrays)


def to_weights(action: np.ndarray, settings: EnvSettings) -> np.ndarray:
    """Long-only weights (assets, then cash; they sum to 1) from an action in [-1, 1]^(N+1).

    ``softmax``: of ``logit_scale × action`` (±3 puts 0.95 on one asset among 21, ±8 0.99999; the
    logits are bounded by ±50, so no overflow). ``relu``: ``max(action, 0)`` normalised,
    exactly any point of the simplex; all ≤ 0 is all cash.
    """
    a = np.minimum(np.maximum(np.asarray(action, dtype=float), -1.0), 1.0)
    if settings.action_map == "relu":
        positive = np.maximum(a, 0.0)
        total = positive.sum()
        if total <= 0:
            out = np.zeros_like(a)
            out[-1] = 1.0
            return out
        return positive / total
    e = np.exp(settings.logit_scale * a)
    return e / _add(e)


def trade_step(
    value: float,
    held: np.ndarray,
    target: np.ndarray,
    gap: np.ndarray,
    ride: np.ndarray,
    cost_rate: float,
) -> tuple[float, np.ndarray, float, float]:
    """One decision's arithmetic.

    Parameters
    ----------
    value : float
        Portfolio value at the decision close.
    held, target : ndarray of shape (N + 1,)
        Weights held at that close and wanted (assets, then cash).
    gap : ndarray of shape (N,) or (N + 1,)
        ``O[t+1] / C[t]`` (with a trailing 1 for cash, or without).
    ride : ndarray of shape (N,) or (N + 1,)
        ``C[t+k] / O[t+1]`` (likewise).
    cost_rate : float
        Cost per unit of notional traded (on the assets' one-way turnover).

    Returns
    -------
    tuple
        value at the close of ``t + k``, weights held then, one-way turnover, cost paid.
    """
    if len(gap) < len(held):
        gap, ride = np.append(gap, 1.0), np.append(ride, 1.0)
    open_growth = float(held @ gap)  # value at the open / value at the close
    drifted = held * gap / open_growth
    turnover = float(_add(np.abs(target[:-1] - drifted[:-1])))
    value_open = value * open_growth
    cost = value_open * cost_rate * turnover
    hold_growth = float(target @ ride)
    return (value_open - cost) * hold_growth, target * ride / hold_growth, turnover, cost
