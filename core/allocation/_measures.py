"""Risk and return measures of a weight vector: pure functions reused by every method."""

from __future__ import annotations

import math

import numpy as np

from core.errors import InvalidInputError


def portfolio_volatility(weights: np.ndarray, cov: np.ndarray) -> float:
    """``sqrt(wᵀΣw)`` in the units of ``cov`` (annualised when ``cov`` is)."""
    return math.sqrt(max(float(weights @ cov @ weights), 0.0))


def sharpe_ratio(expected_return: float, volatility: float, risk_free_rate: float = 0.0) -> float:
    """``(μ_p − r_f) / σ_p``; NaN for a riskless portfolio."""
    return (expected_return - risk_free_rate) / volatility if volatility > 0 else math.nan


def historical_cvar(portfolio_returns: np.ndarray, beta: float = 0.95) -> float:
    """Historical CVaR at level ``beta`` of daily returns, as a positive loss.

    The mean loss over the worst ``k = (1 − beta)·T`` of the ``T`` scenarios, the last one
    counted by its fraction when ``k`` is not whole — the value of the Rockafellar-Uryasev
    linear program ``min_α α + Σ_t max(−r_t − α, 0) / k``. A result of 0.03 means the worst
    5 % of days lost 3 % on average; a negative result means even those days gained.

    Parameters
    ----------
    portfolio_returns : ndarray of shape (n_observations,)
        Daily simple returns of the portfolio.
    """
    losses = np.sort(-np.asarray(portfolio_returns, dtype=float))[::-1]
    k = (1.0 - beta) * len(losses)
    if not 0 < k <= len(losses):
        raise InvalidInputError(f"CVaR at {beta} needs at least one scenario in its tail")
    whole = math.floor(k)
    tail = losses[:whole].sum()
    if whole < len(losses):
        tail += (k - whole) * losses[whole]
    return float(tail / k)


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Each asset's contribution ``w_i (Σw)_i / σ_p`` to the volatility; they sum to ``σ_p``.

    Returns
    -------
    ndarray of shape (n_assets,), in the units of the volatility (zeros if it is 0).
    """
    volatility = portfolio_volatility(weights, cov)
    if volatility == 0:
        return np.zeros_like(weights, dtype=float)
    return weights * (cov @ weights) / volatility
