"""The write lock: money-moving and audit-writing transactions take it first.

One row of ``write_locks`` is updated as the first statement of every write transaction.
On SQLite that statement takes the database's RESERVED lock before anything is read, which
is what ``BEGIN IMMEDIATE`` does (Python's sqlite3 driver only issues ``BEGIN`` before the
first INSERT/UPDATE/DELETE, so without it a transaction's reads run outside it, and two
writers read the same audit head, the same cash, the same position); the busy timeout makes
a second writer wait. On PostgreSQL it is a row lock held to commit: writers queue on it,
and the reads after it (READ COMMITTED, one snapshot per statement) see everything the
previous holder committed. Readers never take it.

Write sessions take it by themselves: :func:`write_sessions` makes a ``sessionmaker``
whose ``begin()`` (the write idiom: ``with sessions.begin() as session``) takes the lock
when the transaction starts, and any session takes it before its first flush.
``append_event`` and the paper worker's Core writes call :func:`take_write_lock` directly.
Taking it twice in one transaction is a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, event, insert, update
from sqlalchemy.orm import Session, sessionmaker

from core.db._models import WriteLockRow

LOCKS = WriteLockRow.__table__
LOCK_NAME = "write"
WRITES = "workstation_writes"  # Session.info key: this session's transactions write
_HELD = "workstation_write_lock"  # Connection.info key: the transaction that holds it
_TAKE = update(LOCKS).where(LOCKS.c.name == LOCK_NAME).values(taken=LOCKS.c.taken + 1)


def take_write_lock(connection: Connection) -> None:
    """Serialize the connection's transaction with every other writer until it ends.

    Call it before the transaction reads what it will write from (the audit head, a
    balance); a second call in the same transaction does nothing.
    """
    current = connection.get_transaction()
    if current is not None and connection.info.get(_HELD) is current:
        return
    if not connection.execute(_TAKE).rowcount:  # a database made without the migrations
        connection.execute(insert(LOCKS).values(name=LOCK_NAME, taken=1))
    connection.info[_HELD] = connection.get_transaction()


def holds_write_lock(connection: Connection) -> bool:
    current = connection.get_transaction()
    return current is not None and connection.info.get(_HELD) is current


class WriteSessions(sessionmaker[Session]):
    """A ``sessionmaker`` whose ``begin()`` sessions take the write lock first."""

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:  # type: ignore[override]
        with self(info={WRITES: True}) as session, session.begin():
            yield session


def _lock_write_session(session: Session, _transaction, connection: Connection) -> None:
    if session.info.get(WRITES):
        take_write_lock(connection)


def _lock_before_flush(session: Session, _context, _instances) -> None:
    take_write_lock(session.connection())


def write_sessions(engine: Engine, **options) -> WriteSessions:
    factory = WriteSessions(engine, **options)
    event.listen(factory, "after_begin", _lock_write_session)
    event.listen(factory, "before_flush", _lock_before_flush)
    return factory
