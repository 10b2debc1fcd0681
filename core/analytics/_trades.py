"""Trade and position metrics: win rate, profit factor, average trade, exposure, turnover."""

from __future__ import annotations

import math

import numpy as np

from core.analytics._validate import ArrayLike, _equity, _periods, _vector


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
