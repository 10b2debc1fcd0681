"""Strategies × assets allocation: hand-worked optima of the utility, and the whole
tune-then-allocate run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig
from core.optimize import BacktestEvaluator, allocation_weights, optimize_allocation

PPY = 252
UP_DOWN = np.array([1.0, -1.0, 1.0, -1.0] * 25)  # sample covariance with HOLD is exactly 0
HOLD = np.array([1.0, 1.0, -1.0, -1.0] * 25)


def streams(mean1=0.001, mean2=0.001, vol1=0.01, vol2=0.01) -> pd.DataFrame:
    return pd.DataFrame({"a": mean1 + vol1 * UP_DOWN, "b": mean2 + vol2 * HOLD})


def test_two_uncorrelated_streams_with_equal_vol_and_mean_get_equal_weights():
    result = allocation_weights(streams(), risk_aversion=2.0, periods_per_year=PPY)
    np.testing.assert_allclose(result.weights, [0.5, 0.5], atol=1e-8)
    variance = np.var(0.01 * UP_DOWN, ddof=1) * PPY  # each stream's annual variance
    assert result.expected_return == pytest.approx(0.001 * PPY)
    assert result.volatility == pytest.approx(np.sqrt(0.25 * variance * 2))
    assert result.sharpe == pytest.approx(result.expected_return / result.volatility)


def test_without_diversification_the_weights_are_inverse_variance():
    # σ₁ = 2σ₂, equal means, δ = 0: w₁/w₂ = σ₂²/σ₁² = 1/4
    result = allocation_weights(
        streams(vol1=0.02), risk_aversion=1.0, diversification=0.0, periods_per_year=PPY
    )
    np.testing.assert_allclose(result.weights, [0.2, 0.8], atol=1e-7)


def test_the_diversification_term_pulls_towards_equal_weights():
    # w₁/w₂ = (λσ₂² + 2δ) / (λσ₁² + 2δ), annual variances
    s1, s2 = (np.var(v * UP_DOWN, ddof=1) * PPY for v in (0.02, 0.01))
    lam, delta = 1.0, 0.05
    ratio = (lam * s2 + 2 * delta) / (lam * s1 + 2 * delta)
    result = allocation_weights(
        streams(vol1=0.02), risk_aversion=lam, diversification=delta, periods_per_year=PPY
    )
    np.testing.assert_allclose(result.weights, [ratio / (1 + ratio), 1 / (1 + ratio)], atol=1e-7)
    assert 0.2 < result.weights["a"] < 0.5


def test_without_risk_or_diversification_all_goes_to_the_best_mean():
    result = allocation_weights(
        streams(mean2=0.002), risk_aversion=0.0, diversification=0.0, periods_per_year=PPY
    )
    np.testing.assert_allclose(result.weights, [0.0, 1.0], atol=1e-9)
    assert result.expected_return == pytest.approx(0.002 * PPY)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="≥ 0"):
        allocation_weights(streams(), risk_aversion=-1)
    with pytest.raises(ValueError, match="two observations"):
        allocation_weights(streams().iloc[:1])


def test_tune_then_allocate_over_strategies_and_assets(ws):
    base = BacktestConfig(
        strategy="sma_crossover", symbols=("SPX",), start="2010-01-04", end="2016-12-30"
    )
    options = {"method": "random", "trials": 8, "seed": 1, "workers": 1}
    report = optimize_allocation(
        ws.backtests, base, ["sma_crossover", "donchian"], ["SPX", "XOM"], **options
    )
    weights = report["weights"]
    assert set(weights) == {"sma_crossover", "donchian"}
    assert all(set(row) == {"SPX", "XOM"} for row in weights.values())
    flat = np.array([w for row in weights.values() for w in row.values()])
    assert (flat >= 0).all() and flat.sum() == pytest.approx(1.0)
    assert report["sharpe"] == pytest.approx(report["expected_return"] / report["volatility"])
    assert len(report["streams"]) == 4
    # the reported weights are the optimum over the reported parameters' out-of-sample curves
    curves = {}
    for row in report["streams"]:
        config = base.model_copy(update={"strategy": row["strategy"], "symbols": (row["symbol"],)})
        evaluator = BacktestEvaluator.from_service(ws.backtests, config)
        split = int(evaluator.market.n_bars * 0.7)
        curves[(row["strategy"], row["symbol"])] = evaluator.on(slice(split, None)).run(
            row["params"]
        )[1]
    returns = pd.concat(curves, axis=1).pct_change().iloc[1:]
    direct = allocation_weights(returns)
    for (strategy, symbol), w in direct.weights.items():
        assert weights[strategy][symbol] == pytest.approx(w, abs=1e-9)
    assert report["volatility"] == pytest.approx(direct.volatility)
    with pytest.raises(ValueError, match="several assets"):
        optimize_allocation(ws.backtests, base, ["rebalancer"], ["SPX"], **options)
