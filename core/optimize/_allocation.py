"""Multi-strategy, multi-asset allocation.

Tune each strategy on each asset, then weight the strategies × assets matrix.

Step 1 (:func:`optimize_allocation`): for every strategy ``s`` and asset ``a``, the
strategy's parameters are searched on the first ``train_fraction`` of the bars
(:func:`~core.optimize.run_optimization` on that window) and the winner is run on the
remaining bars: its out-of-sample daily returns are the stream ``r_sa``.

Step 2 (:func:`allocation_weights`): with ``μ`` and ``Σ`` the annualised mean and
covariance of the streams, the weights maximise

    ``U(w) = μ·w − (λ/2) wᵀΣw − δ Σ w²``   subject to ``w ≥ 0``, ``Σ w = 1``,

return against risk (risk aversion ``λ``) with a diversification term: ``−Σw²`` is largest
for equal weights (``1 − Σw²`` is the Gini–Simpson diversity, ``1/Σw²`` the effective number
of streams). ``U`` is strictly concave when ``δ > 0`` or ``Σ`` is positive definite, so the
optimum is unique; it is found by SLSQP on the simplex.

Worked case: two uncorrelated streams with equal means give ``w₁/w₂ = (λσ₂² + 2δ) /
(λσ₁² + 2δ)``; with equal volatilities, equal weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize

from core.analytics import periods_per_year_for
from core.backtest import BacktestConfig, BacktestService
from core.errors import InvalidInputError
from core.optimize._backtest import BacktestEvaluator
from core.optimize._executor import Executor, make_executor
from core.optimize._methods import base_signals, search_by_method
from core.optimize._objective import Objective
from core.optimize._space import SearchSpace
from core.optimize._trials import SearchProgress
from core.strategies import get_strategy


@dataclass(frozen=True)
class Allocation:
    """Weights over return streams and the portfolio they make.

    Attributes
    ----------
    weights : Series of shape (n_streams,)
        ``≥ 0``, summing to 1, indexed like the columns of the returns.
    expected_return, volatility : float
        Annualised mean return ``μ·w`` and volatility ``√(wᵀΣw)`` of the weighted streams.
    sharpe : float
        ``expected_return / volatility`` (risk-free rate 0).
    utility : float
        ``U(w)`` at the optimum.
    """

    weights: pd.Series
    expected_return: float
    volatility: float
    sharpe: float
    utility: float


def allocation_weights(
    returns: pd.DataFrame,
    *,
    risk_aversion: float = 1.0,
    diversification: float = 0.1,
    periods_per_year: float | None = None,
) -> Allocation:
    """The weights maximising ``μ·w − (λ/2) wᵀΣw − δ Σw²`` on the simplex.

    Parameters
    ----------
    returns : DataFrame of shape (n_observations, n_streams)
        Simple returns per period, one column per stream; rows with a gap are dropped.
    risk_aversion : float, default 1
        ``λ ≥ 0``.
    diversification : float, default 0.1
        ``δ ≥ 0``, in annual-return units.
    periods_per_year : float, optional
        To annualise ``μ`` and ``Σ`` (default: from a date index, else 252).

    Returns
    -------
    Allocation
    """
    if risk_aversion < 0 or diversification < 0:
        raise InvalidInputError("risk_aversion and diversification must be ≥ 0")
    frame = returns.dropna()
    if frame.shape[1] < 1 or len(frame) < 2:
        raise InvalidInputError("need at least one stream and two observations")
    ppy = periods_per_year or _periods(frame.index)
    mu = frame.mean().to_numpy() * ppy
    sigma = np.atleast_2d(frame.cov().to_numpy()) * ppy
    lam, delta = float(risk_aversion), float(diversification)

    def negative_utility(w):
        return -(mu @ w - lam / 2 * w @ sigma @ w - delta * w @ w)

    def gradient(w):
        return -(mu - lam * sigma @ w - 2 * delta * w)

    n = len(mu)
    solution = scipy.optimize.minimize(
        negative_utility,
        np.full(n, 1.0 / n),
        jac=gradient,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(n)}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    w = np.clip(solution.x, 0.0, None)
    w = w / w.sum()
    expected, volatility = float(mu @ w), float(np.sqrt(max(w @ sigma @ w, 0.0)))
    return Allocation(
        weights=pd.Series(w, index=frame.columns, name="weight"),
        expected_return=expected,
        volatility=volatility,
        sharpe=expected / volatility if volatility > 0 else float("nan"),
        utility=float(-negative_utility(w)),
    )


def optimize_allocation(
    service: BacktestService,
    base: BacktestConfig,
    strategies: Sequence[str],
    symbols: Sequence[str],
    *,
    method: str = "random",
    objective: Objective | None = None,
    trials: int = 50,
    seed: int = 0,
    train_fraction: float = 0.7,
    risk_aversion: float = 1.0,
    diversification: float = 0.1,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress=None,
    should_stop=None,
) -> dict[str, Any]:
    """Tune every strategy on every symbol in sample, then allocate out of sample.

    The allocation is over their out-of-sample return streams (see the module docstring).

    ``base`` gives the dates, cash and execution; its strategy and symbols are replaced.
    ``progress(SearchProgress)`` follows the pairs tuned; ``should_stop()`` is checked
    before each pair (a stopped run allocates over the pairs done, ``stopped`` is True).

    Returns
    -------
    dict
        ``weights`` ``{strategy: {symbol: weight}}``, ``expected_return``, ``volatility``,
        ``sharpe``, ``utility``, ``streams`` (per pair: ``params``, in-sample ``score``,
        out-of-sample annualised ``mean`` and ``volatility``), ``correlation`` (of the
        streams, ``"strategy/symbol"`` labels), ``start``/``end`` of the out-of-sample span.
    """
    if not 0 < train_fraction < 1:
        raise InvalidInputError("train_fraction must be between 0 and 1")
    if not strategies or not symbols:
        raise InvalidInputError("give at least one strategy and one symbol")
    objective = objective or Objective(metric="sharpe")
    pool = executor or make_executor(workers, scheduler)
    streams, rows = {}, {}
    pairs = [(strategy, symbol) for strategy in strategies for symbol in symbols]
    stopped = False
    try:
        for strategy, symbol in pairs:
            if should_stop is not None and should_stop():
                stopped = True
                break
            config = base.model_copy(
                update={"strategy": strategy, "symbols": (symbol,), "params": {}}
            )
            found, equity = _tune(
                service, config, method, objective, trials, seed, train_fraction, pool
            )
            streams[(strategy, symbol)] = equity
            rows[(strategy, symbol)] = found
            if progress is not None:
                progress(SearchProgress(len(streams), len(pairs), math.nan, None))
    finally:
        if executor is None:
            pool.close()
    if not streams:
        return {"weights": {}, "stopped": True, "streams": []}
    returns = _aligned_returns(streams)
    allocation = allocation_weights(
        returns, risk_aversion=risk_aversion, diversification=diversification
    )
    ppy = _periods(returns.index)
    weights: dict[str, dict[str, float]] = {s: {} for s, _ in streams}
    for (strategy, symbol), w in allocation.weights.items():
        weights[strategy][symbol] = float(w)
        rows[(strategy, symbol)].update(
            mean=float(returns[(strategy, symbol)].mean() * ppy),
            volatility=float(returns[(strategy, symbol)].std(ddof=1) * np.sqrt(ppy)),
        )
    labels = [f"{s}/{a}" for s, a in returns.columns]
    correlation = returns.corr().set_axis(labels, axis=0).set_axis(labels, axis=1)
    return {
        "weights": weights,
        "expected_return": allocation.expected_return,
        "volatility": allocation.volatility,
        "sharpe": allocation.sharpe,
        "utility": allocation.utility,
        "risk_aversion": risk_aversion,
        "diversification": diversification,
        "train_fraction": train_fraction,
        "stopped": stopped,
        "streams": [{"strategy": s, "symbol": a, **row} for (s, a), row in rows.items()],
        "correlation": correlation.round(6).to_dict(),
        "start": returns.index[0].isoformat() if len(returns) else None,
        "end": returns.index[-1].isoformat() if len(returns) else None,
    }


def _tune(service, config, method, objective, trials, seed, train_fraction, pool):
    """Best params of ``config``'s strategy on the first bars, and their equity after."""
    cls = get_strategy(config.strategy)
    if cls.multi_asset:
        raise InvalidInputError(
            f"{config.strategy} trades several assets at once; pick one-asset ones"
        )
    space = SearchSpace.from_params(cls.Params)
    vectorized = cls.signals is not base_signals()
    evaluator = BacktestEvaluator.from_service(service, config, vectorized=vectorized)
    split = int(evaluator.market.n_bars * train_fraction)
    if split < 2 or evaluator.market.n_bars - split < 2:
        raise InvalidInputError(f"{config.symbols[0]}: too few bars to split at {train_fraction}")
    common = {"objective": objective}
    found = search_by_method(
        method, space, evaluator.on(slice(0, split)), trials, seed, None, config, common, pool
    )
    params = found.best_params or {}  # nothing feasible: the model's defaults
    _, equity = evaluator.on(slice(split, None)).run(params)
    return {"params": params, "score": float(found.best_score)}, equity


def _aligned_returns(streams: dict[tuple[str, str], pd.Series]) -> pd.DataFrame:
    """Daily returns of every equity curve on the dates they all cover.

    A curve is held flat over dates it lacks, e.g. a stock over a weekend a crypto asset trades.
    """
    frame = pd.concat(streams, axis=1).sort_index().ffill()
    frame = frame.loc[frame.notna().all(axis=1)]
    return frame.pct_change().iloc[1:]


def _periods(index) -> float:
    if isinstance(index, pd.DatetimeIndex) and len(index) > 2:
        return float(periods_per_year_for(index))
    return 252.0
