"""The backtest conventions of docs/BACKTESTING.md, checked on small series worked by hand.

Every expected number below is computed in the comments, not by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestEngine, MarketFrame
from core.execution import CommissionModel, ExecutionConfig, OrderStatus
from core.instruments import Instrument
from core.strategies import Strategy
from core.strategies._indicators import SMA
from core.strategies.builtin._signals import sma_array
from core.strategies.builtin.sma_crossover import SmaCrossover


def bars(opens, closes, highs=None, lows=None, volume=None) -> pd.DataFrame:
    """A bars frame on consecutive days; high/low default to max/min(open, close) ± 0.5."""
    n = len(closes)
    index = pd.DatetimeIndex(pd.date_range("2024-01-01", periods=n, freq="D"), name="timestamp")
    highs = highs or [max(o, c) + 0.5 for o, c in zip(opens, closes, strict=True)]
    lows = lows or [min(o, c) - 0.5 for o, c in zip(opens, closes, strict=True)]
    volume = volume or [1e6] * n
    return pd.DataFrame(
        {"open": opens, "high": highs, "low": lows, "close": closes, "volume": volume},
        index=index,
        dtype=float,
    )


def run(strategy, frame, *, cash=1000.0, **execution):
    market = MarketFrame.from_bars({"X": frame})
    engine = BacktestEngine(
        strategy,
        market,
        {"X": Instrument(symbol="X")},
        cash=cash,
        execution=ExecutionConfig(**execution),
    )
    return engine.run()


class Script(Strategy):
    """Calls ``plan[i](ctx)`` at the close of bar i."""

    def __init__(self, plan):
        super().__init__()
        self.plan = plan

    def on_bar(self, ctx) -> None:
        if ctx.i in self.plan:
            self.plan[ctx.i](ctx)


# --------------------------------------------------------------------------------------
# The worked example: SMA(2) / SMA(3) crossover, all-in, 1 % commission, cash 1000.
#
# bar  open   close  SMA2    SMA3     fast−slow  signal at the close
#  0   10     10     –       –        –
#  1   10.5   11     10.5    –        –
#  2   11.5   12     11.5    11       +0.5       first sign: a trend in place, NOT entered
#  3   12     11     11.5    11.333   +0.167
#  4   10.5   10     10.5    11       −0.5       cross down → go flat (nothing held: no fill)
#  5   10     11     10.5    10.667   −0.167
#  6   11     13     12      11.333   +0.667     cross up → go long
#  7   12.5   12     12.5    12       +0.5
#  8   12     10     11      11.667   −0.667     cross down → go flat
#  9   9.5    11     10.5    11       −0.5
# 10   11     14     12.5    11.667   +0.833     cross up → go long
# 11   14.5   7      10.5    10.667   −0.167     cross down on the LAST bar → never filled
# --------------------------------------------------------------------------------------
OPENS = [10, 10.5, 11.5, 12, 10.5, 10, 11, 12.5, 12, 9.5, 11, 14.5]
CLOSES = [10, 11, 12, 11, 10, 11, 13, 12, 10, 11, 14, 7]
COSTS = {"commission": CommissionModel(kind="percent", rate=0.01)}


def crossover() -> SmaCrossover:
    return SmaCrossover(fast=2, slow=3)


def test_sma_is_the_mean_of_the_last_n_closes():
    sma = SMA(3)
    got = [sma.update(c) for c in CLOSES]
    assert all(math.isnan(v) for v in got[:2])
    # bar 2: (10 + 11 + 12) / 3 = 11; bar 6: (10 + 11 + 13) / 3 = 11.333…; bar 11: 32 / 3
    assert got[2] == pytest.approx(11.0, abs=1e-12)
    assert got[6] == pytest.approx(34 / 3, abs=1e-12)
    assert got[11] == pytest.approx(32 / 3, abs=1e-12)
    np.testing.assert_allclose(got[2:], sma_array(np.array(CLOSES, float), 3)[2:], atol=1e-12)


def test_crossover_signals_of_the_worked_example():
    # long on bars 6 and 10, flat on bars 4, 8 and 11; nothing on bar 2 (no earlier sign)
    signals = crossover().signals(np.array(CLOSES, float))
    expected = [np.nan] * 12
    expected[4] = expected[8] = expected[11] = 0.0
    expected[6] = expected[10] = 1.0
    np.testing.assert_array_equal(signals, expected)


def test_a_trend_in_place_at_the_start_is_not_entered():
    # Rising closes: fast > slow from the first bar both exist, so the sign never changes
    closes = [float(c) for c in range(10, 20)]
    raw = run(crossover(), bars(closes, closes), fill_timing="next_open")
    assert raw.broker.orders == {}
    assert raw.broker.executions == []
    np.testing.assert_array_equal(raw.equity, [1000.0] * 10)


def test_worked_example_next_open():
    raw = run(crossover(), bars(OPENS, CLOSES), **COSTS)
    fills = [(x.bar, str(x.side), x.quantity, x.price, x.commission) for x in raw.broker.executions]
    # bar 6 signal → bar 7 open 12.5: floor(1000 / (12.5 × 1.01)) = floor(79.21) = 79 shares,
    #   cost 987.50, commission 9.875 → cash 2.625
    # bar 8 signal → bar 9 open 9.5: sell 79 = 750.50, commission 7.505 → cash 745.62
    # bar 10 signal → bar 11 open 14.5: floor(745.62 / 14.645) = floor(50.91) = 50,
    #   cost 725, commission 7.25 → cash 13.37
    # bar 11 signal: never filled (no bar after it)
    assert fills == [
        (7, "buy", 79, 12.5, pytest.approx(9.875)),
        (9, "sell", 79, 9.5, pytest.approx(7.505)),
        (11, "buy", 50, 14.5, pytest.approx(7.25)),
    ]
    # equity = cash + shares × close:
    #   bars 0–6 flat: 1000; bar 7: 2.625 + 79 × 12 = 950.625; bar 8: 2.625 + 79 × 10 = 792.625
    #   bars 9–10 flat: 745.62; bar 11: 13.37 + 50 × 7 = 363.37
    expected = [1000.0] * 7 + [950.625, 792.625, 745.62, 745.62, 363.37]
    np.testing.assert_allclose(raw.equity, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(raw.cash[-1], 13.37, atol=1e-9)
    # one closed round trip: pnl 79 × (9.5 − 12.5) = −237; commission 9.875 + 7.505 = 17.38
    trades = raw.trades.frame(raw.market.index)
    assert len(trades) == 1
    trade = trades.iloc[0]
    assert (trade.direction, trade.entry_bar, trade.exit_bar, trade.qty) == ("long", 7, 9, 79)
    assert (trade.entry_price, trade.exit_price) == (12.5, 9.5)
    assert trade.pnl == pytest.approx(-237.0)
    assert trade.commission == pytest.approx(17.38)
    assert trade.pnl_net == pytest.approx(-254.38)
    # the last entry stays open, marked at the last close
    assert raw.ledger.quantity("X") == 50
    # the last bar's signal is an order that never filled
    last = max(raw.broker.orders.values(), key=lambda o: o.id)
    assert (last.created_at, last.target, last.status) == (11, 0, OrderStatus.OPEN)


def test_worked_example_same_close():
    raw = run(crossover(), bars(OPENS, CLOSES), fill_timing="same_close", **COSTS)
    fills = [(x.bar, str(x.side), x.quantity, x.price, x.commission) for x in raw.broker.executions]
    # bar 6 close 13: floor(1000 / 13.13) = 76, cost 988, commission 9.88 → cash 2.12
    # bar 8 close 10: sell 76 = 760, commission 7.60 → cash 754.52
    # bar 10 close 14: floor(754.52 / 14.14) = 53, cost 742, commission 7.42 → cash 5.10
    # bar 11 (last bar) close: not filled even with same_close
    assert fills == [
        (6, "buy", 76, 13.0, pytest.approx(9.88)),
        (8, "sell", 76, 10.0, pytest.approx(7.60)),
        (10, "buy", 53, 14.0, pytest.approx(7.42)),
    ]
    # bars 0–5: 1000; bar 6: 2.12 + 76 × 13 = 990.12; bar 7: 2.12 + 76 × 12 = 914.12;
    # bars 8–9: 754.52; bar 10: 5.10 + 53 × 14 = 747.10; bar 11: 5.10 + 53 × 7 = 376.10
    expected = [1000.0] * 6 + [990.12, 914.12, 754.52, 754.52, 747.10, 376.10]
    np.testing.assert_allclose(raw.equity, expected, rtol=0, atol=1e-9)
    trade = raw.trades.frame(raw.market.index).iloc[0]
    # pnl 76 × (10 − 13) = −228; commission 9.88 + 7.60 = 17.48; net −245.48
    assert (trade.entry_bar, trade.exit_bar) == (6, 8)
    assert trade.pnl == pytest.approx(-228.0)
    assert trade.pnl_net == pytest.approx(-245.48)


@pytest.mark.parametrize("timing", ["next_open", "same_close"])
def test_equity_is_cash_plus_position_marked_at_each_close(timing):
    raw = run(crossover(), bars(OPENS, CLOSES), fill_timing=timing, **COSTS)
    assert raw.equity[0] == 1000.0  # equity[0] = starting cash
    np.testing.assert_allclose(raw.equity, raw.cash + raw.position, rtol=0, atol=1e-9)
    # rebuild the position from the fills, bar by bar
    held, quantity = np.zeros(12), 0.0
    by_bar = {x.bar: x for x in raw.broker.executions}
    for i in range(12):
        if i in by_bar:
            x = by_bar[i]
            quantity += x.quantity if str(x.side) == "buy" else -x.quantity
        held[i] = quantity
    np.testing.assert_allclose(raw.position, held * np.array(CLOSES, float), atol=1e-9)


def test_market_order_fills_at_next_open_or_same_close():
    opens = [10.0, 11.0, 12.0, 13.0]
    closes = [10.5, 11.5, 12.5, 13.5]
    plan = {1: lambda ctx: ctx.buy(2)}
    # placed at bar 1's close: next_open → bar 2 open 12; same_close → bar 1 close 11.5
    nxt = run(Script(plan), bars(opens, closes), fill_timing="next_open")
    same = run(Script(plan), bars(opens, closes), fill_timing="same_close")
    assert [(x.bar, x.price) for x in nxt.broker.executions] == [(2, 12.0)]
    assert [(x.bar, x.price) for x in same.broker.executions] == [(1, 11.5)]
    # next_open: bar 2 equity = 1000 − 24 + 2 × 12.5 = 1001; same_close bar 1: 1000 − 23 + 23
    np.testing.assert_allclose(nxt.equity, [1000, 1000, 1001, 1003])
    np.testing.assert_allclose(same.equity, [1000, 1000, 1002, 1004])


@pytest.mark.parametrize("timing", ["next_open", "same_close"])
def test_an_order_placed_on_the_last_bar_never_fills(timing):
    opens = closes = [10.0, 10.0, 10.0]
    raw = run(Script({2: lambda ctx: ctx.go_long()}), bars(opens, closes), fill_timing=timing)
    assert raw.broker.executions == []
    assert raw.equity[-1] == 1000.0


def test_all_in_sizing_and_commission_on_entry_and_exit():
    # cash 1000, open 9.9, rate 0.2 %: floor(1000 / (9.9 × 1.002)) = floor(100.80) = 100
    # entry commission 100 × 9.9 × 0.002 = 1.98; exit at 10.9: 100 × 10.9 × 0.002 = 2.18
    # final cash = 1000 − 990 − 1.98 + 1090 − 2.18 = 1095.84
    opens = [10.0, 9.9, 10.4, 10.9]
    closes = [10.0, 10.2, 10.6, 11.0]
    plan = {0: lambda ctx: ctx.go_long(), 2: lambda ctx: ctx.go_flat()}
    raw = run(
        Script(plan), bars(opens, closes), commission=CommissionModel(kind="percent", rate=0.002)
    )
    fills = [(x.quantity, x.price, x.commission) for x in raw.broker.executions]
    assert fills == [(100, 9.9, pytest.approx(1.98)), (100, 10.9, pytest.approx(2.18))]
    assert raw.equity[-1] == pytest.approx(1095.84, abs=1e-9)
    assert raw.ledger.commissions == pytest.approx(4.16)


def test_close_only_data_is_treated_as_open_high_low_close():
    # a close-only series: open/high/low/volume missing → o = h = l = c
    closes = [10.0, 11.0, 12.0, 13.0]
    frame = bars(closes, closes)
    frame[["open", "high", "low", "volume"]] = np.nan
    market = MarketFrame.from_bars({"X": frame})
    for field in ("open", "high", "low"):
        np.testing.assert_array_equal(getattr(market, field)[:, 0], closes)
    # so a next_open fill after bar 1 happens at bar 2's close, 12
    raw = run(Script({1: lambda ctx: ctx.buy(3)}), frame)
    assert [(x.bar, x.price) for x in raw.broker.executions] == [(2, 12.0)]
