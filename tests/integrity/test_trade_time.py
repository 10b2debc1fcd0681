"""A trade without a time is stamped "now" once it holds the write lock, not before it waits.

Stamped before the wait, a trade queued behind another writer that books a later event
(a deposit dated a few seconds ahead, another process's trade) is refused as "before the
portfolio's latest event" although nothing the user did was back-dated.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from core.db import CashMovementRow, FillRow
from core.portfolio import PortfolioService

pytestmark = [pytest.mark.both_backends, pytest.mark.timeout(60)]
T0 = datetime(2026, 12, 1, 10, 0, 0)


class ManualClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _second_trade(portfolios) -> None:
    portfolios.trade("p", "AAPL", "buy", 1, 100.0, snapshot=False)


def _second_deposit(portfolios) -> None:
    portfolios.cash_movement("p", 50.0)


@pytest.mark.parametrize(
    ("second_action", "cash_after"),
    [(_second_trade, 10_000.0 + 100.0 - 100.0), (_second_deposit, 10_000.0 + 100.0 + 50.0)],
    ids=["trade", "deposit"],
)
def test_a_write_that_waited_for_the_lock_is_stamped_after_the_wait(ws, second_action, cash_after):
    clock = ManualClock(T0)
    portfolios = PortfolioService(ws.sessions, ws.market, clock=clock)
    portfolios.create("p", 10_000.0, created_at=T0 - timedelta(days=1))
    first_holds_lock, second_waits, go_on = threading.Event(), threading.Event(), threading.Event()

    def lock_statement(statement: str) -> bool:
        return statement.lstrip().upper().startswith("UPDATE WRITE_LOCKS")

    def before(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread().name == "second" and lock_statement(statement):
            second_waits.set()  # about to queue behind the first writer

    def after(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread().name == "first" and lock_statement(statement):
            first_holds_lock.set()
            assert go_on.wait(20)

    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            action()
        except BaseException as exc:
            errors.append(exc)

    event.listen(ws.engine, "before_cursor_execute", before)
    event.listen(ws.engine, "after_cursor_execute", after)
    try:
        # the first writer books a deposit dated 5 s ahead of the clock and holds the lock
        first = threading.Thread(
            target=run,
            args=(lambda: portfolios.cash_movement("p", 100.0, ts=T0 + timedelta(seconds=5)),),
            name="first",
        )
        first.start()
        assert first_holds_lock.wait(20)
        # the second, a trade or deposit at "now", queues behind it; the clock moves on
        second = threading.Thread(
            target=run,
            args=(lambda: second_action(portfolios),),
            name="second",
        )
        second.start()
        assert second_waits.wait(20)
        clock.now = T0 + timedelta(seconds=10)
        go_on.set()
        first.join(30)
        second.join(30)
    finally:
        go_on.set()
        event.remove(ws.engine, "before_cursor_execute", before)
        event.remove(ws.engine, "after_cursor_execute", after)
    assert errors == []
    with ws.sessions() as session:
        stamps = (
            session.scalars(select(FillRow.ts)).all()
            + session.scalars(
                select(CashMovementRow.ts).where(CashMovementRow.amount == 50.0)
            ).all()
        )
        assert stamps == [T0 + timedelta(seconds=10)]
    assert portfolios.summary("p").cash == cash_after
