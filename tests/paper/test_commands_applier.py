"""The command applier alone: a tiny book of one sleeve, a live cursor, a fake status
setter — no loop, no database."""

from __future__ import annotations

import pytest

from core.execution import OrderStatus
from core.paper._commands import CommandApplier, RunControls
from core.paper._types import CommandStatus, SessionStatus
from tests.paper._parts import SYMBOL, Counting, World


def applier(world: World):
    statuses = []
    controls = RunControls()
    commands = CommandApplier(
        world.book,
        world.journal,
        world.tracker,
        controls,
        lambda status, **kw: statuses.append((status, kw)),
    )
    return commands, controls, statuses


def test_pause_and_resume_set_the_controls_and_the_status_while_live():
    world = World()
    commands, controls, statuses = applier(world)
    assert commands.apply_stored(1, "pause", {}) == (CommandStatus.APPLIED, "paused")
    assert controls.paused is True
    assert commands.apply_stored(2, "resume", {}) == (CommandStatus.APPLIED, "resumed")
    assert controls.paused is False
    assert statuses == [
        (SessionStatus.PAUSED, {"audit": {"command": 1}}),
        (SessionStatus.RUNNING, {"audit": {"command": 2}}),
    ]


def test_a_rerun_applies_pause_but_records_no_status_and_ignores_stop():
    world = World(live=False)
    commands, controls, statuses = applier(world)
    commands.apply_stored(1, "pause", {})
    commands.apply_stored(2, "stop", {})
    assert (controls.paused, controls.stop_requested, statuses) == (True, False, [])
    assert not world.journal.pending


def test_a_manual_order_goes_to_the_sleeve_before_the_next_event_and_is_audited():
    world = World()
    world.bar(10.0, 10.0)
    commands, _, _ = applier(world)
    answer = commands.apply_stored(5, "order", {"side": "buy", "quantity": 3})
    assert answer == (CommandStatus.APPLIED, "order 1 accepted (k)")
    order = world.engine.orders[1]
    assert (order.tag, order.created_at, order.quantity) == ("manual", 0, 3)
    pending = world.journal.pending
    assert (
        "manual_order",
        {"session": 7, "strategy": "k", "order": 1, "side": "buy", "quantity": 3},
    ) in pending.audit
    assert pending.orders["7:k:1"].status == "open"
    world.bar(11.0, 11.0)
    assert world.book.n_fills == 1 and world.book.ledger.quantity(SYMBOL) == 3


@pytest.mark.parametrize(
    ("kind", "payload", "answer"),
    [
        (
            "order",
            {"side": "buy", "quantity": 1, "symbol": "ABC"},
            "symbol 'ABC' is not traded in this session",
        ),
        ("order", {"side": "buy", "quantity": -1}, "quantity must be a positive number"),
        (
            "order",
            {"side": "buy", "quantity": 1, "strategy": "zz"},
            "no strategy 'zz' in this session; have ['k']",
        ),
        ("cancel", {"order_id": 99}, "order 99 is not open"),
        ("params", {"params": {"buy_every": -1.5}}, None),
        ("warp", {}, "unknown command 'warp'"),
    ],
)
def test_a_command_that_cannot_apply_is_rejected_saying_why(kind, payload, answer):
    world = World()
    world.bar(10.0, 10.0)
    commands, _, _ = applier(world)
    status, message = commands.apply_stored(1, kind, payload)
    assert status is CommandStatus.REJECTED
    if answer is not None:
        assert message == answer
    assert world.engine.last_order_id == 0


def test_cancel_takes_an_open_order_off_once():
    world = World()
    world.bar(10.0, 10.0)
    commands, _, _ = applier(world)
    commands.apply_stored(
        1, "order", {"side": "buy", "quantity": 1, "type": "limit", "limit_price": 5}
    )
    assert commands.apply_stored(2, "cancel", {"order_id": 1}) == (
        CommandStatus.APPLIED,
        "order 1 cancelled",
    )
    assert world.engine.orders[1].status is OrderStatus.CANCELLED
    assert world.journal.pending.orders["7:k:1"].status == "cancelled"
    assert commands.apply_stored(3, "cancel", {"order_id": 1})[0] is CommandStatus.REJECTED


def test_a_parameter_change_swaps_in_a_warmed_up_strategy():
    world = World(strategy=Counting(buy_every=0))
    for price in (10.0, 10.5):
        world.bar(price, price)
    commands, _, _ = applier(world)
    status, message = commands.apply_stored(1, "params", {"params": {"buy_every": 1}})
    assert status is CommandStatus.APPLIED and "buy_every': 1" in message
    strategy = world.engine.strategy
    assert strategy.params.buy_every == 1 and strategy.seen == 2
    assert world.engine.last_order_id == 0  # the warm-up placed nothing
    assert world.journal.pending.audit[-1][0] == "params_changed"
