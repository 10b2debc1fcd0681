"""Performance metrics of a backtest: small pure functions on numpy arrays.

Every function accepts a 1-D ``numpy.ndarray``, a ``pandas.Series`` or a list, and
works on the plain float values (a Series' index is ignored, except that
:func:`simple_returns` and :func:`drawdown_series` give a Series back for a Series).

Conventions (see ``docs/METRICS.md``):

* returns are *simple period returns* of the equity curve, ``r_t = E_t / E_{t-1} - 1``;
  an equity curve of ``N + 1`` values has ``N`` returns and spans ``N / periods_per_year``
  years;
* standard deviations are sample deviations (``ddof=1``), annualised by
  ``sqrt(periods_per_year)``;
* drawdowns and value at risk are returns, so losses are negative numbers;
* ratios that would divide by zero (or by rounding noise) are ``NaN``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.analytics._periods import (  # noqa: F401  (CALENDAR_DAYS_PER_YEAR is API)
    CALENDAR_DAYS_PER_YEAR,
    TRADING_DAYS_PER_YEAR,
    periods_per_year_for,
)
from core.analytics._trades import (
    average_trade,
    exposure,
    n_trades,
    profit_factor,
    turnover,
    win_rate,
)
from core.analytics._validate import (
    ArrayLike,
    _equity,
    _is_noise,
    _level,
    _like,
    _periods,
    _rate,
    _vector,
)

METRIC_KEYS = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "var_95",
    "cvar_95",
    "var_99",
    "cvar_99",
    "win_rate",
    "profit_factor",
    "average_trade",
    "exposure",
    "turnover",
    "n_trades",
)
"""The keys of :func:`compute_metrics`, in order (a contract of ``--json`` output)."""

# --- returns ---------------------------------------------------------------------------------


def simple_returns(equity: ArrayLike) -> np.ndarray | pd.Series:
    """Simple period returns ``r_t = E_t / E_{t-1} - 1``.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity (or price) values, positive and finite, oldest first.

    Returns
    -------
    ndarray or Series, shape (N,)
        Returns as fractions (0.01 = 1 %). A Series input gives a Series on the
        index of the later bar of each period (``equity.index[1:]``).
    """
    values = _equity(equity)
    returns = values[1:] / values[:-1] - 1.0
    index = equity.index[1:] if isinstance(equity, pd.Series) else None
    return _like(returns, equity, index)


def total_return(equity: ArrayLike) -> float:
    """Total return ``E_N / E_0 - 1`` as a fraction.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity values, positive and finite.

    Returns
    -------
    float
        Fraction, ≥ -1.
    """
    values = _equity(equity)
    return float(values[-1] / values[0] - 1.0)


def cagr(equity: ArrayLike, periods_per_year: float) -> float:
    """Compound annual growth rate ``(E_N / E_0) ** (1 / years) - 1``.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity values, positive and finite, one per period.
    periods_per_year : float
        Periods (bars) per year; ``years = N / periods_per_year``.

    Returns
    -------
    float
        Annual growth rate as a fraction; ``inf`` when it overflows (a large gain
        over a very short span).
    """
    values = _equity(equity)
    years = (len(values) - 1) / _periods(periods_per_year)
    with np.errstate(over="ignore"):
        return float(np.power(values[-1] / values[0], 1.0 / years) - 1.0)


# --- risk and risk-adjusted return -----------------------------------------------------------


def volatility(returns: ArrayLike, periods_per_year: float) -> float:
    """Annualised volatility ``std(r, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    periods_per_year : float
        Periods per year.

    Returns
    -------
    float
        Annualised standard deviation as a fraction; NaN with fewer than 2 returns.
    """
    values = _vector(returns, "returns")
    ppy = _periods(periods_per_year)
    if len(values) < 2:
        return math.nan
    return float(np.std(values, ddof=1) * math.sqrt(ppy))


def sharpe(returns: ArrayLike, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio ``mean(x) / std(x, ddof=1) * sqrt(periods_per_year)``.

    ``x = r - risk_free / periods_per_year`` are the excess returns per period.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    periods_per_year : float
        Periods per year.
    risk_free : float, default 0.0
        Risk-free rate as an *annual* fraction (0.04 = 4 % a year).

    Returns
    -------
    float
        Dimensionless ratio; NaN with fewer than 2 returns or a zero standard deviation.
    """
    values = _vector(returns, "returns")
    ppy = _periods(periods_per_year)
    excess = values - _rate(risk_free, "risk_free") / ppy
    if len(excess) < 2:
        return math.nan
    deviation = float(np.std(excess, ddof=1))
    if _is_noise(deviation, excess):
        return math.nan
    return float(np.mean(excess) / deviation * math.sqrt(ppy))


def downside_deviation(returns: ArrayLike, target: float = 0.0) -> float:
    """Downside deviation ``sqrt(mean(min(r - target, 0) ** 2))`` over all periods.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    target : float, default 0.0
        Minimum acceptable return *per period*.

    Returns
    -------
    float
        Per-period deviation (not annualised); NaN with no returns.
    """
    values = _vector(returns, "returns")
    if len(values) == 0:
        return math.nan
    shortfall = np.minimum(values - _rate(target, "target"), 0.0)
    return float(np.sqrt(np.mean(shortfall**2)))


def sortino(returns: ArrayLike, periods_per_year: float, target: float = 0.0) -> float:
    """Annualised Sortino ratio ``mean(r - target) / downside_deviation * sqrt(periods)``.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    periods_per_year : float
        Periods per year.
    target : float, default 0.0
        Minimum acceptable return *per period* (an annual rate ``a`` is ``a / periods``).

    Returns
    -------
    float
        Dimensionless ratio; NaN with fewer than 2 returns or no shortfall below target.
    """
    values = _vector(returns, "returns")
    ppy = _periods(periods_per_year)
    if len(values) < 2:
        return math.nan
    excess = values - _rate(target, "target")
    deviation = downside_deviation(excess)
    if _is_noise(deviation, excess):
        return math.nan
    return float(np.mean(excess) / deviation * math.sqrt(ppy))


def _drawdowns(values: np.ndarray) -> np.ndarray:
    return values / np.maximum.accumulate(values) - 1.0


def drawdown_series(equity: ArrayLike) -> np.ndarray | pd.Series:
    """Drawdown of every bar from the running peak: ``E_t / max(E_0..E_t) - 1``.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity values, positive and finite.

    Returns
    -------
    ndarray or Series, shape (N + 1,)
        Fractions in (-1, 0]; 0 at a new peak (and at ``E_0``). A Series input gives
        a Series on the same index.
    """
    index = equity.index if isinstance(equity, pd.Series) else None
    return _like(_drawdowns(_equity(equity)), equity, index)


def max_drawdown(equity: ArrayLike) -> float:
    """Maximum drawdown: the lowest value of :func:`drawdown_series`.

    The running peak starts at the first value, so a curve that only falls from
    ``E_0`` has a drawdown ``min(E) / E_0 - 1``.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity values, positive and finite.

    Returns
    -------
    float
        A fraction in (-1, 0]: negative for a loss from a peak, 0 without one.
    """
    return float(_drawdowns(_equity(equity)).min())


def calmar(equity: ArrayLike, periods_per_year: float) -> float:
    """Calmar ratio ``cagr / |max_drawdown|``.

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity values, positive and finite.
    periods_per_year : float
        Periods per year.

    Returns
    -------
    float
        Dimensionless ratio; NaN when the curve never draws down.
    """
    drawdown = max_drawdown(equity)
    if drawdown == 0:
        return math.nan
    return cagr(equity, periods_per_year) / abs(drawdown)


def value_at_risk(returns: ArrayLike, level: float = 0.95) -> float:
    """Historical value at risk: the ``1 - level`` quantile of the returns.

    The quantile uses numpy's default linear interpolation between order
    statistics: with sorted returns ``s_0 ≤ … ≤ s_{N-1}`` and ``h = (N - 1)(1 - level)``,
    ``VaR = s_⌊h⌋ + (h - ⌊h⌋)(s_⌊h⌋+1 - s_⌊h⌋)``.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    level : float, default 0.95
        Confidence level in (0, 1).

    Returns
    -------
    float
        A period return (negative = a loss); NaN with no returns.
    """
    values = _vector(returns, "returns")
    tail = 1.0 - _level(level)
    if len(values) == 0:
        return math.nan
    return float(np.quantile(values, tail))


def conditional_value_at_risk(returns: ArrayLike, level: float = 0.95) -> float:
    """Conditional VaR (expected shortfall): the mean of the returns ≤ :func:`value_at_risk`.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Simple period returns.
    level : float, default 0.95
        Confidence level in (0, 1).

    Returns
    -------
    float
        A period return, ≤ the VaR at the same level; NaN with no returns.
    """
    values = _vector(returns, "returns")
    var = value_at_risk(values, level)
    if math.isnan(var):
        return math.nan
    # The smallest return is always ≤ the interpolated quantile, so the tail is not
    # empty. The mean of a tail lies between its minimum and the VaR; clipping keeps it
    # there when the mean of (nearly) equal values rounds off by a last bit.
    tail = values[values <= var]
    return float(np.clip(np.mean(tail), tail.min(), var))


# --- everything at once ----------------------------------------------------------------------


def _tail_metrics(returns: np.ndarray) -> dict[str, float]:
    return {
        f"{name}_{round(level * 100)}": func(returns, level)
        for level in (0.95, 0.99)
        for name, func in (("var", value_at_risk), ("cvar", conditional_value_at_risk))
    }


def _trade_metrics(trade_pnls: ArrayLike | None) -> dict[str, float | int]:
    if trade_pnls is None:
        trade_pnls = np.empty(0)
    return {
        "win_rate": win_rate(trade_pnls),
        "profit_factor": profit_factor(trade_pnls),
        "average_trade": average_trade(trade_pnls),
        "n_trades": n_trades(trade_pnls),
    }


def compute_metrics(
    equity: ArrayLike,
    *,
    trade_pnls: ArrayLike | None = None,
    position: ArrayLike | None = None,
    traded_notional: ArrayLike | None = None,
    periods_per_year: float = TRADING_DAYS_PER_YEAR,
    risk_free: float = 0.0,
) -> dict[str, float | int]:
    """Every metric of one backtest, keyed by :data:`METRIC_KEYS` (in that order).

    Parameters
    ----------
    equity : array_like, shape (N + 1,)
        Equity curve, positive and finite, at least two values.
    trade_pnls : array_like, shape (T,), optional
        Net P&L of each closed trade; without it the trade metrics are NaN and
        ``n_trades`` is 0.
    position : array_like, shape (B,), optional
        Position or exposure per bar, for ``exposure`` (NaN without it).
    traded_notional : array_like, shape (K,), optional
        Traded notional per fill or bar, for ``turnover`` (NaN without it).
    periods_per_year : float, default 252
        Bars per year (see :func:`periods_per_year_for`).
    risk_free : float, default 0.0
        Annual risk-free rate; Sharpe subtracts ``risk_free / periods_per_year``
        per period and Sortino uses it as its per-period target.

    Returns
    -------
    dict
        Floats (NaN/inf where undefined, see each function) and ``n_trades`` as int.
    """
    values = _equity(equity)
    ppy = _periods(periods_per_year)
    rf = _rate(risk_free, "risk_free")
    returns = values[1:] / values[:-1] - 1.0
    metrics = {
        "total_return": total_return(values),
        "cagr": cagr(values, ppy),
        "volatility": volatility(returns, ppy),
        "sharpe": sharpe(returns, ppy, rf),
        "sortino": sortino(returns, ppy, target=rf / ppy),
        "max_drawdown": max_drawdown(values),
        "calmar": calmar(values, ppy),
        **_tail_metrics(returns),
        **_trade_metrics(trade_pnls),
        "exposure": math.nan if position is None else exposure(position),
        "turnover": math.nan if traded_notional is None else turnover(traded_notional, values, ppy),
    }
    return {key: metrics[key] for key in METRIC_KEYS}
