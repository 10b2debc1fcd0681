"""The SMA crossover sweep gives exactly the event engine's and the vectorized path's
final equity and trade count, pair by pair; its paths give the engine's equity curve, trade
P&L and fills."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import (
    BacktestEngine,
    MarketFrame,
    run_vectorized,
    sma_crossover_paths,
    sma_crossover_sweep,
)
from core.backtest._sweep import _crossings
from core.execution import CommissionModel, ExecutionConfig
from core.instruments import Instrument
from core.marketdata import load_bundled
from core.strategies import get_strategy
from core.strategies.builtin._signals import cross_signs, sma_array

INSTRUMENTS = {"X": Instrument(symbol="X")}
CASH, RATE = 100_000.0, 0.001
FASTS, SLOWS = range(5, 51), range(20, 201)


def engines(market: MarketFrame, fast: int, slow: int, long_short: bool, cash: float = CASH):
    """Final equity and positions opened by the event engine and the vectorized path."""
    execution = ExecutionConfig(commission=CommissionModel(rate=RATE))
    cls = get_strategy("sma_crossover")
    params = {"fast": fast, "slow": slow, "long_short": long_short}
    event = BacktestEngine(cls(**params), market, INSTRUMENTS, cash=cash, execution=execution)
    event_run = event.run()
    vector = run_vectorized(cls(**params), market, INSTRUMENTS, cash=cash, execution=execution)
    opened = len(event_run.trades.closed) + len(event_run.trades.open_trades())
    return event_run.equity[-1], vector.equity[-1], opened


@pytest.fixture(scope="module")
def spx() -> pd.DataFrame:
    return load_bundled("SPX")


@pytest.fixture(scope="module")
def spx_market(spx) -> MarketFrame:
    return MarketFrame.from_bars({"X": spx})


@pytest.fixture(scope="module")
def grid(spx) -> dict[bool, pd.DataFrame]:
    o, c = spx["open"].to_numpy(), spx["close"].to_numpy()
    return {
        ls: sma_crossover_sweep(o, c, FASTS, SLOWS, cash=CASH, commission_rate=RATE, long_short=ls)
        for ls in (False, True)
    }


def test_the_issue_grid_has_every_pair_with_fast_below_slow(grid):
    table = grid[False]
    assert list(table.columns) == ["fast", "slow", "final_equity", "n_trades", "total_return"]
    assert len(table) == 7830
    assert (table["fast"] < table["slow"]).all()
    assert not table.duplicated(["fast", "slow"]).any()
    assert table[["fast", "slow"]].equals(
        table[["fast", "slow"]].sort_values(["fast", "slow"], ignore_index=True)
    )
    np.testing.assert_array_equal(table["total_return"], table["final_equity"] / CASH - 1)
    assert (table["n_trades"] > 0).all()


@pytest.mark.parametrize(("long_short", "n"), [(False, 30), (True, 12)])
def test_final_equity_is_the_engines_bit_for_bit(grid, spx_market, long_short, n):
    sample = grid[long_short].sample(n, random_state=7 + long_short)
    for row in sample.itertuples():
        event, vector, opened = engines(spx_market, row.fast, row.slow, long_short)
        assert row.final_equity == event == vector, (row.fast, row.slow)
        assert row.n_trades == opened, (row.fast, row.slow)


def test_crossings_follow_cross_signs_with_ties_and_zero_runs():
    rng = np.random.default_rng(3)
    # integer prices on a small range: many exact ties between the averages
    close = rng.integers(10, 14, size=600).astype(float)
    fasts = [2, 3, 4, 5, 6]
    slow = 8
    fast = np.array([sma_array(close, f) for f in fasts])
    rows, bars, dirs = _crossings(fast, sma_array(close, slow))
    assert len(rows) > 50
    for r, f in enumerate(fasts):
        expected = cross_signs(sma_array(close, f), sma_array(close, slow))
        got = np.zeros(len(close), dtype=int)
        got[bars[rows == r]] = dirs[rows == r]
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("long_short", [False, True])
def test_a_tied_series_matches_the_engines(long_short):
    rng = np.random.default_rng(5)
    close = 100 + np.cumsum(rng.integers(-1, 2, size=400)).astype(float)
    open_ = np.r_[close[0], close[:-1]] + rng.integers(-1, 2, size=400)
    index = pd.bdate_range("2020-01-01", periods=400)
    bars = pd.DataFrame(
        {"open": open_, "high": np.maximum(open_, close), "low": np.minimum(open_, close)}
        | {"close": close, "volume": 1.0},
        index=index,
    )
    market = MarketFrame.from_bars({"X": bars})
    table = sma_crossover_sweep(
        open_, close, [2, 3, 5], [6, 9], cash=CASH, commission_rate=RATE, long_short=long_short
    )
    assert len(table) == 6
    for row in table.itertuples():
        event, vector, opened = engines(market, row.fast, row.slow, long_short)
        assert row.final_equity == event == vector
        assert row.n_trades == opened


def test_a_short_that_cash_cannot_buy_back_stays_open_as_in_the_engine():
    # rises, falls (fast crosses below: go short), then gaps up 10x: the buy back is
    # rejected for want of cash, and the short stays open to the end
    close = np.r_[np.linspace(90, 100, 30), np.linspace(100, 80, 20), np.full(30, 1000.0)]
    index = pd.bdate_range("2020-01-01", periods=len(close))
    bars = pd.DataFrame({f: close for f in ("open", "high", "low", "close")}, index=index)
    market = MarketFrame.from_bars({"X": bars.assign(volume=1.0)})
    table = sma_crossover_sweep(
        close, close, [3], [10], cash=CASH, commission_rate=RATE, long_short=True
    )
    event, vector, opened = engines(market, 3, 10, True)
    assert table["final_equity"].iloc[0] == event == vector
    assert table["n_trades"].iloc[0] == opened == 1
    assert event < 0  # still short at the end


def test_units_rounded_up_past_cash_are_cut_as_by_the_sizer():
    # cash / (1000 × 1.001) is 1e-11 short of 100: the floor's + 1e-9 gives 100 units,
    # whose cost and commission exceed cash, and the sizer cuts them to 99
    cash = 100_100.0 - 1e-8
    close = np.r_[np.linspace(1010, 990, 20), np.linspace(990, 1010, 20)]
    open_ = np.full(len(close), 1000.0)
    index = pd.bdate_range("2020-01-01", periods=len(close))
    bars = pd.DataFrame({"open": open_, "high": 1010.0, "low": 990.0, "close": close}, index=index)
    market = MarketFrame.from_bars({"X": bars.assign(volume=1.0)})
    execution = ExecutionConfig(commission=CommissionModel(rate=RATE))
    cls = get_strategy("sma_crossover")
    run = BacktestEngine(cls(fast=2, slow=5), market, INSTRUMENTS, cash=cash, execution=execution)
    event = run.run()
    assert [x.quantity for x in event.broker.executions] == [99.0]
    table = sma_crossover_sweep(open_, close, [2], [5], cash=cash, commission_rate=RATE)
    assert table["final_equity"].iloc[0] == event.equity[-1]
    assert table["n_trades"].iloc[0] == 1


def test_cash_below_one_unit_never_trades(spx):
    o, c = spx["open"].to_numpy(), spx["close"].to_numpy()
    table = sma_crossover_sweep(o, c, [10], [50, 100], cash=500.0, commission_rate=RATE)
    assert (table["n_trades"] == 0).all()
    assert (table["final_equity"] == 500.0).all()


def test_no_pair_gives_an_empty_table():
    close = np.linspace(1, 2, 100)
    table = sma_crossover_sweep(close, close, [50], [20], cash=CASH, commission_rate=RATE)
    assert table.empty
    assert list(table.columns) == ["fast", "slow", "final_equity", "n_trades", "total_return"]


@pytest.mark.parametrize(
    ("open_", "close"),
    [
        (np.ones(10), np.ones(9)),
        (np.ones(10), np.r_[np.ones(9), np.nan]),
        (np.ones(10), np.r_[np.ones(9), -1.0]),
        (np.ones((10, 2)), np.ones((10, 2))),
    ],
)
def test_bad_prices_are_refused(open_, close):
    with pytest.raises(ValueError):
        sma_crossover_sweep(open_, close, [2], [5], cash=CASH, commission_rate=RATE)


def test_bad_settings_are_refused():
    close = np.linspace(1, 2, 100)
    with pytest.raises(ValueError):
        sma_crossover_sweep(close, close, [], [5], cash=CASH, commission_rate=RATE)
    with pytest.raises(ValueError):
        sma_crossover_sweep(close, close, [2], [5], cash=0.0, commission_rate=RATE)
    with pytest.raises(ValueError):
        sma_crossover_sweep(close, close, [2], [5], cash=CASH, commission_rate=-0.1)


PATH_POINTS = [(5, 20, False), (5, 20, True), (10, 50, True), (46, 166, False), (30, 31, True)]


def test_paths_replay_the_engines_fills_equity_and_trades(spx, spx_market):
    o, c = spx["open"].to_numpy(), spx["close"].to_numpy()
    fasts, slows, flags = (np.array(v) for v in zip(*PATH_POINTS, strict=True))
    paths = sma_crossover_paths(o, c, fasts, slows, flags, cash=CASH, commission_rate=RATE)
    equity, qty = paths.curves()
    execution = ExecutionConfig(commission=CommissionModel(rate=RATE))
    cls = get_strategy("sma_crossover")
    for i, (fast, slow, long_short) in enumerate(PATH_POINTS):
        strategy = cls(fast=fast, slow=slow, long_short=long_short)
        run = BacktestEngine(strategy, spx_market, INSTRUMENTS, cash=CASH, execution=execution)
        raw = run.run()
        np.testing.assert_array_equal(equity[i], raw.equity)  # bit for bit
        np.testing.assert_array_equal(qty[i] * c, raw.position)  # position value at each close
        mine = paths.pair == i
        closed = mine & ~np.isnan(paths.pnl_net)
        np.testing.assert_array_equal(paths.pnl_net[closed], [t[8] for t in raw.trades.closed])
        np.testing.assert_array_equal(paths.bar[closed], [t[3] for t in raw.trades.closed])
        fills = raw.broker.executions
        assert paths.n_fills[mine].sum() == len(fills)
        notional = sum(x.quantity * x.price for x in fills)
        assert paths.notional[mine].sum() == pytest.approx(notional, rel=1e-14)


def test_paths_cut_at_a_stop_equal_a_run_on_the_first_bars(spx):
    o, c = spx["open"].to_numpy(), spx["close"].to_numpy()
    fasts, slows = np.array([5, 12, 30]), np.array([20, 90, 31])
    whole = sma_crossover_paths(o, c, fasts, slows, True, cash=CASH, commission_rate=RATE)
    head = sma_crossover_paths(
        o[:1500], c[:1500], fasts, slows, True, cash=CASH, commission_rate=RATE
    )
    np.testing.assert_array_equal(whole.curves(stop=1500)[0], head.curves()[0])
    np.testing.assert_array_equal(whole.curves(slice(1, 2))[0], whole.curves()[0][1:2])


def test_paths_of_a_repeated_pair_are_computed_once_and_returned_for_each(spx):
    o, c = spx["open"].to_numpy()[:800], spx["close"].to_numpy()[:800]
    calls = []

    def sma(window):
        calls.append(window)
        return sma_array(c, window)

    paths = sma_crossover_paths(
        o,
        c,
        [5, 5, 5],
        [20, 20, 20],
        [False, True, False],
        cash=CASH,
        commission_rate=RATE,
        sma=sma,
    )
    equity, _ = paths.curves()
    np.testing.assert_array_equal(equity[0], equity[2])
    assert not np.array_equal(equity[0], equity[1])  # shorting changes the run
    assert sorted(calls) == [5, 20]


def test_paths_refuse_pairs_with_fast_not_below_slow():
    with pytest.raises(ValueError, match="fast below slow"):
        sma_crossover_paths(np.ones(10), np.ones(10), [5], [5], cash=CASH, commission_rate=RATE)
