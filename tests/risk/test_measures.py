"""Each risk measure against a hand-worked case (constants from tables, not from the code)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.risk import (
    atr,
    atr_stop_distance,
    beta_correlation,
    empirical_var_cvar,
    historical_var_cvar,
    kelly_continuous,
    kelly_discrete,
    monte_carlo_var_cvar,
    normal_var_cvar,
    risk_contributions,
    student_t_var_cvar,
    var_cvar,
    volatility,
    volatility_stop_distance,
)
from core.whatif import fit_student_t_dof

TWENTY = [
    0.012,
    -0.031,
    0.004,
    0.027,
    -0.008,
    0.015,
    -0.052,
    0.001,
    0.009,
    -0.017,
    0.022,
    -0.004,
    0.006,
    -0.026,
    0.018,
    0.003,
    -0.011,
    0.030,
    -0.002,
    0.010,
]
Z95 = 1.6448536269514722  # standard normal quantile
PHI95 = 0.10313564037537128  # its density
SAMPLE = [0.02, 0.00, 0.04, -0.02]  # mean 0.01; deviations ±0.01, ±0.03
SIGMA = math.sqrt((0.01**2 * 2 + 0.03**2 * 2) / 3)  # 0.0258199, ddof=1


def test_historical_on_twenty_values_is_the_worst_return():
    # 20 × (1 - 0.95) = 1 observation in the tail: -0.052
    assert historical_var_cvar(TWENTY, 0.95) == pytest.approx((0.052, 0.052))


def test_historical_with_two_and_one_and_a_half_tail_observations():
    forty = [i / 1000 for i in range(-20, 20)]  # -0.020 … 0.019
    var, cvar = historical_var_cvar(forty, 0.95)  # m = 2: the two worst, -0.020 and -0.019
    assert (var, cvar) == pytest.approx((0.019, 0.0195))
    assert historical_var_cvar(forty, 0.99) == pytest.approx((0.020, 0.020))  # m = 0.4
    thirty = [i / 1000 for i in range(-15, 15)]  # m = 1.5: -(−0.015 − 0.5 × 0.014) / 1.5
    assert empirical_var_cvar(thirty, 0.95) == pytest.approx((0.014, 0.022 / 1.5))


def test_historical_horizon_uses_overlapping_compounded_returns():
    # two-day returns: 1.1×0.8−1 = −0.12, 0.8×1.05−1 = −0.16, 1.05×1.0−1 = 0.05
    assert historical_var_cvar([0.10, -0.20, 0.05, 0.0], 0.95, 2) == pytest.approx((0.16, 0.16))


def test_normal_var_and_cvar():
    var, cvar = normal_var_cvar(SAMPLE, 0.95)
    assert var == pytest.approx(-(0.01 - Z95 * SIGMA))  # 0.032470
    assert var == pytest.approx(0.032470, abs=1e-6)
    assert cvar == pytest.approx(-(0.01 - SIGMA * PHI95 / 0.05))  # 0.043259
    var4, _ = normal_var_cvar(SAMPLE, 0.95, horizon=4)  # μ×4, σ×2
    assert var4 == pytest.approx(-(0.04 - Z95 * 2 * SIGMA))


def test_student_t_with_given_dof():
    nu, q = 5.0, -2.015048373333023  # t table, 5 degrees of freedom, 5 % tail
    scale = SIGMA * math.sqrt(3 / 5)
    density = math.gamma(3) / (math.sqrt(5 * math.pi) * math.gamma(2.5)) * (1 + q * q / nu) ** -3
    var, cvar = student_t_var_cvar(SAMPLE, 0.95, dof=nu)
    assert var == pytest.approx(-(0.01 + scale * q))
    tail = density * (nu + q * q) / ((nu - 1) * 0.05)
    assert cvar == pytest.approx(-(0.01 - scale * tail))
    assert cvar > var


def test_student_t_fits_dof_by_mle_and_tends_to_normal():
    rng = np.random.default_rng(1)
    returns = rng.standard_t(4, 3000) * 0.01
    fitted = student_t_var_cvar(returns, 0.99)
    assert fitted == student_t_var_cvar(returns, 0.99, dof=fit_student_t_dof(returns))
    assert student_t_var_cvar(SAMPLE, 0.95, dof=1e7) == pytest.approx(normal_var_cvar(SAMPLE))


def test_monte_carlo_is_seeded_and_near_the_normal_figure():
    a = monte_carlo_var_cvar(SAMPLE, 0.99, 5, n_sims=200_000, seed=7)
    assert a == monte_carlo_var_cvar(SAMPLE, 0.99, 5, n_sims=200_000, seed=7)
    assert a != monte_carlo_var_cvar(SAMPLE, 0.99, 5, n_sims=200_000, seed=8)
    np.testing.assert_allclose(a, normal_var_cvar(SAMPLE, 0.99, 5), rtol=0.02)


def test_monte_carlo_on_assets_with_weights():
    rng = np.random.default_rng(0)
    assets = rng.multivariate_normal([0.001, 0.0], [[4e-4, 1e-4], [1e-4, 9e-4]], 2000)
    w = np.array([0.6, 0.4])
    simulated = monte_carlo_var_cvar(assets, 0.95, weights=w, n_sims=200_000, seed=0)
    np.testing.assert_allclose(simulated, normal_var_cvar(assets @ w, 0.95), rtol=0.02)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="confidence level"):
        historical_var_cvar(TWENTY, 1.0)
    with pytest.raises(ValueError, match="horizon"):
        normal_var_cvar(TWENTY, 0.95, 0)
    with pytest.raises(ValueError, match="at least two"):
        normal_var_cvar([0.01], 0.95)
    with pytest.raises(ValueError, match="method must be one of"):
        var_cvar(TWENTY, method="garch")
    with pytest.raises(ValueError, match="> 2"):
        student_t_var_cvar(TWENTY, dof=2)


def test_volatility_annualised():
    assert volatility(SAMPLE) == pytest.approx(SIGMA * math.sqrt(252))  # 0.40988
    assert volatility(SAMPLE) == pytest.approx(0.409878, abs=1e-6)


def test_beta_and_correlation():
    b = pd.Series([0.01, 0.02, 0.03])
    r = pd.Series([0.01, 0.03, 0.02])
    # deviations b: −1, 0, 1; r: −1, 1, 0 (×0.01): cov 0.5e-4, var b 1e-4, var r 1e-4
    assert beta_correlation(r, b) == pytest.approx((0.5, 0.5))
    twice = 2 * b + 0.001
    assert beta_correlation(twice, b) == pytest.approx((2.0, 1.0))
    assert beta_correlation(-b, b) == pytest.approx((-1.0, -1.0))


def test_beta_aligns_on_shared_dates():
    days = pd.date_range("2024-01-01", periods=4)
    b = pd.Series([0.01, 0.02, 0.03, 0.5], index=days)
    r = pd.Series([0.01, 0.03, 0.02], index=days[:3])
    assert beta_correlation(r, b) == pytest.approx((0.5, 0.5))


def test_euler_contributions_sum_to_volatility():
    w, cov = [0.5, 0.5], [[0.04, 0.01], [0.01, 0.09]]
    # Σw = (0.025, 0.05); wᵀΣw = 0.0375; σ = 0.193649
    contributions = risk_contributions(w, cov)
    sigma = math.sqrt(0.0375)
    np.testing.assert_allclose(contributions, [0.0125 / sigma, 0.025 / sigma])
    assert contributions.sum() == pytest.approx(sigma)


def test_kelly():
    assert kelly_continuous(0.08, 0.20) == pytest.approx(2.0)
    assert kelly_discrete(0.6, 1.0) == pytest.approx(0.2)
    assert kelly_discrete(0.5, 2.0) == pytest.approx(0.25)
    assert kelly_discrete(0.3, 1.0) == pytest.approx(-0.4)  # do not bet
    with pytest.raises(ValueError, match="probability"):
        kelly_discrete(1.2, 1.0)


def test_wilder_atr_and_stops():
    high, low = [10, 11, 12, 11, 13], [9, 10, 10, 9, 11]
    close = [9.5, 10.5, 11, 10, 12]
    # true ranges 1, 1.5, 2, 2, 3; first ATR (1 + 1.5 + 2) / 3 = 1.5; then 5/3, 19/9
    values = atr(pd.Series(high), low, close, period=3)
    np.testing.assert_allclose(values.to_numpy(), [np.nan, np.nan, 1.5, 5 / 3, 19 / 9])
    assert atr_stop_distance(2.5, 2) == 5.0
    assert volatility_stop_distance(100.0, 0.02, 2.0, 4) == pytest.approx(8.0)
