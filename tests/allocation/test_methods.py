"""Each method on cases worked by hand, caps, group caps, risk parity, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from core.allocation import (
    METHODS,
    AllocationError,
    AllocationSpec,
    GroupCap,
    Moments,
    allocate,
    correlation_distance,
    estimate,
    hrp_weights,
    risk_contributions,
    solve,
)
from core.allocation._risk_based import inverse_volatility
from tests.allocation.conftest import synthetic_prices

# σ_A = 0.2, σ_B = 0.3, ρ = 0.1
COV_2 = np.array([[0.04, 0.006], [0.006, 0.09]])


def moments_of(cov: np.ndarray, mu: np.ndarray | None = None) -> Moments:
    n = len(cov)
    index = pd.bdate_range("2024-01-01", periods=3)
    returns = np.array([[0.01] * n, [-0.01] * n, [0.0] * n])
    mu = np.zeros(n) if mu is None else mu
    return Moments(tuple("ABCDEFGH"[:n]), index, returns, mu, cov)


def test_equal_weight_is_one_over_n():
    result = allocate(synthetic_prices(4, 300), AllocationSpec(method="equal"))
    assert result.weights == {"S00": 0.25, "S01": 0.25, "S02": 0.25, "S03": 0.25}


def test_inverse_volatility_weights_are_proportional_to_one_over_sigma():
    prices = synthetic_prices(5, 500)
    sigma = prices.pct_change().iloc[1:].std()  # independent of core: pandas, ddof=1
    expected = (1 / sigma) / (1 / sigma).sum()
    weights = allocate(prices, AllocationSpec(method="inverse_vol")).weights
    assert_allclose(pd.Series(weights)[expected.index], expected, rtol=1e-12)


def test_inverse_volatility_hands_the_excess_over_a_cap_to_the_others():
    # 1/σ = 10, 5, 2.5 → 4/7, 2/7, 1/7; capped at 0.5 the other half splits 2:1
    weights = inverse_volatility(np.diag([0.01, 0.04, 0.16]), np.full(3, 0.5))
    assert_allclose(weights, [0.5, 1 / 3, 1 / 6])


def test_two_asset_min_variance_closed_form():
    # w_A = (σ_B² − σ_AB) / (σ_A² + σ_B² − 2σ_AB) = 0.084 / 0.118
    weights = solve(moments_of(COV_2), AllocationSpec(method="min_variance"))
    assert_allclose(weights, [0.084 / 0.118, 0.034 / 0.118], atol=1e-8)


def test_two_asset_min_variance_on_prices_matches_the_closed_form():
    prices = synthetic_prices(2, 800, seed=3)
    cov = prices.pct_change().iloc[1:].cov().to_numpy()
    w_a = (cov[1, 1] - cov[0, 1]) / (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    weights = allocate(prices, AllocationSpec(method="min_variance")).weights
    assert weights["S00"] == pytest.approx(w_a, abs=1e-7)


def test_two_asset_max_sharpe_is_the_tangency_portfolio():
    # Σ⁻¹μ ∝ (0.09·0.1 − 0.006·0.15, 0.04·0.15 − 0.006·0.1) = (0.0081, 0.0054) → (0.6, 0.4)
    moments = moments_of(COV_2, np.array([0.10, 0.15]))
    assert_allclose(solve(moments, AllocationSpec(method="max_sharpe")), [0.6, 0.4], atol=1e-7)


def test_mean_variance_utility_two_assets_interior_optimum():
    # max μᵀw − δ/2 wᵀΣw, Σw = 1, δ = 2: stationarity 2Σw + γ1 = μ. Subtracting the two rows
    # with w_B = 1 − w_A: (0.08 − 2·0.012 + 0.18) w_A + 0.012 − 0.18 = 0.10 − 0.15 → w_A = 0.5
    moments = moments_of(COV_2, np.array([0.10, 0.15]))
    w = solve(moments, AllocationSpec(method="mean_variance", risk_aversion=2.0))
    assert_allclose(w, [0.5, 0.5], atol=1e-8)


def test_two_asset_risk_parity_is_inverse_volatility():
    # with two assets equal contributions need w_A σ_A = w_B σ_B whatever ρ: (0.3, 0.2)/0.5
    weights = solve(moments_of(COV_2), AllocationSpec(method="risk_parity"))
    assert_allclose(weights, [0.6, 0.4], atol=1e-10)


def test_risk_parity_contributions_are_equal_on_twenty_stocks(stock_moments):
    weights = solve(stock_moments, AllocationSpec(method="risk_parity"))
    contributions = risk_contributions(weights, stock_moments.cov)
    assert_allclose(contributions / contributions.sum(), np.full(20, 1 / 20), rtol=1e-8)
    assert weights.sum() == pytest.approx(1.0)


def test_hrp_three_assets_by_hand():
    # A, B correlated (ρ = 0.8), C independent: single linkage joins A and B, leaves (C | A, B).
    cov = np.array([[0.04, 0.048, 0.0], [0.048, 0.09, 0.0], [0.0, 0.0, 0.0625]])
    # inverse-variance A, B: (9, 4)/13; its variance (81·0.04 + 16·0.09 + 72·0.048)/169
    v_ab = 8.136 / 169
    w_c = 1 - 0.0625 / (0.0625 + v_ab)
    w_a = (1 - w_c) * (1 - 0.04 / 0.13)
    assert_allclose(hrp_weights(cov), [w_a, 1 - w_c - w_a, w_c], rtol=1e-12)
    assert_allclose(hrp_weights(cov), [0.391074, 0.173811, 0.435115], atol=1e-6)


def test_correlation_distance():
    cov = np.array([[0.04, 0.048, 0.0], [0.048, 0.09, 0.0], [0.0, 0.0, 0.0625]])
    distance = correlation_distance(cov)
    assert distance[0, 1] == pytest.approx(np.sqrt(0.1))
    assert distance[0, 2] == pytest.approx(np.sqrt(0.5))
    assert distance[2, 2] == 0


@pytest.mark.parametrize(
    "method", ["inverse_vol", "min_variance", "mean_variance", "max_sharpe", "min_cvar", "hrp"]
)
def test_caps_are_respected(stock_moments, method):
    uncapped = solve(stock_moments, AllocationSpec(method=method))
    assert uncapped.max() > 0.06  # the cap below binds
    weights = solve(stock_moments, AllocationSpec(method=method, max_weight=0.06))
    assert weights.max() <= 0.06 + 1e-9
    assert weights.min() >= 0
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_group_cap_binds_and_is_respected(stock_moments):
    staples = GroupCap(name="staples", symbols=("KO", "PEP", "PG", "WMT"), cap=0.2)
    index = [stock_moments.symbols.index(s) for s in staples.symbols]
    free = solve(stock_moments, AllocationSpec(method="min_variance"))
    assert free[index].sum() > 0.3
    capped = solve(stock_moments, AllocationSpec(method="min_variance", group_caps=(staples,)))
    assert capped[index].sum() == pytest.approx(0.2, abs=1e-8)


def test_methods_without_group_caps_say_so(stock_moments):
    staples = GroupCap(name="staples", symbols=("KO", "PEP", "PG", "WMT"), cap=0.1)
    with pytest.raises(AllocationError, match=r"equal puts 0\.2000 in group 'staples'"):
        solve(stock_moments, AllocationSpec(method="equal", group_caps=(staples,)))


def test_risk_parity_refuses_a_cap_it_cannot_honour(stock_moments):
    with pytest.raises(AllocationError, match=r"risk_parity gives \w+ a weight of .* above"):
        solve(stock_moments, AllocationSpec(method="risk_parity", max_weight=0.06))


@pytest.mark.parametrize("method", METHODS)
def test_infeasible_cap_names_the_arithmetic(stock_moments, method):
    with pytest.raises(AllocationError, match=r"max weight 0.04 × 20 assets = 0.8 < 1") as err:
        solve(stock_moments, AllocationSpec(method=method, max_weight=0.04))
    assert err.value.field == "max_weight"


@pytest.mark.parametrize("method", ["min_variance", "max_sharpe", "min_cvar", "mean_variance"])
def test_infeasible_group_caps_are_reported(stock_moments, method):
    everything = GroupCap(name="all", symbols=stock_moments.symbols, cap=0.9)
    with pytest.raises(AllocationError, match=rf"{method} found no .* group caps all ≤ 0.9"):
        solve(stock_moments, AllocationSpec(method=method, group_caps=(everything,)))


def test_group_with_a_symbol_not_allocated(stock_moments):
    group = GroupCap(name="tech", symbols=("AAPL", "NVDA"), cap=0.5)
    with pytest.raises(AllocationError, match="group 'tech' names NVDA, not among"):
        solve(stock_moments, AllocationSpec(method="min_variance", group_caps=(group,)))


def test_too_few_prices():
    with pytest.raises(AllocationError, match=r"2 common prices of S00, S01; .* at least 3"):
        estimate(synthetic_prices(2, 1))


def test_target_return_above_the_feasible_maximum(stock_moments):
    highest = stock_moments.mu.max()
    with pytest.raises(AllocationError, match=f"above {highest:.4f}, the highest expected"):
        solve(stock_moments, AllocationSpec(method="mean_variance", target_return=highest + 0.1))


def test_max_sharpe_needs_an_asset_above_the_risk_free_rate(stock_moments):
    spec = AllocationSpec(method="max_sharpe", risk_free_rate=stock_moments.mu.max() + 0.01)
    with pytest.raises(AllocationError, match="exceeds the risk-free rate"):
        solve(stock_moments, spec)


def test_mean_variance_parameters_belong_to_mean_variance():
    with pytest.raises(ValueError, match="target_return applies to mean_variance only"):
        AllocationSpec(method="max_sharpe", target_return=0.1)
    with pytest.raises(ValueError, match="not both"):
        AllocationSpec(method="mean_variance", target_return=0.1, risk_aversion=2)
