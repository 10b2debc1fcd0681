"""The environment's arithmetic without gymnasium: actions to weights, one decision's trade.

Shared by :class:`~core.rl.PortfolioEnv`, the evaluation of every policy and the trained
policy, so all of them map actions and charge costs the same way (formulas in
:mod:`core.rl._env`).
"""

from __future__ import annotations

import numpy as np

from core.rl._settings import EnvSettings


def to_weights(action: np.ndarray, settings: EnvSettings) -> np.ndarray:
    """Long-only weights (assets, then cash; they sum to 1) from an action in [-1, 1]^(N+1).

    ``softmax``: of ``logit_scale × action`` (±8 puts 0.99999 on one asset among 21).
    ``relu``: ``max(action, 0)`` normalised, exactly any point of the simplex; all ≤ 0 is
    all cash.
    """
    a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
    if settings.action_map == "relu":
        positive = np.maximum(a, 0.0)
        total = positive.sum()
        if total <= 0:
            out = np.zeros_like(a)
            out[-1] = 1.0
            return out
        return positive / total
    logits = settings.logit_scale * a
    e = np.exp(logits - logits.max())
    return e / e.sum()


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
    gap : ndarray of shape (N,)
        ``O[t+1] / C[t]``.
    ride : ndarray of shape (N,)
        ``C[t+k] / O[t+1]``.
    cost_rate : float
        Cost per unit of notional traded.

    Returns
    -------
    tuple
        value at the close of ``t + k``, weights held then, one-way turnover, cost paid.
    """
    at_open = held[:-1] * gap
    open_growth = at_open.sum() + held[-1]
    turnover = float(np.abs(target[:-1] - at_open / open_growth).sum())
    value_open = value * open_growth
    cost = value_open * cost_rate * turnover
    riding = target[:-1] * ride
    hold_growth = riding.sum() + target[-1]
    new_held = np.empty_like(target)
    new_held[:-1] = riding / hold_growth
    new_held[-1] = target[-1] / hold_growth
    return (value_open - cost) * hold_growth, new_held, turnover, cost
