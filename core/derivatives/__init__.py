"""Derivatives math: European option prices, Greeks and implied volatility over numpy arrays.

Black-Scholes-Merton (continuous dividend yield) and Black-76 (options on futures), with the
Greeks in stated units (theta per year / calendar day / trading day, vega and rho per 1.00
and per 1 %), and a vectorized implied-volatility solver that returns NaN with a reason for
prices outside the no-arbitrage bounds. Expiries are in years; the day count is the caller's.

Multi-leg strategies (verticals, straddles, strangles, iron condors, butterflies, calendars)
are pydantic models with their payoff at expiry, P&L today, breakevens, extremes and net
Greeks.
"""

from core.derivatives._implied import ImpliedVol, implied_vol
from core.derivatives._payoff import (
    StrategyAnalysis,
    analyze,
    net_greeks,
    pnl_at_expiry,
    pnl_today,
)
from core.derivatives._pricing import (
    DAYS_PER_YEAR,
    TRADING_DAYS_PER_YEAR,
    Greeks,
    black76,
    black76_price,
    bsm,
    bsm_price,
)
from core.derivatives._strategies import (
    Leg,
    OptionMarket,
    Strategy,
    butterfly,
    calendar,
    iron_condor,
    straddle,
    strangle,
    vertical,
)

__all__ = [
    "DAYS_PER_YEAR",
    "TRADING_DAYS_PER_YEAR",
    "Greeks",
    "ImpliedVol",
    "Leg",
    "OptionMarket",
    "Strategy",
    "StrategyAnalysis",
    "analyze",
    "black76",
    "black76_price",
    "bsm",
    "bsm_price",
    "butterfly",
    "calendar",
    "implied_vol",
    "iron_condor",
    "net_greeks",
    "pnl_at_expiry",
    "pnl_today",
    "straddle",
    "strangle",
    "vertical",
]
