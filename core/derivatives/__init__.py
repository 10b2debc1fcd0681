"""Derivatives math: European option prices, Greeks and implied volatility over numpy arrays.

Black-Scholes-Merton (continuous dividend yield) and Black-76 (options on futures), with the
Greeks in stated units (theta per year / calendar day / trading day, vega and rho per 1.00
and per 1 %), and a vectorized implied-volatility solver that returns NaN with a reason for
prices outside the no-arbitrage bounds. Expiries are in years; the day count is the caller's.

Multi-leg strategies (verticals, straddles, strangles, iron condors, butterflies, calendars)
are pydantic models with their payoff at expiry, P&L today, breakevens, extremes and net
Greeks. Forex (pip size and value, lot sizing from risk) and futures (contract terms, tick
value, P&L, margin) calculators complete the room.
"""

from core.derivatives._futures import (
    CONTRACTS,
    FuturesSpec,
    MarginStatus,
    futures_pnl,
    futures_spec,
    margin_status,
)
from core.derivatives._fx import (
    STANDARD_LOT,
    CurrencyPair,
    PipValue,
    PositionSize,
    conversion_rate,
    pip_value,
    position_size,
)
from core.derivatives._implied import ImpliedVol, implied_vol
from core.derivatives._inputs import parse_strikes
from core.derivatives._params import MarginParams, PricerParams, SizerParams
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
from core.derivatives._smile import SmileParams, option_chain, smile_vol
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
    "CONTRACTS",
    "DAYS_PER_YEAR",
    "STANDARD_LOT",
    "TRADING_DAYS_PER_YEAR",
    "CurrencyPair",
    "FuturesSpec",
    "Greeks",
    "ImpliedVol",
    "Leg",
    "MarginParams",
    "MarginStatus",
    "OptionMarket",
    "PipValue",
    "PositionSize",
    "PricerParams",
    "SizerParams",
    "SmileParams",
    "Strategy",
    "StrategyAnalysis",
    "analyze",
    "black76",
    "black76_price",
    "bsm",
    "bsm_price",
    "butterfly",
    "calendar",
    "conversion_rate",
    "futures_pnl",
    "futures_spec",
    "implied_vol",
    "iron_condor",
    "margin_status",
    "net_greeks",
    "option_chain",
    "parse_strikes",
    "pip_value",
    "pnl_at_expiry",
    "pnl_today",
    "position_size",
    "smile_vol",
    "straddle",
    "strangle",
    "vertical",
]
