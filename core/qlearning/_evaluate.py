"""Out-of-sample comparison: the learned weights against each strategy alone and equal weights.

Every contender runs through the backtest engine on the whole series with the same costs
(the sleeves alone, ``q_weights`` with the trained model, ``q_weights`` at equal weights);
metrics are measured on a span only (equity rebased at the close before it): total return,
CAGR, volatility, Sharpe, max drawdown and annualised turnover of the fills inside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.analytics import compute_metrics
from core.backtest import BacktestEngine, MarketFrame
from core.qlearning._agent import QModel
from core.strategies import build_strategy

KEYS = ("total_return", "cagr", "volatility", "sharpe", "max_drawdown", "turnover")
CURVE_POINTS = 250


def span_metrics(
    equity: np.ndarray, fills: list[tuple[int, float]], start: int, end: int, ppy: float
) -> dict[str, float]:
    """Metrics of bars ``start..end-1``, equity rebased at bar ``start - 1``.

    Parameters
    ----------
    equity : ndarray of shape (n_bars,)
    fills : list of (bar, |notional|)
    start, end : int
        The span's first bar and one past its last (``start ≥ 1``).
    ppy : float
        Bars per year.

    Returns
    -------
    dict
        :data:`KEYS` → float (None where undefined).
    """
    values = equity[start - 1 : end]
    if not (values > 0).all():  # ruined: only the loss is defined
        return dict.fromkeys(KEYS) | {"total_return": float(values[-1] / values[0] - 1)}
    notional = [v for bar, v in fills if start <= bar < end] or [0.0]
    metrics = compute_metrics(values, traded_notional=notional, periods_per_year=ppy)
    return {k: _json(metrics[k]) for k in KEYS}


def contenders(model: QModel, market: MarketFrame, instruments, *, cash: float, execution):
    """Each contender's (equity, fills) of ``q_weights`` and ``equal_weight`` over all bars."""
    out = {}
    for name, equal in (("q_weights", False), ("equal_weight", True)):
        strategy = build_strategy("q_weights").use_model(model, equal=equal)
        raw = BacktestEngine(strategy, market, instruments, cash=cash, execution=execution).run()
        fills = [(x.bar, abs(x.quantity * x.price)) for x in raw.broker.executions]
        out[name] = (raw.equity, fills)
    return out


def curves(runs: dict[str, tuple[np.ndarray, Any]], index, start: int) -> dict[str, Any]:
    """Test-span equity of each contender rebased to 1, thinned to ≤ CURVE_POINTS points."""
    n = len(index) - start + 1
    picks = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int)) + start - 1
    return {
        "ts": [index[i].isoformat() for i in picks],
        **{k: (eq[picks] / eq[start - 1]).round(6).tolist() for k, (eq, _) in runs.items()},
    }


def _json(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
