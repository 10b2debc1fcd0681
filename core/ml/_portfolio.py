"""The top-N portfolio of the out-of-sample scores and its benchmarks, with costs.

Decision at the close of a rebalance date t (every ``every`` test dates); the trade is done at
the close of t + 1, the first price a decision at t can meet (the label's convention), and
costs ``cost_bps`` per unit of turnover (|w_new − w_drifted| summed) on that day's equity.
Between rebalances the weights drift with the prices. The equal-weight benchmark holds every
symbol with a price, rebalanced on the same dates at the same cost; the index benchmark buys
once (one unit of turnover) and holds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.analytics import compute_metrics
from core.optimize import deflated_sharpe_ratio, probabilistic_sharpe_ratio


def top_weights(scores: np.ndarray, top: int, weighting: str = "equal") -> np.ndarray:
    """Target weights of one date's scores (shape (n_symbols,)): the ``top`` highest."""
    w = np.zeros(len(scores))
    ok = np.flatnonzero(np.isfinite(scores))
    if not len(ok):
        return w
    chosen = ok[np.argsort(-scores[ok], kind="stable")[: min(top, len(ok))]]
    if weighting == "score":
        s = scores[chosen] - scores[ok].min()
        w[chosen] = s / s.sum() if s.sum() > 0 else 1 / len(chosen)
    else:
        w[chosen] = 1 / len(chosen)
    return w


def simulate(
    close: np.ndarray,
    targets: dict[int, np.ndarray],
    start: int,
    end: int,
    cost_bps: float,
) -> tuple[np.ndarray, float]:
    """Equity (from 1.0 at ``start``) over dates ``start … end − 1`` and the total turnover.

    ``targets`` maps a decision date t to weights traded at the close of t + 1.
    """
    n = end - start
    equity = np.ones(n)
    w = np.zeros(close.shape[1])
    value, turnover = 1.0, 0.0
    cost = cost_bps / 1e4
    for i in range(1, n):
        t = start + i
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.nan_to_num(close[t] / close[t - 1] - 1, nan=0.0, posinf=0.0, neginf=0.0)
        grown = w * (1 + r)
        value *= 1 + grown.sum() - w.sum()
        w = grown / (1 + (grown.sum() - w.sum())) if value > 0 else grown
        wanted = targets.get(t - 1)
        if wanted is not None:
            wanted = np.where(np.isfinite(close[t]), wanted, 0.0)
            traded = float(np.abs(wanted - w).sum())
            turnover += traded
            value *= 1 - cost * traded
            w = wanted.copy()
        equity[i] = value
    return equity, turnover


def portfolio_report(
    close: np.ndarray,
    scores: np.ndarray,
    dates: pd.DatetimeIndex,
    *,
    top: int,
    every: int,
    weighting: str,
    cost_bps: float,
    index_close: pd.Series | None = None,
    n_trials: int = 1,
) -> dict:
    """Metrics and equity curves of top-N, equal weight and the index over the tested dates."""
    tested = np.flatnonzero(np.isfinite(scores).any(axis=1))
    if len(tested) < 3:
        return {"top_n": {}, "benchmark": {}, "index": {}, "curves": {}}
    start, end = int(tested[0]), int(tested[-1]) + 1
    decisions = range(start, end - 1, every)
    top_targets = {t: top_weights(scores[t], top, weighting) for t in decisions}
    equal = {t: _equal(close[t]) for t in decisions}
    top_eq, top_turn = simulate(close, top_targets, start, end, cost_bps)
    eq_eq, eq_turn = simulate(close, equal, start, end, cost_bps)
    report = {
        "top_n": _metrics(top_eq, top_turn, n_trials),
        "benchmark": _metrics(eq_eq, eq_turn, 1),
        "curves": {"dates": [d.date().isoformat() for d in dates[start:end]]},
    }
    report["curves"].update(top_n=top_eq.tolist(), equal_weight=eq_eq.tolist())
    report["index"] = {}
    if index_close is not None:
        idx = index_close.reindex(dates[start:end]).ffill().to_numpy(float)
        if np.isfinite(idx).sum() > 2:
            held = idx / idx[np.isfinite(idx)][0] * (1 - cost_bps / 1e4)
            held = np.where(np.isfinite(held), held, 1.0)
            held[0] = 1.0
            report["index"] = _metrics(held, 1.0, 1)
            report["curves"]["index"] = held.tolist()
    report["top_n"]["excess_total_return_vs_equal_weight"] = (
        report["top_n"]["total_return"] - report["benchmark"]["total_return"]
    )
    return report


def _equal(prices: np.ndarray) -> np.ndarray:
    ok = np.isfinite(prices)
    return np.where(ok, 1 / max(ok.sum(), 1), 0.0)


def _metrics(equity: np.ndarray, turnover: float, n_trials: int) -> dict:
    keys = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")
    full = compute_metrics(equity, periods_per_year=252)
    out = {k: float(full[k]) for k in keys if k in full}
    out["turnover"] = float(turnover)
    r = np.diff(equity) / equity[:-1]
    r = r[np.isfinite(r)]
    if len(r) > 3 and r.std(ddof=1) > 0:
        sr = float(r.mean() / r.std(ddof=1))
        from scipy import stats

        skew, kurt = float(stats.skew(r)), float(stats.kurtosis(r, fisher=False))
        out["psr"] = probabilistic_sharpe_ratio(sr, len(r), skew=skew, kurtosis=kurt)
        # trials' Sharpe variance: the sampling variance of a Sharpe estimate under the null
        out["deflated_sharpe"] = (
            out["psr"]
            if n_trials <= 1
            else deflated_sharpe_ratio(
                sr, len(r), n_trials, 1 / (len(r) - 1), skew=skew, kurtosis=kurt
            )
        )
    out["n_trials"] = int(n_trials)
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()
    }
