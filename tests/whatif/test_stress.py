"""Stress scenarios: hand-worked portfolio P&L, the construction of stressed paths, presets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from core.instruments import AssetClass
from core.whatif import (
    STRESS_SCENARIOS,
    StressScenario,
    stress_equity,
    stress_portfolio,
    stress_returns,
)

CRASH = StressScenario(
    name="test_crash",
    price_shock=-0.20,
    shock_days=4,
    vol_multiplier=2.0,
    duration_days=3,
    asset_class_shocks={"Crypto": -0.50},
)


# --- portfolio --------------------------------------------------------------------------------


def test_two_position_portfolio_loss_by_hand():
    positions = {"AAPL": (10_000.0, "stock"), "BTC": (5_000.0, AssetClass.CRYPTO)}
    report = stress_portfolio(positions, cash=2_000.0, scenario=CRASH)
    assert list(report.to_dict()) == [
        "scenario",
        "positions",
        "total_pnl",
        "equity_before",
        "equity_after",
        "return",
    ]  # the JSON keys of before the typed result
    assert list(report.to_dict()["positions"]["AAPL"]) == [
        "market_value",
        "asset_class",
        "shock",
        "pnl",
        "value_after",
    ]
    assert report.to_dict()["return"] == report.total_return
    # AAPL: 10,000 × -20 % = -2,000; BTC: 5,000 × -50 % = -2,500.
    assert report.positions["AAPL"].pnl == pytest.approx(-2_000.0)
    assert report.positions["AAPL"].shock == -0.20
    assert report.positions["BTC"].pnl == pytest.approx(-2_500.0)
    assert report.positions["BTC"].value_after == pytest.approx(2_500.0)
    assert report.total_pnl == pytest.approx(-4_500.0)
    assert report.equity_before == pytest.approx(17_000.0)
    assert report.equity_after == pytest.approx(12_500.0)
    assert report.total_return == pytest.approx(-4_500.0 / 17_000.0)
    assert json.loads(json.dumps(report.to_dict())) == report.to_dict()


def test_a_short_gains_and_an_unclassified_position_takes_the_general_shock():
    report = stress_portfolio({"SPY": (-3_000.0, None), "XYZ": (1_000.0, "bond")}, 4_000.0, CRASH)
    assert report.positions["SPY"].pnl == pytest.approx(600.0)
    assert report.positions["XYZ"].pnl == pytest.approx(-200.0)
    assert report.total_pnl == pytest.approx(400.0)
    assert report.equity_before == pytest.approx(2_000.0)


def test_return_is_none_without_positive_equity():
    report = stress_portfolio({"A": (100.0, None)}, cash=-100.0, scenario=CRASH)
    assert report.total_return is None
    assert report.total_pnl == pytest.approx(-20.0)


# --- stressed paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", [CRASH, *STRESS_SCENARIOS.values()], ids=lambda s: s.name)
def test_shock_window_compounds_to_the_shock_when_history_is_flat(scenario):
    stressed = stress_returns(np.zeros(300), scenario)
    window = stressed[: scenario.shock_days]
    assert np.prod(1.0 + window) == pytest.approx(1.0 + scenario.price_shock, rel=1e-12)
    np.testing.assert_allclose(stressed[scenario.shock_days :], 0.0, atol=1e-15)


def test_shock_is_compounded_onto_what_the_history_did():
    history = np.random.default_rng(0).normal(0.001, 0.01, 100)
    calm = CRASH.model_copy(update={"vol_multiplier": 1.0})
    stressed = stress_returns(history, calm)
    growth = np.prod(1.0 + stressed[:4]) / np.prod(1.0 + history[:4])
    assert growth == pytest.approx(0.8, rel=1e-12)
    np.testing.assert_array_equal(stressed[4:], history[4:])


def test_volatility_is_scaled_around_the_mean_for_the_shock_and_the_aftermath():
    history = np.random.default_rng(1).normal(0.001, 0.01, 50)
    mean = history.mean()
    stressed = stress_returns(history, CRASH)
    aftermath = slice(4, 7)
    np.testing.assert_allclose(stressed[aftermath] - mean, 2.0 * (history[aftermath] - mean))
    shock_days = (1.0 + stressed[:4]) / (1.0 + CRASH.daily_shock) - 1.0
    np.testing.assert_allclose(shock_days - mean, 2.0 * (history[:4] - mean))
    np.testing.assert_array_equal(stressed[7:], history[7:])


def test_short_history_is_extended_by_seeded_draws():
    history = np.array([0.01, -0.02, 0.005])
    first = stress_returns(history, STRESS_SCENARIOS["covid_2020"], seed=3)
    assert len(first) == 23 + 40
    np.testing.assert_array_equal(
        first, stress_returns(history, STRESS_SCENARIOS["covid_2020"], seed=3)
    )
    assert not np.array_equal(
        first, stress_returns(history, STRESS_SCENARIOS["covid_2020"], seed=4)
    )


def test_huge_volatility_cannot_push_a_return_below_minus_one():
    wild = StressScenario(name="wild", price_shock=-0.5, vol_multiplier=50.0, duration_days=10)
    stressed = stress_returns(np.array([0.05, -0.05] * 10), wild)
    assert stressed.min() >= -1.0


def test_stressed_flat_equity_loses_exactly_the_shock():
    result = stress_equity(np.full(60, 250.0), STRESS_SCENARIOS["gfc_2008"])
    assert result.equity[0] == 250.0
    assert len(result.equity) == 120 + 120 + 1  # 59 returns extended to the stress window
    assert result.total_return == pytest.approx(-0.45, rel=1e-12)
    assert result.max_drawdown == pytest.approx(-0.45, rel=1e-12)


def test_stressed_equity_is_the_compounded_stressed_returns():
    equity = 100.0 * np.cumprod(1.0 + np.random.default_rng(2).normal(0.0005, 0.01, 400))
    result = stress_equity(equity, STRESS_SCENARIOS["correction"])
    np.testing.assert_allclose(result.equity[1:] / result.equity[:-1] - 1.0, result.returns)
    assert result.equity[0] == equity[0]
    assert result.max_drawdown <= -0.10
    assert result.total_return == pytest.approx(result.equity[-1] / equity[0] - 1.0)


# --- the model and the presets ----------------------------------------------------------------


def test_presets_have_the_documented_shapes():
    expected = {
        "gfc_2008": (-0.45, 120, 3.0),
        "covid_2020": (-0.34, 23, 4.0),
        "flash_crash": (-0.09, 1, 2.0),
        "correction": (-0.12, 30, 1.5),
        "stagflation": (-0.25, 250, 1.3),
    }
    got = {n: (s.price_shock, s.shock_days, s.vol_multiplier) for n, s in STRESS_SCENARIOS.items()}
    assert got == expected
    assert STRESS_SCENARIOS["flash_crash"].duration_days == 5
    assert all(name == s.name and s.description for name, s in STRESS_SCENARIOS.items())


def test_asset_class_keys_are_case_insensitive():
    assert CRASH.asset_class_shocks == {"crypto": -0.5}
    assert CRASH.shock_for("CRYPTO") == CRASH.shock_for(AssetClass.CRYPTO) == -0.5
    assert CRASH.shock_for("stock") == CRASH.shock_for(None) == -0.2


def test_scenario_is_frozen_and_validated():
    with pytest.raises(ValidationError):
        CRASH.price_shock = -0.1
    base = {"name": "x", "price_shock": -0.1}
    bad_values = [
        {"price_shock": -1.0},
        {"shock_days": 0},
        {"vol_multiplier": 0.0},
        {"duration_days": -1},
        {"asset_class_shocks": {"crypto": -1.2}},
        {"unknown": 1},
        {"name": ""},
    ]
    for bad in bad_values:
        with pytest.raises(ValidationError):
            StressScenario(**{**base, **bad})
