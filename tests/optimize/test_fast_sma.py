"""The fast SMA crossover evaluator gives exactly the event engine's and the vectorized
path's metrics and equity, on whole runs and on windows; other configurations fall back."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig, MarketFrame
from core.execution import CommissionModel, ExecutionConfig, SlippageModel
from core.instruments import Instrument
from core.marketdata import load_bundled
from core.optimize import BacktestEvaluator
from core.optimize._fast_sma import FastSmaCrossover, supports

INSTRUMENTS = {"X": Instrument(symbol="X")}
EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.001))
POINTS = [
    ({"fast": 5, "slow": 20}, None),
    ({"fast": 10, "slow": 50, "long_short": True}, None),
    ({"fast": 37, "slow": 183}, None),
    ({"fast": 2, "slow": 3, "long_short": True}, None),
    ({"fast": 12, "slow": 90}, slice(1000, 2500)),
    ({"fast": 8, "slow": 40, "long_short": True}, slice(2400, 4000)),
]


@pytest.fixture(scope="module")
def market() -> MarketFrame:
    return MarketFrame.from_bars({"X": load_bundled("SPX").iloc[:4000]})


def evaluators(market, cash=100_000.0, execution=EXECUTION):
    config = BacktestConfig(
        strategy="sma_crossover", symbols=("X",), cash=cash, execution=execution
    )
    return (
        BacktestEvaluator(config, market, INSTRUMENTS),
        BacktestEvaluator(config, market, INSTRUMENTS, fast=False),
        BacktestEvaluator(config, market, INSTRUMENTS, vectorized=False),
    )


def assert_same_metrics(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key] or (math.isnan(a[key]) and math.isnan(b[key])), key


@pytest.mark.parametrize(("params", "window"), POINTS)
def test_fast_metrics_and_equity_equal_the_event_engine_and_the_vectorized_path(
    market, params, window
):
    fast, vectorized, event = (e.on(window) for e in evaluators(market))
    assert fast.simulator is not None and vectorized.simulator is None
    metrics, equity = fast.run(params)
    for other in (vectorized, event):
        other_metrics, other_equity = other.run(params)
        assert_same_metrics(metrics, other_metrics)
        np.testing.assert_array_equal(equity.to_numpy(), other_equity.to_numpy())
    assert metrics["n_trades"] > 0


def test_fast_path_matches_when_cash_is_tight_and_commission_high(market):
    execution = ExecutionConfig(commission=CommissionModel(rate=0.02))
    fast, _, event = evaluators(market, cash=3_000.0, execution=execution)
    for params in ({"fast": 3, "slow": 11, "long_short": True}, {"fast": 20, "slow": 30}):
        assert_same_metrics(fast(params), event(params))


def test_unsupported_configurations_use_the_engines(market):
    slipping = ExecutionConfig(slippage=SlippageModel(bps=5.0))
    assert evaluators(market, execution=slipping)[0].simulator is None
    config = BacktestConfig(strategy="sma_crossover", symbols=("X",))
    futures = {"X": Instrument(symbol="X", multiplier=50.0)}
    assert not supports(config, futures)
    assert not supports(config.model_copy(update={"strategy": "momentum"}), INSTRUMENTS)
    assert supports(config, INSTRUMENTS)


def test_moving_averages_are_cached_once_per_window_and_not_pickled(market):
    fast = evaluators(market)[0]
    fast({"fast": 10, "slow": 50})
    fast.on(slice(100, 900))({"fast": 10, "slow": 60})
    assert set(fast.simulator._smas) == {10, 50, 60}  # windows share the simulator
    assert fast.simulator.__getstate__()["_smas"] == {}
    clone = pickle.loads(pickle.dumps(fast))
    assert clone.simulator._smas is fast.simulator._smas  # one cache per series per process
    assert_same_metrics(clone({"fast": 10, "slow": 50}), fast({"fast": 10, "slow": 50}))


def test_a_hand_worked_single_trade():
    # Closes rise through a cross at bar 3; fill at bar 4's open (10), exit never comes.
    close = np.array([10.0, 9.0, 8.0, 12.0, 13.0, 14.0])
    open_ = np.array([10.0, 9.0, 8.0, 11.0, 10.0, 15.0])
    run = FastSmaCrossover(open_, close, cash=1_000.0, rate=0.01).run(2, 3)
    # units = floor(1000 / (10 × 1.01)) = 99; cash = 1000 − 990 − 9.9 = 0.1
    assert run.fills == [(4, 99.0, 10.0)]
    np.testing.assert_allclose(run.equity, [1000, 1000, 1000, 1000, 0.1 + 99 * 13, 0.1 + 99 * 14])


def assert_metrics_close(a: dict, b: dict, rel: float = 1e-9) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if math.isnan(a[key]) or math.isinf(a[key]) or key == "n_trades":
            assert a[key] == b[key] or (math.isnan(a[key]) and math.isnan(b[key])), key
        else:
            assert b[key] == pytest.approx(a[key], rel=rel, abs=1e-15), key


@pytest.mark.parametrize("window", [None, slice(1000, 2500), slice(2400, 4000)])
def test_a_batch_equals_the_event_engine_point_by_point(market, window):
    fast, _, event = (e.on(window) for e in evaluators(market))
    assert fast.batched and not event.batched
    points = [p for p, _ in POINTS] + [{"fast": 46, "slow": 166}, {"fast": 49, "slow": 50}]
    got = fast.evaluate_batch(points)
    for params, metrics in zip(points, got, strict=True):
        assert_metrics_close(event(params), metrics)
        assert_metrics_close(fast(params), metrics, rel=1e-12)


def test_a_batch_of_a_grid_matches_single_evaluations_on_sampled_points(market):
    fast = evaluators(market)[0]
    grid = [
        {"fast": f, "slow": s, "long_short": ls}
        for f in range(5, 51, 3)
        for s in range(20, 201, 7)
        for ls in (False, True)
        if f < s
    ]
    got = fast.evaluate_batch(grid)
    assert len(got) == len(grid) > 700
    for i in np.random.default_rng(2).choice(len(grid), 25, replace=False):
        assert_metrics_close(fast(grid[i]), got[i], rel=1e-12)


def test_a_run_whose_equity_falls_below_zero_gets_the_single_evaluations_error():
    # a short (all-in) through a tenfold gap: the buy back is rejected for want of cash and
    # equity goes negative, which compute_metrics refuses; the long-only run is measured
    close = np.r_[np.linspace(90, 100, 30), np.linspace(100, 80, 20), np.full(30, 1000.0)]
    index = pd.bdate_range("2020-01-01", periods=len(close))
    bars = pd.DataFrame({f: close for f in ("open", "high", "low", "close")}, index=index)
    market = MarketFrame.from_bars({"X": bars.assign(volume=1.0)})
    fast = evaluators(market)[0]
    short, flat = {"fast": 2, "slow": 5, "long_short": True}, {"fast": 2, "slow": 5}
    with pytest.raises(ValueError, match="equity must be positive") as single:
        fast(short)
    bad, good = fast.evaluate_batch([short, flat])
    assert isinstance(bad, ValueError) and str(bad) == str(single.value)
    assert_metrics_close(fast(flat), good, rel=1e-12)


def test_a_config_option_the_fast_path_does_not_model_turns_it_off():
    config = BacktestConfig(strategy="sma_crossover", symbols=("X",))
    assert supports(config, INSTRUMENTS)
    assert not supports(config.model_copy(update={"cash": 5.0, "risk_free": 0.01}), {})


@pytest.mark.parametrize("window", [None, slice(1000, 2500)])
def test_batched_equity_curves_are_the_single_runs(market, window):
    fast = evaluators(market)[0].on(window)
    points = [p for p, _ in POINTS]
    for params, curve in zip(points, fast.equity_batch(points), strict=True):
        np.testing.assert_array_equal(curve, fast.run(params)[1].to_numpy())


def test_a_batch_not_checked_by_a_search_is_validated_by_the_params_model(market):
    fast = evaluators(market)[0]
    with pytest.raises(ValueError, match="fast \\(50\\) must be shorter than slow"):
        fast.evaluate_batch([{"fast": 10, "slow": 30}, {"fast": 50, "slow": 20}])
    checked = fast.evaluate_batch([{"fast": 10, "slow": 30, "long_short": False}], checked=True)
    assert_metrics_close(fast({"fast": 10, "slow": 30}), checked[0], rel=1e-12)
