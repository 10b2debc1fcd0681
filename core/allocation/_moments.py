"""Returns and moment estimates under the workstation's conventions.

Returns are simple daily returns starting at the second price; expected returns are the mean
daily return × 252; the covariance is the sample covariance (ddof=1) × 252, or the
Ledoit-Wolf shrinkage estimate × 252.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from core.errors import InvalidInputError

PERIODS_PER_YEAR = 252
Shrinkage = Literal["ledoit_wolf"] | None


def returns_from_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Simple returns ``p_t / p_{t-1} - 1``; the first row belongs to the second price.

    Parameters
    ----------
    prices : DataFrame of shape (n_prices, n_assets)
        Closes on common dates, no missing values.

    Returns
    -------
    DataFrame of shape (n_prices - 1, n_assets)
    """
    values = prices.to_numpy(dtype=float)
    returns = values[1:] / values[:-1] - 1.0
    return pd.DataFrame(returns, index=prices.index[1:], columns=prices.columns)


def expected_returns(returns: np.ndarray) -> np.ndarray:
    """Mean daily simple return × 252, shape (n_assets,)."""
    return np.asarray(returns, dtype=float).mean(axis=0) * PERIODS_PER_YEAR


def covariance(returns: np.ndarray, shrinkage: Shrinkage = None) -> np.ndarray:
    """Annualised covariance of daily returns, shape (n_assets, n_assets).

    ``shrinkage=None`` gives the sample covariance (ddof=1) × 252; ``"ledoit_wolf"`` gives
    the Ledoit & Wolf (2004) estimate, which shrinks the maximum-likelihood covariance
    (divided by the number of observations, as the paper defines it) toward a multiple of
    the identity, × 252.
    """
    returns = np.asarray(returns, dtype=float)
    if shrinkage is None:
        return np.atleast_2d(np.cov(returns, rowvar=False, ddof=1)) * PERIODS_PER_YEAR
    if shrinkage == "ledoit_wolf":
        return ledoit_wolf(returns)[0] * PERIODS_PER_YEAR
    raise InvalidInputError(f"unknown shrinkage {shrinkage!r}; use None or 'ledoit_wolf'")


def ledoit_wolf(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf shrinkage toward ``m·I`` (m = mean variance) of daily returns.

    Returns the shrunk covariance (not annualised) and the shrinkage intensity in [0, 1].
    With centred observations ``x_t`` and ``S = Σ x_t x_tᵀ / T``, the intensity is
    ``min(b², d²) / d²`` where ``d² = ‖S − mI‖²/n`` and
    ``b² = Σ_t ‖x_t x_tᵀ − S‖² / (n T²)`` (Frobenius norms).
    """
    x = returns - returns.mean(axis=0)
    n_obs, n_assets = x.shape
    sample = x.T @ x / n_obs
    m = np.trace(sample) / n_assets
    d2 = np.sum((sample - m * np.eye(n_assets)) ** 2) / n_assets
    # Σ_t ‖x_t x_tᵀ‖² = Σ_t (x_tᵀx_t)², and Σ_t ‖x_t x_tᵀ − S‖² = that − T‖S‖².
    outer = np.sum(np.sum(x**2, axis=1) ** 2)
    b2 = (outer - n_obs * np.sum(sample**2)) / (n_assets * n_obs**2)
    intensity = 0.0 if d2 == 0 else min(b2, d2) / d2
    return (1 - intensity) * sample + intensity * m * np.eye(n_assets), float(intensity)
