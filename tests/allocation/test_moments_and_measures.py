"""Conventions of the estimates and the measures, on hand-worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.covariance import ledoit_wolf as sklearn_ledoit_wolf

from core.allocation import (
    covariance,
    expected_returns,
    historical_cvar,
    ledoit_wolf,
    returns_from_prices,
    risk_contributions,
)

PRICES = pd.DataFrame(
    {"A": [100.0, 110.0, 99.0, 108.9], "B": [50.0, 50.0, 55.0, 44.0]},
    index=pd.bdate_range("2024-01-01", periods=4),
)


def test_returns_start_at_the_second_price():
    returns = returns_from_prices(PRICES)
    assert list(returns.index) == list(PRICES.index[1:])
    assert_allclose(returns["A"], [0.1, -0.1, 0.1], atol=1e-12)
    assert_allclose(returns["B"], [0.0, 0.1, -0.2], atol=1e-12)


def test_expected_returns_are_mean_daily_return_times_252():
    # means 0.1/3 and -0.1/3 a day
    assert_allclose(expected_returns(returns_from_prices(PRICES).to_numpy()), [8.4, -8.4])


def test_covariance_is_sample_ddof_1_times_252():
    # deviations A: (1, -2, 1)/15, B: (1, 4, -5)/30; sums of products over (3 - 1)
    # var A = 6/225/2 = 1/75, var B = 42/900/2 = 7/300, cov = -12/450/2 = -1/75
    expected = 252 * np.array([[1 / 75, -1 / 75], [-1 / 75, 7 / 300]])
    assert_allclose(covariance(returns_from_prices(PRICES).to_numpy()), expected, rtol=1e-12)
    assert_allclose(expected, [[3.36, -3.36], [-3.36, 5.88]])


def test_ledoit_wolf_matches_scikit_learn(stock_returns):
    values = stock_returns.to_numpy()
    reference, intensity = sklearn_ledoit_wolf(values)
    shrunk, ours = ledoit_wolf(values)
    assert 0 < ours < 1
    assert ours == pytest.approx(intensity, rel=1e-10)
    assert_allclose(shrunk, reference, rtol=1e-10)
    assert_allclose(covariance(values, "ledoit_wolf"), 252 * reference, rtol=1e-10)


def test_unknown_shrinkage_is_rejected():
    with pytest.raises(ValueError, match="unknown shrinkage 'oas'"):
        covariance(np.zeros((5, 2)), "oas")  # type: ignore[arg-type]


def _scenarios(n: int) -> np.ndarray:
    returns = np.full(n, 0.01)
    returns[3], returns[7] = -0.05, -0.03
    return returns


def test_cvar_95_of_20_days_is_the_worst_loss():
    # (1 - 0.95) × 20 = 1 scenario in the tail
    assert historical_cvar(_scenarios(20), 0.95) == pytest.approx(0.05)


def test_cvar_95_of_30_days_counts_half_of_the_second_worst():
    # k = 1.5: (0.05 + 0.5 × 0.03) / 1.5
    assert historical_cvar(_scenarios(30), 0.95) == pytest.approx(0.065 / 1.5)


def test_cvar_is_a_positive_loss_and_negative_when_the_tail_gains():
    # k = 2: the two lowest returns, 0.01 and 0.01 + 0.01/39, average a gain of 0.01 + 0.01/78
    assert historical_cvar(np.linspace(0.01, 0.02, 40), 0.95) == pytest.approx(-(0.01 + 0.01 / 78))


def test_cvar_needs_a_tail_scenario():
    with pytest.raises(ValueError, match="at least one scenario"):
        historical_cvar(np.array([]), 0.95)


def test_risk_contributions_split_the_volatility():
    cov = np.array([[0.04, 0.0], [0.0, 0.01]])
    contributions = risk_contributions(np.array([0.5, 0.5]), cov)
    # σ² = 0.25·0.04 + 0.25·0.01 = 0.0125; RC_i = w_i (Σw)_i / σ
    assert_allclose(contributions, [0.01 / math.sqrt(0.0125), 0.0025 / math.sqrt(0.0125)])
    assert contributions.sum() == pytest.approx(math.sqrt(0.0125))
