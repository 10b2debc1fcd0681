"""The worker's order filter alone: a sleeve's broker with the portfolio's risk gate on
it — what it lets through, what it refuses, what it logs and alerts."""

from __future__ import annotations

from core.execution import OrderIntent, OrderStatus
from core.paper._gate import PaperOrderGate
from core.portfolio import Side
from core.risk import RiskLimits
from tests.paper._parts import SYMBOL, World


def gated(limits: RiskLimits | None, state: str = "active") -> World:
    world = World(cash=10_000.0)
    world.risk.set_limits(limits, state)
    world.engine.broker.order_filter = PaperOrderGate(world.risk, world.book, world.journal)
    world.bar(10.0, 10.0)
    return world


def buy(world: World, quantity: float):
    return world.engine.submit(
        OrderIntent(SYMBOL, Side.BUY, quantity, strategy="k"), before=world.cursor.next_seq
    )


def test_without_limits_an_order_passes_unchecked_and_nothing_is_logged():
    world = gated(None)
    assert buy(world, 500).status is OrderStatus.OPEN
    assert world.journal.pending.audit == [] and world.journal.pending.alerts == []


def test_an_order_over_a_limit_is_refused_logged_and_alerted():
    world = gated(RiskLimits(max_position_weight=0.10))
    order = buy(world, 200)  # 200 × 10 = 20 % of the 10,000 equity
    assert order.status is OrderStatus.REJECTED
    assert order.reason.startswith("blocked by pre-trade checks: ")
    ((kind, payload),) = world.journal.pending.audit
    assert kind == "pretrade_check" and payload["strategy"] == "k"
    blocks = [a for a in world.journal.pending.alerts if a["level"] == "block"]
    assert [a["rule"] for a in blocks] == ["max_position_weight"]
    assert blocks[0]["message"].startswith(f"k {SYMBOL}: ")


def test_an_order_within_the_limits_passes_and_its_check_is_logged():
    world = gated(RiskLimits(max_position_weight=0.10))
    assert buy(world, 50).status is OrderStatus.OPEN  # 5 %
    assert [k for k, _ in world.journal.pending.audit] == ["pretrade_check"]
    assert not [a for a in world.journal.pending.alerts if a["level"] == "block"]


def test_a_halted_portfolio_refuses_every_new_order():
    world = gated(None, "halted")
    order = buy(world, 1)
    assert order.status is OrderStatus.REJECTED and "trading is halted" in order.reason


def test_while_rerunning_the_gate_decides_the_same_but_writes_nothing():
    world = gated(RiskLimits(max_position_weight=0.10))
    world.cursor.live = False
    assert buy(world, 200).status is OrderStatus.REJECTED
    assert not world.journal.pending and world.journal.pending.audit == []
