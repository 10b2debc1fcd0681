"""Derivatives math: European option prices, Greeks and implied volatility over numpy arrays.

Black-Scholes-Merton (continuous dividend yield) and Black-76 (options on futures), with the
Greeks in stated units (theta per year / calendar day / trading day, vega and rho per 1.00
and per 1 %), and a vectorized implied-volatility solver that returns NaN with a reason for
prices outside the no-arbitrage bounds. Expiries are in years; the day count is the caller's.
"""

from core.derivatives._implied import ImpliedVol, implied_vol
from core.derivatives._pricing import (
    DAYS_PER_YEAR,
    TRADING_DAYS_PER_YEAR,
    Greeks,
    black76,
    black76_price,
    bsm,
    bsm_price,
)

__all__ = [
    "DAYS_PER_YEAR",
    "TRADING_DAYS_PER_YEAR",
    "Greeks",
    "ImpliedVol",
    "black76",
    "black76_price",
    "bsm",
    "bsm_price",
    "implied_vol",
]
