"""From prices and a spec to weights and their measures; the efficient frontier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.allocation import _convex, _hrp, _risk_based
from core.allocation._constraints import Bounds, bounds_for
from core.allocation._measures import (
    historical_cvar,
    portfolio_volatility,
    risk_contributions,
    sharpe_ratio,
)
from core.allocation._moments import covariance, expected_returns, returns_from_prices
from core.allocation._spec import AllocationError, AllocationResult, AllocationSpec, FrontierPoint

MIN_PRICES = 3


@dataclass(frozen=True)
class Moments:
    """The estimation window: daily return scenarios and their annualised moments.

    ``returns`` has shape (n_returns, n_assets); ``mu`` (n_assets,); ``cov`` (n_assets, n_assets).
    """

    symbols: tuple[str, ...]
    index: pd.DatetimeIndex
    returns: np.ndarray
    mu: np.ndarray
    cov: np.ndarray


def estimate(prices: pd.DataFrame, shrinkage: str | None = None) -> Moments:
    """Returns (from the second price on) and annualised moments of ``prices``.

    Parameters
    ----------
    prices : DataFrame of shape (n_prices, n_assets)
        Closes on common dates, one column per symbol, no missing values.
    """
    if prices.shape[1] == 0:
        raise AllocationError("choose at least one symbol", "symbols")
    if prices.isna().to_numpy().any():
        missing = [str(c) for c in prices.columns[prices.isna().any()]]
        raise AllocationError(f"missing prices of {', '.join(missing)}", "symbols")
    if len(prices) < MIN_PRICES:
        raise AllocationError(
            f"{len(prices)} common prices of {', '.join(map(str, prices.columns))}; "
            f"allocation needs at least {MIN_PRICES} (two returns)",
            "start",
        )
    if (prices.to_numpy() <= 0).any():
        raise AllocationError("prices must be positive", "symbols")
    returns = returns_from_prices(prices)
    values = returns.to_numpy()
    return Moments(
        symbols=tuple(str(c) for c in prices.columns),
        index=pd.DatetimeIndex(returns.index),
        returns=values,
        mu=expected_returns(values),
        cov=covariance(values, shrinkage),  # type: ignore[arg-type]
    )


def allocate(prices: pd.DataFrame, spec: AllocationSpec) -> AllocationResult:
    """Weights of ``spec.method`` on ``prices`` and their measures on the same window."""
    moments = estimate(prices, spec.shrinkage)
    return evaluate(solve(moments, spec), moments, spec)


def solve(moments: Moments, spec: AllocationSpec) -> np.ndarray:
    """The weight vector of ``spec.method``, shape (n_assets,), summing to one."""
    bounds = bounds_for(moments.symbols, spec)
    method = spec.method
    if method in ("min_variance", "mean_variance", "max_sharpe", "min_cvar"):
        return _optimise(moments, spec, bounds)
    if method == "equal":
        weights = _risk_based.equal_weights(bounds.n_assets)
    elif method == "inverse_vol":
        weights = _risk_based.inverse_volatility(moments.cov, bounds.upper)
    elif method == "risk_parity":
        weights = _risk_based.equal_risk_contributions(moments.cov)
    else:
        weights = _hrp.hrp_weights(moments.cov, bounds.upper)
    bounds.check(weights, method)
    return weights


def _optimise(moments: Moments, spec: AllocationSpec, bounds: Bounds) -> np.ndarray:
    mu, cov = moments.mu, moments.cov
    if spec.method == "min_variance":
        return _convex.min_variance(cov, bounds)
    if spec.method == "max_sharpe":
        return _convex.max_sharpe(mu, cov, bounds, spec.risk_free_rate)
    if spec.method == "min_cvar":
        return _convex.min_cvar(moments.returns, bounds, spec.cvar_beta)
    if spec.target_return is not None:
        return _convex.efficient_return(mu, cov, bounds, spec.target_return)
    return _convex.mean_variance_utility(mu, cov, bounds, spec.risk_aversion or 1.0)


def evaluate(weights: np.ndarray, moments: Moments, spec: AllocationSpec) -> AllocationResult:
    """Annual expected return and volatility, Sharpe, daily CVaR 95 % and risk contributions."""
    expected = float(moments.mu @ weights)
    volatility = portfolio_volatility(weights, moments.cov)
    contributions = risk_contributions(weights, moments.cov)
    return AllocationResult(
        method=spec.method,
        weights=_by_symbol(moments.symbols, weights),
        expected_return=expected,
        volatility=volatility,
        sharpe=sharpe_ratio(expected, volatility, spec.risk_free_rate),
        cvar_95=historical_cvar(moments.returns @ weights, 0.95),
        risk_contributions=_by_symbol(moments.symbols, contributions),
        risk_free_rate=spec.risk_free_rate,
        start=moments.index[0].date(),
        end=moments.index[-1].date(),
        n_returns=len(moments.index),
    )


def efficient_frontier(
    moments: Moments, spec: AllocationSpec, n_points: int = 25
) -> list[FrontierPoint]:
    """Mean-variance efficient portfolios under ``spec``'s caps.

    From the minimum-variance portfolio's expected return to the highest one the caps allow,
    evenly spaced in return.
    """
    bounds = bounds_for(moments.symbols, spec)
    low = float(moments.mu @ _convex.min_variance(moments.cov, bounds))
    high = float(moments.mu @ _convex.max_return(moments.mu, bounds))
    points = []
    for target in np.linspace(low, max(low, high), n_points):
        weights = _convex.efficient_return(moments.mu, moments.cov, bounds, float(target))
        expected = float(moments.mu @ weights)
        volatility = portfolio_volatility(weights, moments.cov)
        points.append(
            FrontierPoint(
                expected_return=expected,
                volatility=volatility,
                sharpe=sharpe_ratio(expected, volatility, spec.risk_free_rate),
                weights=_by_symbol(moments.symbols, weights),
            )
        )
    return points


def _by_symbol(symbols: tuple[str, ...], values: np.ndarray) -> dict[str, float]:
    return {s: float(v) for s, v in zip(symbols, values, strict=True)}
