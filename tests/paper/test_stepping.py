"""The engine's public stepping API, as the paper worker and its command applier use it:
intents placed between bars, the injected order filter, cancels, a strategy swapped in
with a silent warm-up, read-only views of the book."""

from __future__ import annotations

import dataclasses

import pytest

from core.execution import OrderIntent, OrderSource, OrderStatus, OrderType
from core.portfolio import Side
from tests.paper._parts import SYMBOL, Counting, engine, step


def test_an_intent_submitted_between_bars_fills_at_the_next_open():
    e = engine(cash=1_000.0)
    step(e, 10.0, 11.0)
    order = e.submit(OrderIntent(SYMBOL, Side.BUY, 5), before=1)
    assert (order.id, order.status, order.created_at) == (1, OrderStatus.OPEN, 0)
    step(e, 12.0, 13.0)
    (x,) = e.executions
    assert (x.quantity, x.price, x.bar) == (5, 12.0, 1)  # the open of bar 1
    assert e.ledger.quantity(SYMBOL) == 5
    assert e.cash[-1] == pytest.approx(1_000.0 - 5 * 12.0)
    assert e.equity[-1] == pytest.approx(1_000.0 - 60.0 + 5 * 13.0)  # marked at the close
    assert e.gross[-1] == pytest.approx(65.0)


def test_before_the_first_bar_an_order_waits_for_it():
    e = engine()
    order = e.submit(OrderIntent(SYMBOL, Side.BUY, 2), before=0)
    assert order.created_at == -1
    step(e, 10.0, 10.5)
    assert [x.price for x in e.executions] == [10.0]


def test_the_order_filter_gets_the_intent_and_may_scale_it_down():
    e = engine()
    seen = []

    def halve(intent):
        seen.append(intent)
        return dataclasses.replace(intent, quantity=intent.quantity / 2), ""

    e.broker.order_filter = halve
    step(e, 10.0, 10.0)
    order = e.submit(OrderIntent(SYMBOL, Side.BUY, 4, tag="manual", strategy="k"), before=1)
    assert seen == [OrderIntent(SYMBOL, Side.BUY, 4, tag="manual", strategy="k")]
    assert order.quantity == 2 and order.status is OrderStatus.OPEN


def test_an_intent_the_filter_refuses_is_stored_rejected_with_its_reason():
    e = engine()
    e.broker.order_filter = lambda intent: (intent, "halted")
    order = e.submit(OrderIntent(SYMBOL, Side.SELL, 1), before=0)
    assert (order.status, order.reason) == (OrderStatus.REJECTED, "halted")
    assert e.orders[order.id] is order and e.open_orders == ()


def test_the_instrument_check_runs_once_and_before_the_filter():
    e = engine()
    calls = []
    e.broker.order_filter = lambda intent: (calls.append(intent), (intent, ""))[1]
    order = e.submit(OrderIntent(SYMBOL, Side.BUY, 1.5), before=0)  # whole units only
    assert order.status is OrderStatus.REJECTED and "1.5" in order.reason
    limit = e.submit(OrderIntent(SYMBOL, Side.BUY, 1, type=OrderType.LIMIT), before=0)
    assert limit.reason == "a limit order needs a positive limit price"
    assert calls == []


def test_a_strategy_order_is_an_intent_named_by_the_engine_key():
    e = engine(Counting(buy_every=1), key="sleeve-a")
    seen = []
    e.broker.order_filter = lambda intent: (seen.append(intent), (intent, ""))[1]
    step(e, 10.0, 10.0)
    (intent,) = seen
    assert (intent.strategy, intent.source, intent.quantity) == (
        "sleeve-a",
        OrderSource.STRATEGY,
        1,
    )


def test_cancel_takes_an_open_order_off_the_book_once():
    e = engine()
    step(e, 10.0, 10.0)
    limit = OrderIntent(SYMBOL, Side.BUY, 1, type=OrderType.LIMIT, limit_price=5.0)
    order = e.submit(limit, before=1)
    assert e.open_orders == (order,)
    assert e.cancel(order.id, "by hand") is True
    assert (order.status, order.reason, e.open_orders) == (OrderStatus.CANCELLED, "by hand", ())
    assert e.cancel(order.id) is False


def test_expire_open_orders_ends_every_order_that_could_still_fill():
    e = engine()
    step(e, 10.0, 10.0)
    order = e.submit(
        OrderIntent(SYMBOL, Side.BUY, 1, type=OrderType.LIMIT, limit_price=5.0), before=1
    )
    e.expire_open_orders("no bar left")
    assert (order.status, order.reason, e.open_orders) == (OrderStatus.EXPIRED, "no bar left", ())


def test_replace_strategy_warms_the_new_one_up_on_every_bar_without_orders():
    e = engine(Counting(buy_every=0))
    for price in (10.0, 11.0, 12.0):
        step(e, price, price)
    new = Counting(buy_every=1)  # would buy on every bar it sees
    e.replace_strategy(new)
    assert new.seen == 3 and e.last_order_id == 0  # warmed up on the 3 bars, no order
    assert e.strategy is new and e.ctx.params is new.params
    step(e, 13.0, 13.0)
    assert new.seen == 4 and e.last_order_id == 1  # trades from the next bar on


def test_the_book_views_are_read_only():
    e = engine()
    with pytest.raises(TypeError):
        e.orders[1] = None  # type: ignore[index]
    assert isinstance(e.open_orders, tuple)


def test_last_marks_carry_the_last_known_close_over_a_missing_bar():
    e = engine()
    step(e, 10.0, 10.5)
    i = e.append_bar(
        e.market.timestamp(0).replace(day=9),
        {
            "open": [float("nan")],
            "high": [float("nan")],
            "low": [float("nan")],
            "close": [float("nan")],
            "volume": [float("nan")],
        },
    )
    e.step(i)
    assert e.last_marks() == {SYMBOL: 10.5}
