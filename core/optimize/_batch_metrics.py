"""The metrics of many backtests at once: :func:`core.analytics.compute_metrics` row by row.

A grid evaluated in batches (:meth:`~core.optimize.BacktestEvaluator.evaluate_batch`) has
one equity curve per parameter set, stacked as the rows of a matrix; this module computes
every metric of every row with array operations along the rows, by the formulas of
``core.analytics`` (docs/METRICS.md), so that the values equal those of ``compute_metrics``
on each row alone (tests hold them to 1e-12 relative; sums may differ in the last bits, as
numpy adds a row of a matrix in another order than a vector).
"""

from __future__ import annotations

import math

import numpy as np

from core.analytics import METRIC_KEYS
from core.errors import InvalidInputError

_NOISE_EPS = 16 * np.finfo(float).eps  # core.analytics' rounding-noise threshold
_LEVELS = (0.95, 0.99)


def batch_metrics(
    equity: np.ndarray,
    *,
    trade_pnls: list[np.ndarray],
    position: np.ndarray,
    traded_notional: np.ndarray,
    n_fills: np.ndarray,
    periods_per_year: float,
    risk_free: float = 0.0,
) -> list[dict[str, float | int]]:
    """``compute_metrics`` of each row.

    Parameters
    ----------
    equity : ndarray of shape (P, N + 1)
        One equity curve per row, positive and finite.
    trade_pnls : list of P ndarrays
        Net P&L of each closed trade of a row.
    position : ndarray of shape (P, B)
        Position per bar (only whether it is zero counts).
    traded_notional : ndarray of shape (P,)
        Σ |quantity × price| of a row's fills; ``n_fills`` (shape ``(P,)``) how many there
        were (without a fill, turnover is NaN, as ``compute_metrics`` without notional).
    periods_per_year, risk_free : float

    Returns
    -------
    list of P dicts keyed by :data:`~core.analytics.METRIC_KEYS`.

    Raises
    ------
    ValueError
        When a curve has fewer than 2 values or a value that is not finite and positive.
    """
    values = np.asarray(equity, dtype=float)
    if values.ndim != 2 or values.shape[1] < 2:
        raise InvalidInputError(f"equity must have shape (P, N + 1) with N ≥ 1, got {values.shape}")
    if values.size and not (values.min() > 0 and values.max() < math.inf):  # NaN fails too
        raise InvalidInputError("equity must be finite and positive")
    ppy, rf = float(periods_per_year), float(risk_free)
    columns = {
        **_return_metrics(values, ppy, rf),
        **_trade_metrics(trade_pnls),
        "exposure": _exposure(np.asarray(position)),
        "turnover": _turnover(np.asarray(traded_notional, float), n_fills, values, ppy),
    }
    rows = [dict.fromkeys(METRIC_KEYS) for _ in range(len(values))]
    for key in METRIC_KEYS:
        column = columns[key].tolist()
        for row, value in zip(rows, column, strict=True):
            row[key] = value
    return rows


def _return_metrics(values: np.ndarray, ppy: float, rf: float) -> dict[str, np.ndarray]:
    n = values.shape[1] - 1
    growth = values[:, -1] / values[:, 0]
    returns = values[:, 1:] / values[:, :-1]
    returns -= 1.0
    low, high = returns.min(axis=1), returns.max(axis=1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        cagr = np.power(growth, 1.0 / (n / ppy)) - 1.0
        peak = np.fmax.accumulate(values, axis=1)  # = maximum (no NaN here), and faster
        np.divide(values, peak, out=peak)
        drawdown = peak.min(axis=1) - 1.0  # x ↦ x − 1 keeps the order: min(x − 1) = min(x) − 1
        del peak
        calmar = np.where(drawdown == 0, math.nan, cagr / np.abs(drawdown))
        if rf == 0:  # r − 0.0 is r itself
            excess, scale = returns, np.maximum(high, -low)
        else:
            excess = returns - rf / ppy
            scale = np.abs(excess).max(axis=1, initial=0.0)
        mean, deviation = _mean_std(excess)
        out = {
            "total_return": growth - 1.0,
            "cagr": cagr,
            "volatility": (deviation if rf == 0 else _mean_std(returns)[1]) * math.sqrt(ppy),
            "max_drawdown": drawdown,
            "calmar": calmar,
            "sharpe": _ratio(mean, deviation, scale, ppy),
            "sortino": _ratio(mean, _downside(excess), scale, ppy),
        }
    out.update(_tails(returns, low))
    return out


def _mean_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation of each row.

    As ``np.mean`` and ``np.std(ddof=1)`` compute them (the deviation is NaN with fewer than 2
    values).
    """
    n = x.shape[1]
    mean = x.sum(axis=1, keepdims=True) / n
    if n < 2:
        return mean[:, 0], np.full(len(x), math.nan)
    centred = x - mean
    np.multiply(centred, centred, out=centred)
    return mean[:, 0], np.sqrt(centred.sum(axis=1) / (n - 1))


def _downside(excess: np.ndarray) -> np.ndarray:
    """``sqrt(mean(min(x, 0)²))`` of each row (NaN with fewer than 2 values, as sortino)."""
    if excess.shape[1] < 2:
        return np.full(len(excess), math.nan)
    shortfall = np.minimum(excess, 0.0)
    np.multiply(shortfall, shortfall, out=shortfall)
    return np.sqrt(shortfall.sum(axis=1) / excess.shape[1])


def _ratio(mean: np.ndarray, deviation: np.ndarray, scale: np.ndarray, ppy: float):
    """The annualised ratio ``mean / deviation × sqrt(ppy)`` of each row.

    NaN where the deviation is rounding noise of ``1 + r`` (``core.analytics``' rule) or undefined.
    """
    noise = deviation <= _NOISE_EPS * (1.0 + scale)
    ratio = mean / deviation * math.sqrt(ppy)
    return np.where(np.isnan(deviation) | noise, math.nan, ratio)


def _tails(returns: np.ndarray, low: np.ndarray) -> dict[str, np.ndarray]:
    """Historical VaR and CVaR at 95 % and 99 % of each row, as ``core.analytics`` computes them.

    VaR is numpy's linear quantile (its index and interpolation formulas), CVaR the mean of the
    returns ≤ VaR, clipped to [min, VaR].

    Only the smallest returns matter: one partition brings them to the front of each
    row, where they are sorted; a row whose VaR ties the largest of them (a run of equal
    returns, such as the zeros of a flat position) is measured on all its returns.
    """
    n = returns.shape[1]
    levels = [(level, _quantile_index(n, 1.0 - level)) for level in _LEVELS]
    top = min(max(nxt for _, (_, nxt, _) in levels), n - 1)
    head = np.sort(np.partition(returns, top, axis=1)[:, : top + 1], axis=1)
    out = {}
    for level, (prev, nxt, gamma) in levels:
        a, b = head[:, prev], head[:, nxt]
        diff = b - a
        var = b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma
        inside = head <= var[:, None]
        count = inside.sum(axis=1)
        total = np.where(inside, head, 0.0).sum(axis=1)
        ties = np.flatnonzero(var >= head[:, -1])
        if len(ties):
            every = returns[ties] <= var[ties, None]
            count[ties] = every.sum(axis=1)
            total[ties] = np.where(every, returns[ties], 0.0).sum(axis=1)
        name = round(level * 100)
        out[f"var_{name}"] = var
        out[f"cvar_{name}"] = np.clip(total / count, low, var)
    return out


def _quantile_index(n: int, q: float) -> tuple[int, int, float]:
    """Numpy's ``linear`` quantile ``q`` of ``n`` sorted values, as two indices and a weight.

    The two order statistics (0-based) it interpolates between and the weight ``gamma`` of the
    second.
    """
    virtual = (n - 1) * np.float64(q)
    prev = float(np.floor(virtual))
    gamma = float(virtual - prev)
    if virtual >= n - 1:
        return n - 1, n - 1, gamma
    return int(prev), int(prev) + 1, gamma


def _trade_metrics(trade_pnls: list[np.ndarray]) -> dict[str, np.ndarray]:
    counts = np.array([len(p) for p in trade_pnls], dtype=np.int64)
    flat = np.concatenate([np.asarray(p, float) for p in trade_pnls]) if len(counts) else []
    row = np.repeat(np.arange(len(counts)), counts)
    size = len(counts)
    wins = np.bincount(row, weights=flat > 0, minlength=size)
    profit = np.bincount(row, weights=np.where(flat > 0, flat, 0.0), minlength=size)
    loss = -np.bincount(row, weights=np.where(flat < 0, flat, 0.0), minlength=size)
    total = np.bincount(row, weights=flat, minlength=size)
    none = counts == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(loss == 0, np.where(profit > 0, math.inf, math.nan), profit / loss)
        return {
            "win_rate": np.where(none, math.nan, wins / counts),
            "profit_factor": factor,
            "average_trade": np.where(none, math.nan, total / counts),
            "n_trades": counts,
        }


def _exposure(position: np.ndarray) -> np.ndarray:
    if position.shape[1] == 0:
        return np.full(len(position), math.nan)
    return np.count_nonzero(position, axis=1) / position.shape[1]


def _turnover(notional, n_fills, values, ppy) -> np.ndarray:
    years = (values.shape[1] - 1) / ppy
    turnover = np.abs(notional) / values.mean(axis=1) / years
    return np.where(np.asarray(n_fills) > 0, turnover, math.nan)
