"""BacktestEvaluator: real backtests as evaluate callables, whole runs and windows."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import numpy as np
import pytest

from core.backtest import BacktestConfig, MarketFrame, build_result, run_vectorized
from core.instruments import Instrument
from core.marketdata import SyntheticMarket, preset
from core.optimize import (
    BacktestEvaluator,
    Objective,
    SearchSpace,
    grid_search,
    walk_forward,
    walk_forward_splits,
)
from core.strategies import get_strategy

INSTRUMENTS = {"X": Instrument(symbol="X")}
PARAMS = {"fast": 10, "slow": 50}


@pytest.fixture(scope="module")
def evaluator() -> BacktestEvaluator:
    bars = SyntheticMarket(preset("equity"), seed=11).bars("2015-01-02", 750)
    market = MarketFrame.from_bars({"X": bars})
    config = BacktestConfig(strategy="sma_crossover", symbols=("X",))
    return BacktestEvaluator(config, market, INSTRUMENTS)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        x == y or (math.isnan(x) and math.isnan(y))
        for x, y in zip(a.values(), b.values(), strict=True)
    )


def test_whole_run_metrics_are_the_backtest_results(evaluator):
    strategy = get_strategy("sma_crossover")(**PARAMS)
    raw = run_vectorized(strategy, evaluator.market, INSTRUMENTS, cash=evaluator.config.cash)
    expected = build_result(evaluator.config.model_copy(update={"params": PARAMS}), raw).metrics

    assert same(evaluator(PARAMS), expected)
    assert same(replace(evaluator, vectorized=False)(PARAMS), expected)


def test_a_window_is_measured_from_the_close_before_it(evaluator):
    strategy = get_strategy("sma_crossover")(**PARAMS)
    raw = run_vectorized(strategy, evaluator.market, INSTRUMENTS, cash=evaluator.config.cash)

    metrics, equity = evaluator.on(slice(300, 400)).run(PARAMS)

    np.testing.assert_array_equal(equity.to_numpy(), raw.equity[299:400])
    assert equity.index[0] == evaluator.market.index[299]
    assert metrics["total_return"] == pytest.approx(raw.equity[399] / raw.equity[299] - 1)
    closed_in_window = [t for t in raw.trades.closed if 300 <= t[3] < 400]
    assert metrics["n_trades"] == len(closed_in_window)


def test_the_evaluator_pickles_for_worker_processes(evaluator):
    clone = pickle.loads(pickle.dumps(evaluator))

    assert same(clone(PARAMS), evaluator(PARAMS))


def test_grid_search_and_walk_forward_over_real_backtests(evaluator):
    space = SearchSpace.from_params(
        get_strategy("sma_crossover").Params, {"fast": (5, 20, 5), "slow": (30, 90, 30)}
    )
    objective = Objective("sharpe", constraints={"n_trades": (">=", 1)})

    result = grid_search(space, evaluator, objective=objective)

    assert result.n_trials == space.size == 24
    best = evaluator({**result.best_params})
    assert objective(best) == result.best_score

    def optimize_on(window):
        return grid_search(space, evaluator.on(window), objective=objective).best_params

    splits = walk_forward_splits(evaluator.market.n_bars, train=250, test=125)
    run = walk_forward(lambda p, w: evaluator.evaluate_on(p, w, objective), optimize_on, splits)
    assert len(run.windows) == 4
    assert len(run.equity) == 4 * 125 + 1
    assert run.equity.index.is_unique


def test_evaluations_carry_their_equity_curve_through_pickling(evaluator):
    measured = pickle.loads(pickle.dumps(evaluator(PARAMS)))
    np.testing.assert_array_equal(measured.equity, evaluator.run(PARAMS)[1].to_numpy())
    assert dict(measured) == evaluator.run(PARAMS)[0] or same(
        dict(measured), evaluator.run(PARAMS)[0]
    )


def test_the_overfitting_guard_uses_the_kept_curves_and_matches_a_rerun(ws, monkeypatch):
    from core.optimize import run_optimization

    config = BacktestConfig(strategy="donchian", symbols=("SPX",), end="2008-12-31")
    options = {
        "method": "grid",
        "objective": Objective(metric="sharpe"),
        "ranges": {"entry": (10, 40, 10), "exit": (5, 15, 5), "long_short": (0, 0)},
        "trials": 12,
        "workers": 1,
    }
    runs = []
    original = BacktestEvaluator.run
    monkeypatch.setattr(
        BacktestEvaluator, "run", lambda self, p: runs.append(p) or original(self, p)
    )
    kept = run_optimization(ws.backtests, config, **options)
    assert len(runs) == 12 + 1  # the grid, then the best once more; no rerun for PBO
    monkeypatch.setattr("core.optimize._trials.KEPT_CURVES", 0)
    rerun = run_optimization(ws.backtests, config, **options)
    assert kept["pbo"] == rerun["pbo"] and kept["pbo"]["n_trials"] == 12
    assert len(runs) == 2 * 13 + 12  # without kept curves every top trial runs again
