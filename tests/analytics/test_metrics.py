"""Performance metrics: hand-worked numbers, second methods, properties, edge cases."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.analytics import (
    METRIC_KEYS,
    average_trade,
    cagr,
    calmar,
    compute_metrics,
    conditional_value_at_risk,
    downside_deviation,
    drawdown_series,
    exposure,
    max_drawdown,
    n_trades,
    profit_factor,
    sharpe,
    simple_returns,
    sortino,
    total_return,
    turnover,
    value_at_risk,
    volatility,
    win_rate,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# The worked example of docs/METRICS.md.
EQUITY = [100.0, 110.0, 99.0, 108.9, 119.79]
RETURNS = [0.1, -0.1, 0.1, 0.1]  # 110/100-1, 99/110-1, 108.9/99-1, 119.79/108.9-1
PNLS = [50.0, -20.0, 30.0, -10.0, 0.0]
POSITION = [0, 1, 1, 1, 0]
NOTIONAL = [100.0, 0.0, 0.0, 50.0, 0.0]
QUARTERLY = 4  # four returns a year: the example spans exactly one year


def approx(value, rel=1e-12, tolerance=1e-12):
    """pytest.approx, tight: the hand-worked numbers hold to float rounding."""
    return pytest.approx(value, rel=rel, abs=tolerance)


# --- hand-worked series ----------------------------------------------------------------------


def test_simple_returns_by_hand():
    assert simple_returns(EQUITY) == approx(RETURNS)
    assert isinstance(simple_returns(np.array(EQUITY)), np.ndarray)


def test_simple_returns_keep_a_series_index():
    index = pd.date_range("2024-01-01", periods=5, name="timestamp")
    returns = simple_returns(pd.Series(EQUITY, index=index, name="equity"))
    assert isinstance(returns, pd.Series)
    assert returns.index.equals(index[1:])
    assert returns.name == "equity"
    assert returns.to_numpy() == approx(RETURNS)


def test_total_return_and_cagr_by_hand():
    assert total_return(EQUITY) == approx(0.1979)  # 119.79 / 100 - 1
    # years = N / periods = 4 / 4 = 1 → CAGR equals the total return
    assert cagr(EQUITY, QUARTERLY) == approx(0.1979)
    # two periods a year → 2 years → sqrt(1.1979) - 1
    assert cagr(EQUITY, 2) == approx(math.sqrt(1.1979) - 1)
    # daily: 4 returns are 4/252 of a year → 1.1979 ** 63 - 1
    assert cagr(EQUITY, 252) == approx(1.1979**63 - 1, rel=1e-10)


def test_volatility_by_hand():
    # mean 0.05; deviations 0.05, -0.15, 0.05, 0.05; squares 0.0025·3 + 0.0225 = 0.03;
    # / (4 - 1) = 0.01 → std 0.1 per quarter → 0.1 · √4 = 0.2 a year
    assert volatility(RETURNS, QUARTERLY) == approx(0.2)
    assert volatility(RETURNS, 252) == approx(0.1 * math.sqrt(252))


def test_sharpe_by_hand():
    assert sharpe(RETURNS, QUARTERLY) == approx(1.0)  # 0.05 / 0.1 · √4
    # rf 4 % a year = 1 % a quarter: excess mean 0.04, std unchanged 0.1 → 0.04 / 0.1 · 2
    assert sharpe(RETURNS, QUARTERLY, risk_free=0.04) == approx(0.8)


def test_sortino_by_hand():
    # shortfall min(r, 0) = [0, -0.1, 0, 0]: DD = √(0.01 / 4) = 0.05 over ALL four periods
    assert downside_deviation(RETURNS) == approx(0.05)
    assert sortino(RETURNS, QUARTERLY) == approx(2.0)  # 0.05 / 0.05 · √4
    # target 1 % a period: excess [0.09, -0.11, 0.09, 0.09]; DD = √(0.0121 / 4) = 0.055
    assert downside_deviation(RETURNS, 0.01) == approx(0.055)
    assert sortino(RETURNS, QUARTERLY, target=0.01) == approx(0.04 / 0.055 * 2)


def test_drawdowns_by_hand():
    # running peak [100, 110, 110, 110, 119.79]
    assert drawdown_series(EQUITY) == approx([0.0, 0.0, -0.1, -0.01, 0.0])
    assert max_drawdown(EQUITY) == approx(-0.1)
    assert calmar(EQUITY, QUARTERLY) == approx(1.979)  # 0.1979 / 0.1


def test_drawdown_series_keeps_a_series_index():
    index = pd.date_range("2024-01-01", periods=5)
    drawdowns = drawdown_series(pd.Series(EQUITY, index=index))
    assert drawdowns.index.equals(index)


def test_max_drawdown_counts_from_the_starting_equity():
    # never above E_0: the peak is E_0 itself, the trough 80
    assert max_drawdown([100.0, 90.0, 80.0, 95.0]) == approx(-0.2)


def test_value_at_risk_by_hand():
    # sorted [-0.1, 0.1, 0.1, 0.1]; 95 %: h = 3 · 0.05 = 0.15 → -0.1 + 0.15 · 0.2 = -0.07
    assert value_at_risk(RETURNS, 0.95) == approx(-0.07)
    # 99 %: h = 3 · 0.01 = 0.03 → -0.1 + 0.03 · 0.2 = -0.094
    assert value_at_risk(RETURNS, 0.99) == approx(-0.094)
    # only -0.1 is at or below either VaR
    assert conditional_value_at_risk(RETURNS, 0.95) == approx(-0.1)
    assert conditional_value_at_risk(RETURNS, 0.99) == approx(-0.1)


def test_cvar_averages_the_whole_tail():
    returns = [-0.05, -0.03, -0.01, 0.0, 0.02, 0.04]
    # level 0.6: h = 5 · 0.4 = 2 → VaR = s_2 = -0.01; tail -0.05, -0.03, -0.01
    assert value_at_risk(returns, 0.6) == approx(-0.01)
    assert conditional_value_at_risk(returns, 0.6) == approx(-0.03)


def test_trade_statistics_by_hand():
    assert n_trades(PNLS) == 5
    assert win_rate(PNLS) == approx(0.4)  # 50 and 30 win; the flat trade does not
    assert profit_factor(PNLS) == approx(80 / 30)
    assert average_trade(PNLS) == approx(10.0)  # 50 / 5


def test_exposure_and_turnover_by_hand():
    assert exposure(POSITION) == approx(0.6)
    assert exposure([0.0, -0.5, 0.25, 0.0]) == approx(0.5)  # the sign does not matter
    # Σ|notional| = 150; mean equity 537.69 / 5 = 107.538; 1 year
    assert turnover(NOTIONAL, EQUITY, QUARTERLY) == approx(150 / 107.538)
    assert turnover([-100.0, 50.0], EQUITY, 2) == approx(150 / 107.538 / 2)  # 2 years


def test_compute_metrics_worked_example():
    metrics = compute_metrics(
        EQUITY,
        trade_pnls=PNLS,
        position=POSITION,
        traded_notional=NOTIONAL,
        periods_per_year=QUARTERLY,
    )
    assert tuple(metrics) == METRIC_KEYS
    expected = {
        "total_return": 0.1979,
        "cagr": 0.1979,
        "volatility": 0.2,
        "sharpe": 1.0,
        "sortino": 2.0,
        "max_drawdown": -0.1,
        "calmar": 1.979,
        "var_95": -0.07,
        "cvar_95": -0.1,
        "var_99": -0.094,
        "cvar_99": -0.1,
        "win_rate": 0.4,
        "profit_factor": 80 / 30,
        "average_trade": 10.0,
        "exposure": 0.6,
        "turnover": 150 / 107.538,
        "n_trades": 5,
    }
    assert metrics == {k: approx(v) for k, v in expected.items()}
    assert isinstance(metrics["n_trades"], int)
    assert all(isinstance(v, float) for k, v in metrics.items() if k != "n_trades")


def test_compute_metrics_risk_free_moves_sharpe_and_sortino():
    metrics = compute_metrics(EQUITY, periods_per_year=QUARTERLY, risk_free=0.04)
    assert metrics["sharpe"] == approx(0.8)
    assert metrics["sortino"] == approx(0.04 / 0.055 * 2)  # target 0.04 / 4 a quarter


def test_compute_metrics_without_trades_positions_or_notional():
    metrics = compute_metrics(EQUITY)
    assert set(metrics) == set(METRIC_KEYS)
    for key in ("win_rate", "profit_factor", "average_trade", "exposure", "turnover"):
        assert math.isnan(metrics[key]), key
    assert metrics["n_trades"] == 0
    assert metrics["volatility"] == approx(0.1 * math.sqrt(252))


def _worked_table() -> dict[str, float]:
    text = (REPO_ROOT / "docs" / "METRICS.md").read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| (-?[0-9.]+) \|$", section, flags=re.MULTILINE)
    return {key: float(value) for key, value in rows}


def test_docs_worked_example_matches_the_code():
    table = _worked_table()
    assert tuple(table) == METRIC_KEYS
    metrics = compute_metrics(
        EQUITY,
        trade_pnls=PNLS,
        position=POSITION,
        traded_notional=NOTIONAL,
        periods_per_year=QUARTERLY,
    )
    assert metrics == {k: pytest.approx(v, rel=1e-7, abs=1e-12) for k, v in table.items()}


# --- a second method -------------------------------------------------------------------------


def _random_returns(seed: int, n: int = 250) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0005, 0.01, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("risk_free", [0.0, 0.03])
def test_sharpe_and_volatility_match_a_direct_loop(seed, risk_free):
    returns = _random_returns(seed)
    excess = [r - risk_free / 252 for r in returns]
    mean = sum(excess) / len(excess)
    variance = sum((x - mean) ** 2 for x in excess) / (len(excess) - 1)
    assert sharpe(returns, 252, risk_free) == approx(mean / math.sqrt(variance) * math.sqrt(252))
    raw_mean = sum(returns) / len(returns)
    raw_var = sum((r - raw_mean) ** 2 for r in returns) / (len(returns) - 1)
    assert volatility(returns, 252) == approx(math.sqrt(raw_var * 252))


@pytest.mark.parametrize("seed", [0, 1])
def test_sortino_matches_a_direct_loop(seed):
    returns = _random_returns(seed)
    target = 0.0002
    shortfall = [min(r - target, 0.0) ** 2 for r in returns]
    deviation = math.sqrt(sum(shortfall) / len(returns))
    mean = sum(r - target for r in returns) / len(returns)
    assert sortino(returns, 252, target) == approx(mean / deviation * math.sqrt(252))


@pytest.mark.parametrize("n", [1, 2, 7, 20, 101, 250])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99, 0.999])
def test_value_at_risk_matches_the_order_statistic_formula(n, level):
    returns = _random_returns(n, n)
    ordered = sorted(returns)
    h = (n - 1) * (1 - level)
    j = math.floor(h)
    upper = ordered[min(j + 1, n - 1)]
    expected = ordered[j] + (h - j) * (upper - ordered[j])
    assert value_at_risk(returns, level) == approx(expected)
    tail = [r for r in returns if r <= value_at_risk(returns, level)]
    assert conditional_value_at_risk(returns, level) == approx(sum(tail) / len(tail))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_drawdown_matches_a_brute_force_search(seed):
    equity = 100 * np.cumprod(1 + _random_returns(seed, 120) * 3)
    worst = min(equity[j] / max(equity[: j + 1]) - 1 for j in range(len(equity)))
    assert max_drawdown(equity) == approx(worst)


@pytest.mark.parametrize("seed", [0, 1])
def test_cagr_compounds_the_returns(seed):
    returns = _random_returns(seed, 500)
    equity = 100 * np.cumprod(np.r_[1.0, 1 + returns])
    growth = math.prod(1 + r for r in returns)
    assert cagr(equity, 252) == approx(growth ** (252 / 500) - 1, rel=1e-9)
    assert total_return(equity) == approx(growth - 1, rel=1e-9)


def test_series_and_arrays_give_the_same_numbers():
    index = pd.bdate_range("2024-01-01", periods=5)
    series = compute_metrics(pd.Series(EQUITY, index=index), trade_pnls=pd.Series(PNLS))
    array = compute_metrics(np.array(EQUITY), trade_pnls=np.array(PNLS))
    assert series == {k: pytest.approx(v, nan_ok=True) for k, v in array.items()}


# --- properties ------------------------------------------------------------------------------

# Prices in cents: returns are exactly 0 or at least ~5e-5 apart from each other's noise,
# so ratios of near-zero deviations (rounding noise) do not come up.
cents = st.integers(5_000, 20_000).map(lambda c: c / 100)
equities = st.lists(cents, min_size=2, max_size=60)
SCALE_FREE = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "var_95",
    "cvar_95",
    "var_99",
    "cvar_99",
)


@settings(max_examples=200, deadline=None)
@given(equity=equities, scale=st.floats(1e-3, 1e3))
def test_scaling_the_equity_changes_no_metric(equity, scale):
    before = compute_metrics(equity)
    after = compute_metrics([scale * e for e in equity])
    for key in SCALE_FREE:
        assert after[key] == pytest.approx(before[key], rel=1e-6, abs=1e-9, nan_ok=True), key


@settings(max_examples=200, deadline=None)
@given(
    equity=st.lists(st.floats(1e-6, 1e6), min_size=2, max_size=80),
)
def test_max_drawdown_lies_between_minus_one_and_zero(equity):
    drawdown = max_drawdown(equity)
    assert -1.0 < drawdown <= 0.0
    series = drawdown_series(equity)
    assert (series <= 0).all()
    assert series[0] == 0.0
    assert drawdown == series.min()


@settings(max_examples=300, deadline=None)
@given(
    returns=st.lists(st.floats(-0.5, 0.5), min_size=1, max_size=100),
    level=st.floats(0.5, 0.999),
)
def test_cvar_is_at_most_var(returns, level):
    var = value_at_risk(returns, level)
    cvar = conditional_value_at_risk(returns, level)
    assert min(returns) <= cvar <= var <= max(returns)


@settings(max_examples=200, deadline=None)
@given(
    pnls=st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), max_size=50),
    scale=st.floats(1e-3, 1e3),
)
def test_trade_statistics_are_bounded_and_scale_free(pnls, scale):
    rate, factor = win_rate(pnls), profit_factor(pnls)
    if pnls:
        assert 0.0 <= rate <= 1.0
    assume(not math.isnan(factor) and not math.isinf(factor))
    assert factor >= 0.0
    assert profit_factor([scale * p for p in pnls]) == pytest.approx(factor, rel=1e-9)


# --- edge cases ------------------------------------------------------------------------------


def test_constant_equity():
    metrics = compute_metrics([100.0] * 10)
    assert metrics["total_return"] == 0.0
    assert metrics["cagr"] == 0.0
    assert metrics["volatility"] == 0.0
    assert metrics["max_drawdown"] == 0.0
    for key in ("sharpe", "sortino", "calmar"):
        assert math.isnan(metrics[key]), key
    assert metrics["var_95"] == 0.0
    assert metrics["cvar_95"] == 0.0


def test_constant_growth_has_no_risk_to_divide_by():
    # returns all 1 % up to float rounding: the standard deviation is noise, not risk
    equity = 100 * 1.01 ** np.arange(30)
    assert volatility(simple_returns(equity), 252) == approx(0.0)
    assert math.isnan(sharpe(simple_returns(equity), 252))
    assert math.isnan(sortino(simple_returns(equity), 252))
    assert math.isnan(calmar(equity, 252))


def test_two_values_have_one_return():
    metrics = compute_metrics([100.0, 90.0], periods_per_year=1)
    assert metrics["total_return"] == approx(-0.1)
    assert metrics["cagr"] == approx(-0.1)
    assert metrics["max_drawdown"] == approx(-0.1)
    assert metrics["calmar"] == approx(-1.0)
    assert metrics["var_95"] == approx(-0.1)
    for key in ("volatility", "sharpe", "sortino"):
        assert math.isnan(metrics[key]), key


def test_no_trades():
    assert n_trades([]) == 0
    for func in (win_rate, profit_factor, average_trade):
        assert math.isnan(func([])), func.__name__
    metrics = compute_metrics(EQUITY, trade_pnls=[])
    assert metrics["n_trades"] == 0
    assert math.isnan(metrics["win_rate"])


def test_profit_factor_without_losses():
    assert profit_factor([10.0, 5.0]) == math.inf
    assert profit_factor([10.0, 0.0]) == math.inf
    assert math.isnan(profit_factor([0.0, 0.0]))
    assert win_rate([0.0, 0.0]) == 0.0
    assert profit_factor([-10.0]) == 0.0


def test_empty_inputs():
    assert math.isnan(value_at_risk([]))
    assert math.isnan(conditional_value_at_risk([]))
    assert math.isnan(volatility([], 252))
    assert math.isnan(exposure([]))
    assert math.isnan(downside_deviation([]))


def test_a_huge_gain_over_a_short_span_overflows_to_inf():
    assert cagr([1.0, 1e6], 98_280) == math.inf


@pytest.mark.parametrize(
    ("equity", "message"),
    [
        ([100.0], "at least 2"),
        ([], "at least 2"),
        ([[100.0, 101.0], [102.0, 103.0]], "1-D"),
        ([100.0, math.nan, 101.0], "finite; element 1"),
        ([100.0, math.inf], "finite"),
        ([100.0, 0.0, 101.0], "positive; element 1"),
        ([100.0, -5.0], "positive"),
    ],
)
def test_bad_equity_is_refused(equity, message):
    with pytest.raises(ValueError, match=message):
        compute_metrics(equity)
    with pytest.raises(ValueError, match=message):
        max_drawdown(equity)


def test_nullable_series_with_missing_values_is_refused():
    with pytest.raises(ValueError, match="finite"):
        total_return(pd.Series([100.0, None, 110.0], dtype="Float64"))


@pytest.mark.parametrize("periods", [0, -252, math.nan, math.inf])
def test_bad_periods_per_year_is_refused(periods):
    with pytest.raises(ValueError, match="periods_per_year"):
        compute_metrics(EQUITY, periods_per_year=periods)
    with pytest.raises(ValueError, match="periods_per_year"):
        volatility(RETURNS, periods)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1])
def test_bad_level_is_refused(level):
    with pytest.raises(ValueError, match="level"):
        value_at_risk(RETURNS, level)


def test_bad_returns_risk_free_and_trades_are_refused():
    with pytest.raises(ValueError, match="returns must be finite"):
        sharpe([0.1, math.nan], 252)
    with pytest.raises(ValueError, match="risk_free"):
        compute_metrics(EQUITY, risk_free=math.nan)
    with pytest.raises(ValueError, match="trade_pnls must be finite"):
        compute_metrics(EQUITY, trade_pnls=[1.0, math.inf])
    with pytest.raises(ValueError, match="position must be 1-D"):
        compute_metrics(EQUITY, position=[[1.0]])
