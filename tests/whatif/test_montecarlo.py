"""Monte Carlo: simulated statistics against their exact expectations, then the mechanics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from core.analytics import conditional_value_at_risk, max_drawdown, value_at_risk
from core.whatif import (
    FAN_LEVELS,
    MonteCarloConfig,
    fit_student_t_dof,
    monte_carlo_trades,
    run_monte_carlo,
    simulate_returns,
)
from core.whatif import _montecarlo as montecarlo_module


@pytest.fixture(scope="module")
def daily() -> np.ndarray:
    """Two years of skewed, fat-tailed daily returns."""
    rng = np.random.default_rng(7)
    return 0.0004 + 0.011 * rng.standard_t(5, 504) * math.sqrt(3 / 5)


@pytest.fixture(scope="module")
def bootstrap_run(daily):
    return run_monte_carlo(daily, MonteCarloConfig(n_paths=20_000, horizon=60, seed=1))


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = 0.01 * rng.standard_normal(n)
    out = np.empty(n)
    out[0] = noise[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + noise[t]
    return out


def lag1_autocorrelation(paths: np.ndarray) -> float:
    """Mean over paths of the lag-1 autocorrelation of each row."""
    centred = paths - paths.mean(axis=1, keepdims=True)
    num = (centred[:, 1:] * centred[:, :-1]).sum(axis=1)
    return float((num / (centred**2).sum(axis=1)).mean())


# --- expectations -----------------------------------------------------------------------------


def test_bootstrap_mean_final_equity_matches_exact_expectation(daily, bootstrap_run):
    # iid draws from a finite vector: E[prod(1 + r)] = (1 + mean r)^H exactly.
    growth = 1.0 + daily
    expected = growth.mean() ** 60
    second_moment = (growth**2).mean() ** 60
    standard_error = math.sqrt((second_moment - expected**2) / bootstrap_run.n_paths)
    assert abs(bootstrap_run.final_equity.mean() - expected) < 4 * standard_error
    assert bootstrap_run.final_equity.std() == pytest.approx(
        math.sqrt(second_moment - expected**2), rel=0.03
    )


def test_normal_one_step_returns_have_the_sample_mean_and_variance(daily):
    simulated = simulate_returns(
        daily, MonteCarloConfig(method="normal", n_paths=20_000, horizon=25)
    )
    mean, var = daily.mean(), daily.var(ddof=1)
    n = simulated.size
    assert abs(simulated.mean() - mean) < 4 * math.sqrt(var / n)
    assert abs(simulated.var() - var) < 4 * var * math.sqrt(2 / n)


def test_student_t_matches_the_sample_variance_and_fits_the_tails():
    rng = np.random.default_rng(3)
    returns = 0.0005 + 0.01 * rng.standard_t(6, 20_000)
    dof = fit_student_t_dof(returns)
    assert 5 < dof < 7.5
    simulated = simulate_returns(
        returns, MonteCarloConfig(method="student_t", n_paths=20_000, horizon=25)
    )
    assert simulated.mean() == pytest.approx(returns.mean(), abs=4 * returns.std() / 700)
    assert simulated.var() == pytest.approx(returns.var(ddof=1), rel=0.03)
    excess_kurtosis = ((simulated - simulated.mean()) ** 4).mean() / simulated.var() ** 2 - 3
    assert excess_kurtosis > 1.0  # 6 / (ν - 4) = 3 for ν = 6; a normal gives 0


def test_student_t_dof_is_floored_so_the_variance_exists():
    cauchy = np.clip(np.random.default_rng(0).standard_cauchy(5_000) * 0.01, -0.9, None)
    assert fit_student_t_dof(cauchy) == 2.5


def test_block_bootstrap_keeps_autocorrelation_that_iid_destroys():
    series = ar1(0.5, 5_000, seed=11)
    base = dict(n_paths=2_000, horizon=200, seed=2)
    iid = simulate_returns(series, MonteCarloConfig(method="bootstrap", **base))
    block = simulate_returns(
        series, MonteCarloConfig(method="block_bootstrap", block_size=20, **base)
    )
    # 19 of every 20 neighbours share a block: about 0.5 × 19/20.
    assert lag1_autocorrelation(block) == pytest.approx(0.475, abs=0.05)
    assert abs(lag1_autocorrelation(iid)) < 0.02


def test_block_bootstrap_draws_consecutive_returns_with_circular_wrap():
    series = np.arange(13) / 1000.0
    simulated = simulate_returns(
        series, MonteCarloConfig(method="block_bootstrap", block_size=5, horizon=12, n_paths=300)
    )
    positions = np.rint(simulated * 1000).astype(int)
    for start in (0, 5, 10):
        block = positions[:, start : start + 5]
        assert ((np.diff(block, axis=1) % 13) == 1).all()
    assert (positions[:, :5] == 12).any()  # some block wraps from the end to the start


# --- degenerate series ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["bootstrap", "block_bootstrap", "normal", "student_t"])
def test_constant_gain_is_always_profitable_and_never_draws_down(method):
    config = MonteCarloConfig(method=method, n_paths=500, horizon=30, initial_equity=100.0)
    result = run_monte_carlo(np.full(50, 0.01), config)
    assert result.probability_of_profit == 1.0
    assert (result.max_drawdowns == 0).all()
    expected = 100.0 * 1.01 ** np.arange(31)
    np.testing.assert_allclose(result.equity_paths, np.broadcast_to(expected, (500, 31)))
    np.testing.assert_allclose(result.fan, np.repeat(expected[:, None], 5, axis=1))
    for value in (result.var_95, result.cvar_95, result.var_99, result.cvar_99):
        assert value == pytest.approx(1.01**30 - 1)


def test_constant_loss_has_no_chance_of_profit_and_drawdown_is_the_loss():
    result = run_monte_carlo(np.full(10, -0.02), MonteCarloConfig(n_paths=100, horizon=10))
    assert result.probability_of_profit == 0.0
    np.testing.assert_allclose(result.max_drawdowns, 0.98**10 - 1)


# --- statistics -------------------------------------------------------------------------------


def test_var_and_cvar_are_ordered_and_equal_the_metrics_functions(bootstrap_run):
    r = bootstrap_run
    assert r.cvar_99 <= r.var_99 <= r.var_95
    assert r.cvar_99 <= r.cvar_95 <= r.var_95
    assert r.var_95 < r.median_return
    assert r.var_95 == value_at_risk(r.horizon_returns, 0.95)
    assert r.var_99 == value_at_risk(r.horizon_returns, 0.99)
    assert r.cvar_95 == pytest.approx(conditional_value_at_risk(r.horizon_returns, 0.95), rel=1e-12)
    assert r.cvar_99 == pytest.approx(conditional_value_at_risk(r.horizon_returns, 0.99), rel=1e-12)


def test_scalar_statistics_follow_from_the_paths(bootstrap_run):
    r = bootstrap_run
    np.testing.assert_array_equal(r.final_equity, r.equity_paths[:, -1])
    np.testing.assert_allclose(r.horizon_returns, r.final_equity - 1.0)
    assert r.probability_of_profit == np.mean(r.final_equity > 1.0)
    assert r.mean_return == pytest.approx(r.horizon_returns.mean())
    assert r.median_return == np.median(r.horizon_returns)


def test_fan_equals_numpy_quantiles_at_every_step(bootstrap_run):
    expected = np.quantile(bootstrap_run.equity_paths, FAN_LEVELS, axis=0).T
    np.testing.assert_array_equal(bootstrap_run.fan, expected)
    assert bootstrap_run.fan_levels == (0.05, 0.25, 0.5, 0.75, 0.95)


def test_max_drawdowns_are_measured_from_a_peak_that_starts_at_the_initial_equity(bootstrap_run):
    paths = bootstrap_run.equity_paths
    for i in (0, 1, 17, 999):
        assert bootstrap_run.max_drawdowns[i] == pytest.approx(max_drawdown(paths[i]), abs=1e-15)
    assert (bootstrap_run.max_drawdowns <= 0).all()


def test_simulated_returns_compound_to_the_equity_paths(daily):
    config = MonteCarloConfig(n_paths=300, horizon=40, initial_equity=50.0, seed=5)
    returns = simulate_returns(daily, config)
    paths = run_monte_carlo(daily, config).equity_paths
    assert returns.shape == (300, 40)
    np.testing.assert_allclose(paths[:, 1:], 50.0 * np.cumprod(1.0 + returns, axis=1), rtol=1e-13)
    assert (paths[:, 0] == 50.0).all()


@settings(max_examples=40, deadline=None)
@given(
    n_paths=st.integers(1, 60),
    horizon=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    method=st.sampled_from(["bootstrap", "block_bootstrap", "normal"]),
)
def test_fan_and_drawdowns_match_references_for_any_size(n_paths, horizon, seed, method):
    returns = np.random.default_rng(seed).normal(0.0, 0.02, 30)
    config = MonteCarloConfig(method=method, n_paths=n_paths, horizon=horizon, seed=seed)
    result = run_monte_carlo(returns, config)
    paths = result.equity_paths
    np.testing.assert_array_equal(result.fan, np.quantile(paths, FAN_LEVELS, axis=0).T)
    reference = (paths / np.maximum.accumulate(paths, axis=1)).min(axis=1) - 1.0
    np.testing.assert_allclose(result.max_drawdowns, reference, rtol=1e-14)


@pytest.mark.parametrize("n", [3, 7, 2_520, 4_096, 5_000])
def test_resampling_indices_are_uniform(n):
    rng = np.random.default_rng(n)
    index = montecarlo_module._uniform_indices(rng, n, (200, 1_000))
    assert index.dtype == np.intp and index.min() >= 0 and index.max() < n
    counts = np.bincount(index.ravel(), minlength=n)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_resampling_indices_redraw_the_values_above_the_last_full_multiple():
    class AllOnes:  # every 16-bit value is 65,535, the one value rejected for n = 3
        class bit_generator:  # mimics numpy's attribute
            @staticmethod
            def random_raw(size):
                return np.full(size, np.iinfo(np.uint64).max, dtype=np.uint64)

        @staticmethod
        def integers(low, high, size):
            return np.full(size, 2)

    index = montecarlo_module._uniform_indices(AllOnes(), 3, (2, 5))
    assert (index == 2).all()


# --- determinism and the helper thread --------------------------------------------------------


def test_same_seed_gives_the_same_paths_and_another_seed_does_not(daily):
    config = MonteCarloConfig(n_paths=200, horizon=30, seed=42)
    first, second = run_monte_carlo(daily, config), run_monte_carlo(daily, config)
    np.testing.assert_array_equal(first.equity_paths, second.equity_paths)
    np.testing.assert_array_equal(simulate_returns(daily, config), simulate_returns(daily, config))
    other = run_monte_carlo(daily, config.model_copy(update={"seed": 43}))
    assert not np.array_equal(first.equity_paths, other.equity_paths)


def test_the_fan_thread_does_not_change_the_numbers(daily, monkeypatch):
    config = MonteCarloConfig(n_paths=3_000, horizon=100, seed=9)
    threaded = run_monte_carlo(daily, config)
    monkeypatch.setattr(montecarlo_module, "_PARALLEL_CELLS", 10**12)
    inline = run_monte_carlo(daily, config)
    np.testing.assert_array_equal(threaded.fan, inline.fan)
    np.testing.assert_array_equal(threaded.equity_paths, inline.equity_paths)
    np.testing.assert_array_equal(threaded.max_drawdowns, inline.max_drawdowns)


def test_results_are_read_only(bootstrap_run):
    for array in (bootstrap_run.equity_paths, bootstrap_run.fan, bootstrap_run.final_equity):
        with pytest.raises(ValueError):
            array[0] = 0.0


# --- trades -----------------------------------------------------------------------------------


def test_trade_resampling_adds_pnls_to_money_equity():
    pnls = np.array([250.0, -100.0, 40.0, -310.0, 500.0, 75.0])
    config = MonteCarloConfig(n_paths=20_000, initial_equity=10_000.0, seed=4)
    result = monte_carlo_trades(pnls, 50, config)
    assert result.equity_paths.shape == (20_000, 51)
    steps = np.diff(result.equity_paths, axis=1)
    assert np.isin(np.round(steps, 6), pnls).all()
    expected = 10_000.0 + 50 * pnls.mean()
    standard_error = math.sqrt(50 * pnls.var() / 20_000)
    assert abs(result.final_equity.mean() - expected) < 4 * standard_error
    assert result.probability_of_profit == np.mean(result.final_equity > 10_000.0)


def test_trade_resampling_defaults_to_the_runs_trade_count_and_refuses_fitted_methods():
    pnls = np.array([10.0, -5.0, 3.0])
    result = monte_carlo_trades(pnls, None, MonteCarloConfig(n_paths=10, initial_equity=100.0))
    assert result.horizon == 3
    block = monte_carlo_trades(pnls, 7, MonteCarloConfig(method="block_bootstrap", block_size=2))
    assert block.horizon == 7
    with pytest.raises(ValueError, match="resampled"):
        monte_carlo_trades(pnls, 5, MonteCarloConfig(method="normal"))
    with pytest.raises(ValueError):
        monte_carlo_trades(np.array([]), 5, MonteCarloConfig())


# --- config and summary -----------------------------------------------------------------------


def test_config_is_frozen_rejects_unknown_keys_and_bad_values():
    config = MonteCarloConfig()
    assert (config.method, config.n_paths, config.horizon) == ("bootstrap", 10_000, 252)
    assert (config.block_size, config.seed, config.initial_equity) == (20, 0, 1.0)
    with pytest.raises(ValidationError):
        config.seed = 1
    bad_values = [
        {"paths": 5},
        {"method": "garch"},
        {"n_paths": 0},
        {"initial_equity": 0.0},
        {"horizon": 0},
        {"block_size": 0},
        {"n_paths": 1_000_000, "horizon": 1_000},
    ]
    for bad in bad_values:
        with pytest.raises(ValidationError):
            MonteCarloConfig(**bad)


def test_bad_returns_are_rejected():
    config = MonteCarloConfig(n_paths=5, horizon=5)
    for bad in ([0.01], [[0.01, 0.02]], [0.01, np.nan], [0.01, -1.5]):
        with pytest.raises(ValueError):
            run_monte_carlo(np.array(bad), config)


def test_summary_is_json_friendly_and_reports_the_fan_at_the_quarters(bootstrap_run):
    summary = json.loads(json.dumps(bootstrap_run.summary()))
    assert summary["n_paths"] == 20_000 and summary["horizon"] == 60
    assert summary["var_95"] == bootstrap_run.var_95
    assert [row["step"] for row in summary["fan"]] == [0, 15, 30, 45, 60]
    assert summary["fan"][-1]["p50"] == bootstrap_run.fan[-1, 2]
    assert set(summary["fan"][0]) == {"step", "p05", "p25", "p50", "p75", "p95"}
    assert [row["step"] for row in bootstrap_run.summary(fan_steps=[1, 2])["fan"]] == [1, 2]
