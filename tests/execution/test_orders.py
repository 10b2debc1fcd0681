"""Order types and their trigger rules (core/execution/_broker.py), bar by bar.

Each test places orders from a tiny scripted strategy at chosen bars' closes and checks
the fills against prices worked out by hand from the bars (open, high, low, close).
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest import BacktestEngine, MarketFrame
from core.errors import ConflictError
from core.execution import ExecutionConfig, OrderStatus, SlippageModel
from core.instruments import Instrument
from core.strategies import Strategy

QUIET = (10.0, 10.5, 9.5, 10.0)  # a bar that touches nothing interesting


class Script(Strategy):
    """Runs ``plan[i](ctx, notes)`` at the close of bar i; ``notes`` keeps what it saw."""

    def __init__(self, plan):
        super().__init__()
        self.plan, self.notes = plan, {}

    def on_bar(self, ctx) -> None:
        if ctx.i in self.plan:
            self.plan[ctx.i](ctx, self.notes)


def run(plan, rows, *, cash=10_000.0, volume=None, **execution):
    """``rows``: (open, high, low, close) per bar. Returns (raw run, strategy notes)."""
    index = pd.DatetimeIndex(pd.date_range("2024-01-01", periods=len(rows), freq="D"))
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index, dtype=float)
    frame["volume"] = volume or [1e6] * len(rows)
    frame.index.name = "timestamp"
    script = Script(plan)
    raw = BacktestEngine(
        script,
        MarketFrame.from_bars({"X": frame}),
        {"X": Instrument(symbol="X")},
        cash=cash,
        execution=ExecutionConfig(**execution),
    ).run()
    return raw, script.notes


def fills(raw) -> list[tuple]:
    """(bar, side, quantity, price) of every execution."""
    return [(x.bar, str(x.side), x.quantity, x.price) for x in raw.broker.executions]


def place(method, quantity, key="order", **order):
    """A plan step that places an order and keeps it in notes[key]."""

    def step(ctx, notes):
        notes[key] = getattr(ctx, method)(quantity, **order)

    return step


# -- market ---------------------------------------------------------------------------------
def test_market_order_fills_at_the_next_open():
    raw, _ = run({0: place("buy", 5)}, [QUIET, (10.2, 10.9, 10.1, 10.7), QUIET])
    assert fills(raw) == [(1, "buy", 5, 10.2)]


# -- limit ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bar1", "bar2", "expected"),
    [
        # low 9.2 > 9 on bar 1: no fill; bar 2 low 8.8 ≤ 9: fill at min(open 9.5, 9) = 9
        ((10.0, 10.2, 9.2, 9.8), (9.5, 9.6, 8.8, 9.0), [(2, "buy", 10, 9.0)]),
        # the low exactly at the limit fills
        ((10.0, 10.2, 9.0, 9.8), QUIET, [(1, "buy", 10, 9.0)]),
        # gap: bar 1 opens at 8.5, below the limit → fills at the open, 8.5
        ((8.5, 8.8, 8.2, 8.6), QUIET, [(1, "buy", 10, 8.5)]),
    ],
)
def test_limit_buy(bar1, bar2, expected):
    raw, _ = run({0: place("buy", 10, type="limit", limit_price=9.0)}, [QUIET, bar1, bar2])
    assert fills(raw) == expected


@pytest.mark.parametrize(
    ("bar1", "bar2", "expected"),
    [
        # high 10.8 < 11: no fill; bar 2 high 11.3 ≥ 11: fill at max(open 10.5, 11) = 11
        ((10.0, 10.8, 9.9, 10.5), (10.5, 11.3, 10.4, 11.0), [(2, "sell", 10, 11.0)]),
        # gap: bar 1 opens at 11.5 above the limit → fills at the open, 11.5
        ((11.5, 11.8, 11.2, 11.6), QUIET, [(1, "sell", 10, 11.5)]),
    ],
)
def test_limit_sell(bar1, bar2, expected):
    raw, _ = run({0: place("sell", 10, type="limit", limit_price=11.0)}, [QUIET, bar1, bar2])
    assert fills(raw) == expected


# -- stop ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bar1", "bar2", "expected"),
    [
        # high 10.8 < 11: no; bar 2 high 11.3 ≥ 11: fill at max(open 10.5, 11) = 11
        ((10.0, 10.8, 9.9, 10.5), (10.5, 11.3, 10.4, 11.0), [(2, "buy", 10, 11.0)]),
        # gap through the stop: bar 1 opens at 11.5 → fills at the open, 11.5
        ((11.5, 11.8, 11.2, 11.6), QUIET, [(1, "buy", 10, 11.5)]),
    ],
)
def test_stop_buy(bar1, bar2, expected):
    raw, _ = run({0: place("buy", 10, type="stop", stop_price=11.0)}, [QUIET, bar1, bar2])
    assert fills(raw) == expected


@pytest.mark.parametrize(
    ("bar1", "bar2", "expected"),
    [
        # low 9.2 > 9: no; bar 2 low 8.8 ≤ 9: fill at min(open 9.5, 9) = 9
        ((10.0, 10.2, 9.2, 9.8), (9.5, 9.6, 8.8, 9.0), [(2, "sell", 10, 9.0)]),
        # gap through the stop: bar 1 opens at 8.5 → fills at the open, 8.5
        ((8.5, 8.8, 8.2, 8.6), QUIET, [(1, "sell", 10, 8.5)]),
    ],
)
def test_stop_sell(bar1, bar2, expected):
    raw, _ = run({0: place("sell", 10, type="stop", stop_price=9.0)}, [QUIET, bar1, bar2])
    assert fills(raw) == expected


def test_slippage_applies_to_stop_fills_but_not_to_limit_fills():
    # 100 bp: the stop buy at 11 fills at 11 × 1.01 = 11.11; the limit buy at 9 stays at 9
    plan = {
        0: lambda ctx, notes: (
            ctx.buy(10, type="stop", stop_price=11.0),
            ctx.buy(10, type="limit", limit_price=9.0),
        )
    }
    raw, _ = run(plan, [QUIET, (10.0, 11.2, 8.9, 10.0)], slippage=SlippageModel(bps=100))
    got = sorted((x.quantity, round(x.price, 10)) for x in raw.broker.executions)
    assert got == [(10, 9.0), (10, 11.11)]


# -- stop-limit ----------------------------------------------------------------------------------
def test_stop_limit_buy_fills_when_the_stop_is_touched_within_the_limit():
    # stop 11, limit 11.2; bar 1 touches 11 (high 11.5): start = max(10.5, 11) = 11 ≤ 11.2
    order = {"type": "stop_limit", "stop_price": 11.0, "limit_price": 11.2}
    raw, _ = run({0: place("buy", 10, **order)}, [QUIET, (10.5, 11.5, 10.4, 11.4)])
    assert fills(raw) == [(1, "buy", 10, 11.0)]


def test_stop_limit_buy_not_filled_when_the_gap_passes_the_limit():
    # bar 1 gaps to 11.5 > limit 11.2: triggered but not filled (even though low 11.0 ≤ 11.2);
    # bar 2: now a limit buy at 11.2, low 11.5 > 11.2 → no fill;
    # bar 3: low 11.1 ≤ 11.2 → fill at min(open 11.3, 11.2) = 11.2
    order = {"type": "stop_limit", "stop_price": 11.0, "limit_price": 11.2}
    rows = [QUIET, (11.5, 11.8, 11.0, 11.6), (11.6, 11.9, 11.5, 11.7), (11.3, 11.4, 11.1, 11.2)]
    raw, notes = run({0: place("buy", 10, **order)}, rows)
    assert fills(raw) == [(3, "buy", 10, 11.2)]
    assert notes["order"].triggered


def test_stop_limit_not_triggered_does_nothing_even_below_the_limit():
    # high 10.9 never reaches the stop 11 although prices trade below the limit 11.2
    order = {"type": "stop_limit", "stop_price": 11.0, "limit_price": 11.2}
    raw, notes = run({0: place("buy", 10, **order)}, [QUIET, (10.0, 10.9, 9.0, 10.5)])
    assert fills(raw) == []
    assert not notes["order"].triggered
    assert notes["order"].status is OrderStatus.OPEN


def test_stop_limit_sell():
    # stop 9, limit 8.8. Touch within: bar 1 low 8.9 ≤ 9, start = min(9.5, 9) = 9 ≥ 8.8 → 9
    order = {"type": "stop_limit", "stop_price": 9.0, "limit_price": 8.8}
    raw, _ = run({0: place("sell", 10, **order)}, [QUIET, (9.5, 9.6, 8.9, 9.2)])
    assert fills(raw) == [(1, "sell", 10, 9.0)]
    # gap: bar 1 opens 8.5 < 8.8 → not filled; bar 2 high 8.9 ≥ 8.8 → max(8.6, 8.8) = 8.8
    rows = [QUIET, (8.5, 8.6, 8.3, 8.4), (8.6, 8.9, 8.5, 8.7)]
    raw, _ = run({0: place("sell", 10, **order)}, rows)
    assert fills(raw) == [(2, "sell", 10, 8.8)]


# -- take-profit -----------------------------------------------------------------------------------
def test_take_profit_only_reduces_the_position():
    # bar 0: buy 10 (fills bar 1 open 10); bar 1: take-profit sell 25 at 12
    # bar 2 high 12.5 ≥ 12: sells min(25, held 10) = 10 at max(10.5, 12) = 12 — never short
    # bar 3 high 12.6: nothing left to reduce → cancelled
    plan = {
        0: place("buy", 10, key="entry"),
        1: place("sell", 25, type="take_profit", limit_price=12.0),
    }
    rows = [QUIET, QUIET, (10.5, 12.5, 10.4, 12.2), (12.2, 12.6, 12.0, 12.4)]
    raw, notes = run(plan, rows)
    assert fills(raw) == [(1, "buy", 10, 10.0), (2, "sell", 10, 12.0)]
    assert raw.ledger.quantity("X") == 0
    assert notes["order"].filled == 10
    assert notes["order"].status is OrderStatus.CANCELLED


def test_take_profit_when_flat_never_fills():
    raw, notes = run(
        {0: place("sell", 5, type="take_profit", limit_price=11.0)},
        [QUIET, (10.5, 11.5, 10.4, 11.0)],
    )
    assert fills(raw) == []
    assert notes["order"].status is OrderStatus.CANCELLED


# -- bracket ---------------------------------------------------------------------------------------
def bracket(ctx, notes, **entry):
    """Bar 0: a buy of 10 with a stop-loss at 9 and a take-profit at 12."""
    parent = ctx.bracket("buy", 10, stop_loss=9.0, take_profit=12.0, **entry)
    notes["parent"] = parent
    notes["open_at_entry"] = [o.id for o in ctx.open_orders()]  # the children wait


def children(raw, notes):
    stop, take = (raw.broker.orders[c] for c in notes["parent"].children)
    notes["stop"], notes["take"] = stop, take
    return stop, take


def note_open_orders(ctx, notes):
    notes["open_after_fill"] = sorted(str(o.type) for o in ctx.open_orders())


# bar 1: entry fills at open 10; its range touches both 12.5 and 8.5 but the children are
# only active from bar 2
ENTRY_BAR = (10.0, 12.5, 8.5, 11.0)


def test_bracket_children_wait_for_the_entry_then_take_profit_cancels_the_stop():
    # bar 2: high 12.3 ≥ 12 → take-profit at max(11, 12) = 12; the stop is cancelled (OCO)
    # bar 3 falls to 8: the cancelled stop does nothing
    rows = [QUIET, ENTRY_BAR, (11.0, 12.3, 10.8, 12.1), (12.0, 12.0, 8.0, 8.5)]
    raw, notes = run({0: bracket, 1: note_open_orders}, rows)
    stop, take = children(raw, notes)
    # bar 0: only the entry is working; bar 1 (after the fill): both children are
    assert notes["open_at_entry"] == [notes["parent"].id]
    assert notes["open_after_fill"] == ["stop", "take_profit"]
    assert fills(raw) == [(1, "buy", 10, 10.0), (2, "sell", 10, 12.0)]
    assert (take.status, stop.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert raw.ledger.quantity("X") == 0


@pytest.mark.parametrize(
    ("bar2", "price"),
    [
        ((9.5, 9.8, 8.7, 9.0), 9.0),  # low 8.7 ≤ 9: min(open 9.5, 9) = 9
        ((8.6, 8.9, 8.0, 8.2), 8.6),  # gap through the stop: the open, 8.6
    ],
)
def test_bracket_stop_loss_cancels_the_take_profit(bar2, price):
    rows = [QUIET, ENTRY_BAR, bar2, (9.0, 13.0, 9.0, 12.5)]
    raw, notes = run({0: bracket}, rows)
    children(raw, notes)
    assert fills(raw) == [(1, "buy", 10, 10.0), (2, "sell", 10, price)]
    assert notes["stop"].status is OrderStatus.FILLED
    assert notes["take"].status is OrderStatus.CANCELLED


def test_bracket_bar_touching_both_exits_fills_the_stop_loss():
    # bar 2 touches 12.5 and 8.5: the stop-loss (checked first) fills at min(10, 9) = 9
    raw, notes = run({0: bracket}, [QUIET, ENTRY_BAR, (10.0, 12.5, 8.5, 11.0)])
    children(raw, notes)
    assert fills(raw)[-1] == (2, "sell", 10, 9.0)
    assert notes["take"].status is OrderStatus.CANCELLED


def test_bracket_with_a_limit_entry_activates_children_after_the_fill():
    # entry limit buy 9.5: bar 1 low 9.6 no; bar 2 low 9.3 → fills at min(9.8, 9.5) = 9.5
    # bar 2 also reaches 12.2 but the take-profit is active only from bar 3 (open 11.5 → 12)
    rows = [QUIET, (10.0, 10.2, 9.6, 10.0), (9.8, 12.2, 9.3, 11.0), (11.5, 12.4, 11.4, 12.0)]
    plan = {0: lambda ctx, notes: bracket(ctx, notes, type="limit", limit_price=9.5)}
    raw, _ = run(plan, rows)
    assert fills(raw) == [(2, "buy", 10, 9.5), (3, "sell", 10, 12.0)]


def test_cancelling_a_bracket_entry_cancels_its_children():
    plan = {
        0: lambda ctx, notes: bracket(ctx, notes, type="limit", limit_price=5.0),
        1: lambda ctx, notes: notes.update(cancelled=ctx.cancel(notes["parent"].id)),
    }
    raw, notes = run(plan, [QUIET, QUIET, (5.0, 5.0, 4.0, 4.5)])
    children(raw, notes)
    assert notes["cancelled"] is True
    assert fills(raw) == []
    assert {notes[k].status for k in ("parent", "stop", "take")} == {OrderStatus.CANCELLED}


# -- time in force ---------------------------------------------------------------------------------
DAY_ROWS = [QUIET, (10.0, 10.2, 9.2, 9.8), (9.5, 9.6, 8.8, 9.0)]  # limit 9 reachable on bar 2


def test_day_order_expires_after_one_eligible_bar():
    raw, notes = run({0: place("buy", 10, type="limit", limit_price=9.0, tif="day")}, DAY_ROWS)
    assert fills(raw) == []
    assert notes["order"].status is OrderStatus.EXPIRED


def test_gtc_order_persists():
    raw, notes = run({0: place("buy", 10, type="limit", limit_price=9.0, tif="gtc")}, DAY_ROWS)
    assert fills(raw) == [(2, "buy", 10, 9.0)]
    assert notes["order"].status is OrderStatus.FILLED


# -- cancel and modify -----------------------------------------------------------------------------
def test_cancel_an_open_order():
    plan = {
        0: place("buy", 10, type="limit", limit_price=9.0),
        1: lambda ctx, notes: notes.update(
            first=ctx.cancel(notes["order"].id), again=ctx.cancel(notes["order"].id)
        ),
    }
    raw, notes = run(plan, DAY_ROWS)
    assert (notes["first"], notes["again"]) == (True, False)
    assert fills(raw) == []
    assert notes["order"].status is OrderStatus.CANCELLED


def test_modify_the_limit_price():
    # limit 8 is out of reach on bar 2 (low 8.8); moved to 9 at bar 1 → fills at 9 on bar 2
    plan = {
        0: place("buy", 10, type="limit", limit_price=8.0),
        1: lambda ctx, notes: ctx.modify(notes["order"].id, limit_price=9.0, quantity=4),
    }
    raw, _ = run(plan, DAY_ROWS)
    assert fills(raw) == [(2, "buy", 4, 9.0)]


def test_modify_rejects_bad_changes_and_finished_orders():
    def check(ctx, notes):
        with pytest.raises(ValueError, match="step"):
            ctx.modify(notes["order"].id, quantity=2.5)
        with pytest.raises(ConflictError, match="cannot be modified"):
            ctx.modify(notes["done"].id, quantity=3)
        notes["checked"] = True

    plan = {
        0: lambda ctx, notes: notes.update(
            order=ctx.buy(10, type="limit", limit_price=1.0), done=ctx.buy(1)
        ),
        1: check,
    }
    _, notes = run(plan, [QUIET, QUIET, QUIET])
    assert notes["checked"]


# -- participation ---------------------------------------------------------------------------------
def test_participation_cap_gives_partial_fills_over_several_bars():
    # cap 10 % of volume 100 = 10 units a bar: 25 → 10 at 11, 10 at 12, 5 at 13
    plan = {
        0: place("buy", 25),
        1: lambda ctx, notes: notes.update(after1=(notes["order"].status, notes["order"].filled)),
    }
    rows = [(o, o + 0.5, o - 0.5, o) for o in (10.0, 11.0, 12.0, 13.0, 14.0)]
    raw, notes = run(plan, rows, volume=[100.0] * 5, participation=0.1)
    assert fills(raw) == [(1, "buy", 10, 11.0), (2, "buy", 10, 12.0), (3, "buy", 5, 13.0)]
    assert notes["after1"] == (OrderStatus.PARTIAL, 10)
    assert notes["order"].status is OrderStatus.FILLED
    # one trade built from three fills: average entry (110 + 120 + 65) / 25 = 11.8
    assert raw.trades.open_trades()[0].entry_cost / 25 == pytest.approx(11.8)


def test_participation_cap_skips_a_thin_bar_without_cancelling():
    # bar 1 volume 5 → cap floor(0.5) = 0 units: wait; bars 2–4 volume 100 → 10, 10, 5
    rows = [(o, o + 0.5, o - 0.5, o) for o in (10.0, 11.0, 12.0, 13.0, 14.0)]
    raw, _ = run(
        {0: place("buy", 25)}, rows, volume=[100.0, 5.0, 100.0, 100.0, 100.0], participation=0.1
    )
    assert fills(raw) == [(2, "buy", 10, 12.0), (3, "buy", 10, 13.0), (4, "buy", 5, 14.0)]


# -- rejections ------------------------------------------------------------------------------------
def test_insufficient_cash_is_rejected_and_never_fills():
    # cash 100; 20 × 10 = 200 needed at bar 1's open → rejected; nothing afterwards
    raw, notes = run({0: place("buy", 20)}, [QUIET, QUIET, QUIET], cash=100.0)
    assert fills(raw) == []
    assert notes["order"].status is OrderStatus.REJECTED
    assert "insufficient cash" in notes["order"].reason
    assert list(raw.equity) == [100.0, 100.0, 100.0]


@pytest.mark.parametrize(
    ("quantity", "order", "reason"),
    [
        (2.5, {}, "step"),  # whole shares only
        (-3, {}, "positive"),
        (5, {"type": "limit"}, "limit price"),  # a limit order without its price
        (5, {"type": "stop", "stop_price": float("nan")}, "stop price"),
    ],
)
def test_invalid_orders_are_rejected_at_submission(quantity, order, reason):
    def step(ctx, notes):
        placed = ctx.buy(quantity, **order)
        notes["order"], notes["status_at_submit"] = placed, placed.status

    raw, notes = run({0: step}, [QUIET, (10.0, 100.0, 0.5, 10.0), QUIET])
    assert notes["status_at_submit"] is OrderStatus.REJECTED
    assert reason in notes["order"].reason
    assert fills(raw) == []
