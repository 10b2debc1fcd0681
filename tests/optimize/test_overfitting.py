"""Deflated Sharpe ratio (Bailey & López de Prado 2014) and PBO by CSCV (Bailey et al. 2017)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from core.optimize import (
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)

# --- deflated Sharpe ratio -------------------------------------------------------------------


def test_the_numerical_example_of_the_deflated_sharpe_ratio_paper():
    # Bailey & López de Prado (2014), "A numerical example": N = 100 trials whose annualised
    # Sharpe ratios have variance 1/2, the best has annualised SR 2.5 over 5 years of daily
    # returns (T = 1250, 250 a year) with skewness -3 and kurtosis 10. The paper finds the
    # expected maximum SR₀ ≈ 0.1132 per day and DSR ≈ 0.9004.
    variance, sharpe = 0.5 / 250, 2.5 / math.sqrt(250)

    sr0 = expected_max_sharpe(100, variance)
    dsr = deflated_sharpe_ratio(sharpe, 1250, 100, variance, skew=-3, kurtosis=10)

    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


@pytest.mark.parametrize("n", [2, 10, 100, 1000])
def test_expected_max_of_standard_normals_matches_monte_carlo(n):
    rng = np.random.default_rng(n)
    simulated = rng.standard_normal((20_000, n)).max(axis=1).mean()
    exact = integrate.quad(
        lambda x: x * n * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n - 1), -12, 12
    )[0]

    # the false-strategy approximation is within 3 % of the exact expectation for N ≥ 10
    assert expected_max_sharpe(n) == pytest.approx(exact, rel=0.03 if n >= 10 else 0.35)
    assert simulated == pytest.approx(exact, abs=0.02)


def test_expected_max_scales_with_the_sd_of_the_trials_and_is_zero_for_one_trial():
    assert expected_max_sharpe(50, 4.0) == pytest.approx(2 * expected_max_sharpe(50))
    assert expected_max_sharpe(1, 3.0) == 0.0


@pytest.mark.parametrize(("sharpe", "target", "n_obs"), [(0.1, 0.0, 250), (0.05, 0.02, 1000)])
def test_psr_with_normal_moments_is_the_closed_form(sharpe, target, n_obs):
    psr = probabilistic_sharpe_ratio(sharpe, n_obs, benchmark=target)

    z = (sharpe - target) * math.sqrt(n_obs - 1) / math.sqrt(1 + sharpe**2 / 2)
    closed = stats.norm.cdf(z)
    small_sharpe = stats.norm.cdf(math.sqrt(n_obs - 1) * (sharpe - target))
    assert psr == pytest.approx(closed, rel=1e-12)
    # for small per-period ratios the denominator is ≈ 1: PSR ≈ Φ(√(T−1)·(SR − SR*))
    assert psr == pytest.approx(small_sharpe, abs=2e-3)


def test_psr_at_zero_sharpe_is_exact_and_half_at_the_benchmark():
    assert probabilistic_sharpe_ratio(0.0, 101, benchmark=0.1) == pytest.approx(
        stats.norm.cdf(-1.0)
    )
    assert probabilistic_sharpe_ratio(0.2, 50, benchmark=0.2, skew=-1, kurtosis=6) == 0.5


def test_psr_standard_error_matches_simulated_sharpe_ratios():
    # the PSR's denominator is the standard error of SR̂ for normal returns (Lo 2002)
    rng = np.random.default_rng(0)
    true_sharpe, n_obs = 0.3, 250
    returns = rng.normal(true_sharpe, 1.0, (20_000, n_obs))
    estimates = returns.mean(axis=1) / returns.std(axis=1, ddof=1)
    se = math.sqrt((1 + true_sharpe**2 / 2) / (n_obs - 1))

    assert estimates.std() == pytest.approx(se, rel=0.03)
    # so PSR(SR*) is the share of estimates that the true ratio would beat, ≈ Φ((SR − SR*)/se)
    psr = probabilistic_sharpe_ratio(true_sharpe, n_obs, benchmark=0.25)
    assert psr == pytest.approx(np.mean(estimates - true_sharpe < true_sharpe - 0.25), abs=0.01)


def test_negative_skew_and_fat_tails_lower_the_psr():
    base = probabilistic_sharpe_ratio(0.1, 500)

    assert probabilistic_sharpe_ratio(0.1, 500, skew=-2, kurtosis=9) < base
    assert probabilistic_sharpe_ratio(0.1, 500, skew=1) > base


def test_deflated_sharpe_from_returns_uses_their_moments_and_the_trials():
    rng = np.random.default_rng(3)
    returns = rng.standard_t(5, 1000) * 0.01 + 0.001
    trials = rng.normal(0.5, 0.4, 200)  # annualised Sharpe ratios of 200 trials

    result = deflated_sharpe(returns, trials, periods_per_year=252)

    sharpe = returns.mean() / returns.std(ddof=1)
    variance = np.var(trials / math.sqrt(252), ddof=1)
    expected = deflated_sharpe_ratio(
        sharpe,
        1000,
        200,
        variance,
        skew=stats.skew(returns),
        kurtosis=stats.kurtosis(returns, fisher=False),
    )
    assert result.dsr == pytest.approx(expected)
    assert result.benchmark == pytest.approx(expected_max_sharpe(200, variance))
    assert deflated_sharpe(returns, trials, n_trials=10, periods_per_year=252).dsr > result.dsr


# --- probability of backtest overfitting ----------------------------------------------------


def test_a_strategy_that_dominates_every_period_is_never_overfit():
    rng = np.random.default_rng(0)
    returns = rng.normal(0.0, 0.01, (800, 10))
    returns[:, 3] += 0.05  # best in every period

    result = probability_of_backtest_overfitting(returns, n_splits=8)

    assert result.pbo == 0.0
    assert result.n_combinations == math.comb(8, 4) == 70
    assert (result.winners == 3).all()
    assert np.all(result.logits == pytest.approx(math.log(10 / 11 / (1 - 10 / 11))))


def test_pure_noise_strategies_are_overfit_half_of_the_time():
    pbos = [
        probability_of_backtest_overfitting(
            np.random.default_rng(seed).normal(0.0, 0.01, (800, 40)), n_splits=8
        ).pbo
        for seed in range(50)
    ]

    # each PBO of noise is one draw of a wide distribution; its mean over seeds is 0.5
    assert np.mean(pbos) == pytest.approx(0.5, abs=0.08)


def test_an_in_sample_winner_that_always_loses_out_of_sample_has_pbo_one():
    # Block means that sum to zero, and no half of them sums to zero: whichever of A = +p
    # and B = -p wins in sample has the opposite sign out of sample. Two flat strategies
    # (mean exactly zero in every block) sit between them.
    n_splits, size = 6, 10
    block_means = np.array([1.0, 2.0, 4.0, 8.0, 16.0, -31.0]) / 100
    wiggle = np.tile([0.01, -0.01], size // 2)
    a = np.concatenate([m + wiggle for m in block_means])
    flat = np.tile(wiggle, n_splits)
    returns = np.column_stack([a, -a, flat, 2 * flat])

    result = probability_of_backtest_overfitting(returns, n_splits=n_splits)

    assert result.pbo == 1.0
    assert result.prob_oos_loss == 1.0
    assert np.all(result.logits < 0)


def test_a_custom_metric_gives_the_same_pbo_as_the_default_sharpe():
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0, 0.01, (400, 12)) + np.linspace(0, 0.002, 12)

    def sharpe(rows):
        return rows.mean(axis=0) / rows.std(axis=0, ddof=1)

    fast = probability_of_backtest_overfitting(returns, n_splits=8)
    slow = probability_of_backtest_overfitting(returns, n_splits=8, metric=sharpe)

    np.testing.assert_allclose(fast.in_sample, slow.in_sample, rtol=1e-9)
    np.testing.assert_allclose(fast.out_of_sample, slow.out_of_sample, rtol=1e-9)
    assert fast.pbo == slow.pbo


def test_invalid_pbo_inputs_are_rejected():
    with pytest.raises(ValueError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), n_splits=5)
    with pytest.raises(ValueError, match="N >= 2"):
        probability_of_backtest_overfitting(np.zeros((100, 1)))
    with pytest.raises(ValueError, match="rows"):
        probability_of_backtest_overfitting(np.zeros((20, 3)), n_splits=16)


def test_the_winners_out_of_sample_rank_is_scipys_average_rank_with_ties_and_nans():
    from core.optimize._overfitting import _cscv

    rng = np.random.default_rng(4)
    perf_in = rng.normal(size=(300, 7))
    perf_out = rng.integers(0, 4, size=(300, 7)).astype(float)  # many ties
    perf_out[rng.random((300, 7)) < 0.1] = np.nan
    result = _cscv(perf_in, perf_out, 16)
    rows = np.arange(300)
    ranks = stats.rankdata(np.nan_to_num(perf_out, nan=-np.inf), axis=1, method="average")
    omega = ranks[rows, result.winners] / 8
    np.testing.assert_array_equal(result.logits, np.log(omega / (1 - omega)))
