"""Trades: closed round trips carry status "closed"; a position still open at the end is
listed apart with status "open", marked at the last close, charged only what it paid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig, BacktestEngine, MarketFrame, build_result, run_vectorized
from core.backtest._trades import TRADE_COLUMNS, TradeTracker
from core.execution import CommissionModel, ExecutionConfig
from core.instruments import Instrument
from core.strategies.builtin.sma_crossover import SmaCrossover

INDEX = pd.bdate_range("2024-01-01", periods=8)


def test_an_open_trade_is_marked_at_the_last_close_with_its_partial_exits():
    tracker = TradeTracker({"X": 2.0})  # multiplier 2
    tracker.on_execution("X", 10, 100.0, 1.0, 1)  # buy 10 at 100, fee 1
    tracker.on_execution("X", 5, 110.0, 0.5, 2)  # add 5 at 110, fee 0.5
    tracker.on_execution("X", -6, 120.0, 0.6, 4)  # sell 6 at 120, fee 0.6
    (row,) = tracker.open_frame(INDEX, {"X": 90.0}).to_dict("records")
    # entry = (10·100 + 5·110) / 15 = 103.333…; exits: 6 at 120 and the 9 held marked at 90
    entry = 1550 / 15
    pnl = (6 * 120 + 9 * 90 - entry * 15) * 2.0
    assert row["status"] == "open" and row["direction"] == "long"
    assert row["entry_time"] == INDEX[1] and row["entry_bar"] == 1
    assert row["exit_time"] is None and row["exit_bar"] is None and row["exit_price"] is None
    assert row["qty"] == 15 and row["entry_price"] == pytest.approx(entry)
    assert row["pnl"] == pytest.approx(pnl)  # = (720 + 810 − 1550) × 2 = −40
    assert row["pnl"] == pytest.approx(-40.0)
    assert row["commission"] == pytest.approx(2.1)  # paid so far: no fee for the mark
    assert row["pnl_net"] == pytest.approx(-42.1)
    assert tracker.frame(INDEX).empty


def test_an_open_short_gains_when_the_price_falls():
    tracker = TradeTracker({"X": 1.0})
    tracker.on_execution("X", -3, 50.0, 0.0, 2)
    (row,) = tracker.open_frame(INDEX, {"X": 40.0}).to_dict("records")
    assert (row["direction"], row["pnl"], row["pnl_net"]) == ("short", 30.0, 30.0)


def test_closed_trades_say_closed_and_nothing_open_gives_an_empty_frame():
    tracker = TradeTracker({"X": 1.0})
    tracker.on_execution("X", 2, 10.0, 0.0, 1)
    tracker.on_execution("X", -2, 12.0, 0.0, 3)
    closed = tracker.frame(INDEX)
    assert closed["status"].tolist() == ["closed"] and closed["pnl"].tolist() == [4.0]
    empty = tracker.open_frame(INDEX, {"X": 12.0})
    assert empty.empty and list(empty.columns) == TRADE_COLUMNS


@pytest.mark.parametrize("vectorized", [False, True])
def test_a_backtest_ending_in_a_position_lists_it_and_its_metrics_use_closed_trades(vectorized):
    # SMA2/SMA3: cross up at bar 4 (close 11) → buy at bar 5's open; the exit signal of
    # bar 7 (the last bar) is never filled, so the position is open at the end
    closes = np.array([10, 9, 8, 9, 11, 12, 11, 9], dtype=float)
    bars = pd.DataFrame({f: closes for f in ("open", "high", "low", "close")}, index=INDEX)
    market = MarketFrame.from_bars({"X": bars.assign(volume=1.0)})
    instruments = {"X": Instrument(symbol="X")}
    execution = ExecutionConfig(commission=CommissionModel(rate=0.01))
    strategy = SmaCrossover(fast=2, slow=3)
    options = {"cash": 1000.0, "execution": execution}
    if vectorized:
        raw = run_vectorized(strategy, market, instruments, **options)
    else:
        raw = BacktestEngine(strategy, market, instruments, **options).run()
    config = BacktestConfig(strategy="sma_crossover", symbols=("X",), cash=1000.0)
    result = build_result(config, raw)
    # all-in at 12: floor(1000 / (12 × 1.01)) = 82 units, fee 82 × 12 × 0.01 = 9.84
    (row,) = result.open_trades.to_dict("records")
    assert (row["qty"], row["entry_price"], row["entry_time"]) == (82, 12.0, INDEX[5])
    assert row["pnl"] == pytest.approx((9 - 12) * 82)  # marked at the last close, 9
    assert row["commission"] == pytest.approx(9.84)
    assert row["pnl_net"] == pytest.approx(-246 - 9.84)
    assert result.trades.empty and result.metrics["n_trades"] == 0
    assert math.isnan(result.metrics["win_rate"])
    every = result.all_trades()
    assert every["status"].tolist() == ["open"]
    # the open trade's P&L is what the equity shows: cash + 82 × 9 − starting cash
    assert result.final_equity - 1000.0 == pytest.approx(row["pnl_net"])
