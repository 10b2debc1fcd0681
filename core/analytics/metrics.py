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
from collections.abc import Sequence

import numpy as np
import pandas as pd

ArrayLike = np.ndarray | pd.Series | Sequence[float]

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

TRADING_DAYS_PER_YEAR = 252
CALENDAR_DAYS_PER_YEAR = 365

# A deviation no larger than this many float epsilons of the values' scale is rounding
# noise (e.g. the returns of a curve that grows at a constant rate), not risk.
_NOISE_EPS = 16 * np.finfo(float).eps
# Bars on at least this share of the distinct dates fall on Saturdays: a 7-day market.
_SATURDAY_SHARE = 0.05


# --- validation ------------------------------------------------------------------------------


def _vector(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite numbers (may be empty)."""
    if isinstance(values, pd.Series | pd.Index):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        pos = int(np.argmin(finite))
        raise ValueError(f"{name} must be finite; element {pos} is {array[pos]}")
    return array


def _equity(equity: ArrayLike) -> np.ndarray:
    """A validated equity curve: 1-D, finite, positive, at least two values."""
    array = _vector(equity, "equity")
    if len(array) < 2:
        raise ValueError(f"equity needs at least 2 values, got {len(array)}")
    if (array <= 0).any():
        pos = int(np.argmax(array <= 0))
        raise ValueError(f"equity must be positive; element {pos} is {array[pos]}")
    return array


def _periods(periods_per_year: float) -> float:
    value = float(periods_per_year)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"periods_per_year must be a positive number, got {periods_per_year!r}")
    return value


def _rate(value: float, name: str) -> float:
    rate = float(value)
    if not math.isfinite(rate):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return rate


def _level(level: float) -> float:
    value = float(level)
    if not 0 < value < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return value


def _is_noise(deviation: float, values: np.ndarray) -> bool:
    """True when a deviation of returns is zero up to float rounding of ``1 + r``."""
    return deviation <= _NOISE_EPS * (1.0 + float(np.abs(values).max(initial=0.0)))


def _like(result: np.ndarray, source: ArrayLike, index) -> np.ndarray | pd.Series:
    if isinstance(source, pd.Series):
        return pd.Series(result, index=index, name=source.name)
    return result


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


# --- trades and positions --------------------------------------------------------------------


def n_trades(trade_pnls: ArrayLike) -> int:
    """Number of trades (the length of ``trade_pnls``)."""
    return len(_vector(trade_pnls, "trade_pnls"))


def win_rate(trade_pnls: ArrayLike) -> float:
    """Share of trades with a net P&L above zero.

    Parameters
    ----------
    trade_pnls : array_like, shape (T,)
        Net P&L of each closed trade, in currency.

    Returns
    -------
    float
        Fraction in [0, 1]; NaN with no trades. A zero P&L is not a win.
    """
    pnls = _vector(trade_pnls, "trade_pnls")
    return float(np.mean(pnls > 0)) if len(pnls) else math.nan


def profit_factor(trade_pnls: ArrayLike) -> float:
    """Gross profit over gross loss: ``sum(pnl > 0) / |sum(pnl < 0)|``.

    Parameters
    ----------
    trade_pnls : array_like, shape (T,)
        Net P&L of each closed trade, in currency.

    Returns
    -------
    float
        Ratio ≥ 0; ``inf`` with profits and no losses; NaN with no trades or when
        every trade is flat.
    """
    pnls = _vector(trade_pnls, "trade_pnls")
    profit = float(pnls[pnls > 0].sum())
    loss = float(-pnls[pnls < 0].sum())
    if loss == 0:
        return math.inf if profit > 0 else math.nan
    return profit / loss


def average_trade(trade_pnls: ArrayLike) -> float:
    """Mean net P&L per trade, in currency; NaN with no trades."""
    pnls = _vector(trade_pnls, "trade_pnls")
    return float(np.mean(pnls)) if len(pnls) else math.nan


def exposure(position: ArrayLike) -> float:
    """Share of bars with a non-zero position.

    Parameters
    ----------
    position : array_like, shape (B,)
        Position (quantity, weight or exposure value) held in each bar; the sign and
        size do not matter, only whether it is zero.

    Returns
    -------
    float
        Fraction in [0, 1]; NaN with no bars.
    """
    values = _vector(position, "position")
    return float(np.mean(values != 0)) if len(values) else math.nan


def turnover(traded_notional: ArrayLike, equity: ArrayLike, periods_per_year: float) -> float:
    """Annualised turnover ``sum(|traded notional|) / mean(equity) / years``.

    Parameters
    ----------
    traded_notional : array_like, shape (K,)
        Notional value of each fill (or of the trading in each bar), in currency;
        buys and sells both count.
    equity : array_like, shape (N + 1,)
        Equity values, in the same currency; ``years = N / periods_per_year``.
    periods_per_year : float
        Periods per year.

    Returns
    -------
    float
        Times the average equity is traded per year (1.0 = 100 % a year).
    """
    notional = _vector(traded_notional, "traded_notional")
    values = _equity(equity)
    years = (len(values) - 1) / _periods(periods_per_year)
    return float(np.abs(notional).sum() / values.mean() / years)


# --- periods per year ------------------------------------------------------------------------


def _datetime_index(index) -> pd.DatetimeIndex:
    stamps = pd.DatetimeIndex(index)
    if len(stamps) < 2:
        raise ValueError(f"need at least 2 timestamps to infer a frequency, got {len(stamps)}")
    if not (stamps[1:] > stamps[:-1]).all():
        raise ValueError("timestamps must be strictly increasing")
    return stamps


def _days_per_year(stamps: pd.DatetimeIndex) -> int:
    """365 when bars fall on Saturdays (a 7-day market such as crypto), else 252."""
    dates = stamps.normalize().unique()
    saturdays = float(np.mean(dates.day_of_week == 5))
    return CALENDAR_DAYS_PER_YEAR if saturdays >= _SATURDAY_SHARE else TRADING_DAYS_PER_YEAR


def _bars_per_day(stamps: pd.DatetimeIndex) -> int:
    """Median number of bars per calendar date (partial first/last days do not count)."""
    counts = pd.Series(1, index=stamps).groupby(stamps.normalize()).size()
    return max(1, round(float(counts.median())))


def periods_per_year_for(index) -> int:
    """Infer the number of bars per year from their timestamps.

    The rule, on the median spacing of consecutive timestamps:

    * below one day (intraday): ``days × bars per day``, where bars per day is the
      median count of bars per calendar date and days is 365 for a 7-day market
      else 252 — e.g. 1-minute stock bars (390 a session) give 252 × 390;
    * one to four days (daily bars; the weekend gap is 3 days): 365 when at least 5 %
      of the dates are Saturdays (crypto trades every day; a 7-day calendar has 1/7
      Saturdays, while FX and futures open on Sunday evening but not on Saturday),
      else 252 trading days;
    * longer (weekly, monthly, …): ``round(365.25 days / spacing)``, at least 1 —
      52 for weekly, 12 for monthly, 4 for quarterly and 1 for yearly bars.

    Parameters
    ----------
    index : DatetimeIndex or array_like of datetimes, shape (N + 1,)
        Bar timestamps, strictly increasing, at least two.

    Returns
    -------
    int
        Periods per year.
    """
    stamps = _datetime_index(index)
    step = (stamps[1:] - stamps[:-1]).median()
    if step < pd.Timedelta(days=1):
        return _days_per_year(stamps) * _bars_per_day(stamps)
    if step <= pd.Timedelta(days=4):
        return _days_per_year(stamps)
    return max(1, round(pd.Timedelta(days=365.25) / step))


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
