"""The state reporter alone: the session state and the event rows it builds from a tiny
book, checked against sums worked out by hand."""

from __future__ import annotations

import math

import pytest

from core.execution import OrderIntent, OrderType
from core.paper._config import FeedConfig, SessionConfig, SleeveConfig
from core.paper._regimes import RegimeTracker
from core.paper._reporting import StateReporter
from core.portfolio import Side
from tests.paper._parts import SYMBOL, World, event


def reporter(world: World, cash=10_000.0) -> StateReporter:
    config = SessionConfig(
        sleeves=(SleeveConfig(key="k", strategy="sma_crossover"),),
        feed=FeedConfig(kind="synthetic", preset="equity", events=10),
        cash=cash,
    )
    regimes = RegimeTracker(None, 50, None, world.journal.alert)
    return StateReporter(config, world.book, world.risk, regimes, world.journal, n_events=10)


def test_the_state_adds_up_to_the_book():
    world = World(cash=10_000.0, multiplier=2.0)
    world.bar(10.0, 10.0)
    world.engine.submit(OrderIntent(SYMBOL, Side.BUY, 5), before=1)
    world.bar(12.0, 13.0)  # bought 5 at 12, ×2 multiplier: 120 paid, marked at 13
    limit = OrderIntent(SYMBOL, Side.SELL, 1, type=OrderType.LIMIT, limit_price=99.0)
    world.engine.submit(limit, before=2)
    state = reporter(world).state().to_json()
    assert (state["seq"], state["n_events"], state["n_fills"]) == (1, 10, 1)
    assert state["cash"] == pytest.approx(10_000.0 - 5 * 12.0 * 2)
    assert state["equity"] == pytest.approx(10_000.0 - 120.0 + 5 * 13.0 * 2)
    assert state["marks"] == {SYMBOL: 13.0}
    sleeve = state["strategies"]["k"]
    assert sleeve["exposure"] == pytest.approx(5 * 13.0 * 2)
    assert sleeve["pnl"] == pytest.approx(5 * (13.0 - 12.0) * 2)
    assert sleeve["positions"] == {SYMBOL: 5}
    assert [(o["id"], o["type"], o["limit_price"]) for o in sleeve["open_orders"]] == [
        (2, "limit", 99.0)
    ]
    assert state["regime"] == {
        "label": None,
        "probabilities": None,
        "true": None,
        "observed": 0,
        "warmup": None,
    }


def test_record_queues_one_bar_per_symbol_with_a_close_and_the_equity_row():
    world = World()
    world.bar(10.0, 11.0)
    r = reporter(world)
    ev = event(0, 10.0, 11.0)
    ev.row["volume"] = [math.inf]
    r.record(ev, gross=0.0)
    (bar,), (row,) = world.journal.pending.bars, world.journal.pending.equity
    assert (bar["seq"], bar["close"], bar["volume"]) == (0, 11.0, 0.0)  # no volume: 0
    assert (row["equity"], row["strategies"]) == (10_000.0, {"k": 10_000.0})
    missing = event(1, math.nan, math.nan)
    r.record(missing, gross=0.0)
    assert len(world.journal.pending.bars) == 1  # no close, no bar row


def test_the_summary_is_what_run_returns():
    world = World()
    world.bar(10.0, 10.0)
    world.cursor.enter(0, world.cursor.ts)
    assert reporter(world).summary("s", "stopped") == {
        "session": "s",
        "status": "stopped",
        "events": 1,
        "equity": 10_000.0,
        "cash": 10_000.0,
        "n_fills": 0,
    }
