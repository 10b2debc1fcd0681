"""The write lock: write transactions take it first, readers never, and it serializes
read-modify-write transactions that would otherwise lose an update."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select, text

from core.audit import append_event
from core.db import PortfolioRow, WriteLockRow, holds_write_lock, take_write_lock

pytestmark = pytest.mark.both_backends


def taken(ws) -> int:
    with ws.engine.connect() as connection:
        return connection.scalar(select(WriteLockRow.taken).where(WriteLockRow.name == "write"))


def test_a_write_session_takes_the_lock_once_and_a_read_session_never(ws):
    before = taken(ws)
    with ws.sessions.begin() as session:
        assert holds_write_lock(session.connection())
        take_write_lock(session.connection())  # again: no-op
        append_event(session, "note", {})  # takes it too: no-op
    assert taken(ws) == before + 1
    with ws.sessions() as session:
        session.scalar(select(PortfolioRow.id))
        assert not holds_write_lock(session.connection())
    assert taken(ws) == before + 1


def test_a_plain_session_takes_it_to_append_or_to_flush(ws):
    before = taken(ws)
    with ws.sessions() as session:
        append_event(session, "note", {"n": 1})
        assert holds_write_lock(session.connection())
        session.commit()
    with ws.sessions() as session:
        row = PortfolioRow(name="p", starting_cash=1.0, cash=1.0, created_at=datetime(2024, 1, 1))
        session.add(row)
        session.flush()
        assert holds_write_lock(session.connection())
        session.commit()
    assert taken(ws) == before + 2


def test_two_read_modify_write_transactions_do_not_lose_an_update(ws):
    """Each reads the cash, waits, writes cash + 1: serialized by the lock the total is +2
    (without it both would read 100 and write 101)."""
    ws.portfolios.create("p", 100.0)
    first_has_read = threading.Event()
    errors: list[BaseException] = []

    def add_one(wait_for_the_other: bool) -> None:
        try:
            with ws.sessions.begin() as session:
                row = session.scalar(select(PortfolioRow).where(PortfolioRow.name == "p"))
                cash = row.cash
                first_has_read.set()
                if wait_for_the_other:
                    time.sleep(0.3)  # the second writer is waiting on the lock meanwhile
                row.cash = cash + 1
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=add_one, args=(True,))
    first.start()
    assert first_has_read.wait(10)
    second = threading.Thread(target=add_one, args=(False,))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    with ws.sessions() as session:
        assert session.scalar(select(PortfolioRow.cash).where(PortfolioRow.name == "p")) == 102.0


def test_a_missing_lock_row_is_recreated(ws):
    with ws.engine.begin() as connection:
        connection.execute(text("DELETE FROM write_locks"))
    with ws.sessions.begin() as session:
        append_event(session, "note", {})
    assert taken(ws) == 1
