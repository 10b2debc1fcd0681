"""The worker's lean write path: SQLAlchemy Core statements on one connection.

The portfolio service's ORM path books ~115 fills/s, which suits a trade ticket; a worker
commits every fill as it happens and must keep up with thousands of events per second.
Each write here is one transaction: the event rows buffered since the last commit, the
orders whose state changed, the fills, the positions and cash they moved, one audit event
per fill and the session's cursor. A crash loses only uncommitted events, which the
deterministic feed replays on resume; unique order and fill ids make a retried write a
no-op instead of a duplicate.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from core._json import plain
from core._processes import process_alive
from core.audit import GENESIS_HASH, event_hash
from core.db import (
    AuditEventRow,
    EquitySnapshotRow,
    FillRow,
    OrderRow,
    PaperAlertRow,
    PaperBarRow,
    PaperCommandRow,
    PaperEquityRow,
    PaperSessionRow,
    PortfolioRow,
    PositionRow,
    take_write_lock,
)
from core.paper._records import OrderState, Pending, utcnow
from core.paper._sleeve import PaperError
from core.portfolio import Ledger

BARS, EQUITY, ALERTS = PaperBarRow.__table__, PaperEquityRow.__table__, PaperAlertRow.__table__
ORDERS, FILLS, POSITIONS = OrderRow.__table__, FillRow.__table__, PositionRow.__table__
SESSIONS, COMMANDS = PaperSessionRow.__table__, PaperCommandRow.__table__
AUDIT, PORTFOLIOS, SNAPSHOTS = (
    AuditEventRow.__table__,
    PortfolioRow.__table__,
    EquitySnapshotRow.__table__,
)


# Statements built once: compiling ``.values(...)`` on every write costs more than SQLite.
_ORDER_UPDATE = (
    update(ORDERS)
    .where(ORDERS.c.id == bindparam("_id"))
    .values(
        status=bindparam("status"),
        filled_quantity=bindparam("filled_quantity"),
        quantity=bindparam("quantity"),
        limit_price=bindparam("limit_price"),
        stop_price=bindparam("stop_price"),
        updated_at=bindparam("updated_at"),
    )
)
_POSITION_UPDATE = (
    update(POSITIONS)
    .where(
        POSITIONS.c.portfolio_id == bindparam("_pid"),
        POSITIONS.c.instrument_id == bindparam("_iid"),
    )
    .values(
        quantity=bindparam("quantity"),
        avg_cost=bindparam("avg_cost"),
        realized_pnl=bindparam("realized_pnl"),
    )
)
_CASH_UPDATE = (
    update(PORTFOLIOS)
    .where(PORTFOLIOS.c.id == bindparam("_pid"))
    .values(cash=bindparam("cash"), commissions=bindparam("commissions"), fees=bindparam("fees"))
)
_SESSION_UPDATE = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("_sid"))
    .values(
        events=bindparam("events"),
        last_ts=bindparam("last_ts"),
        state=bindparam("state", type_=SESSIONS.c.state.type),
        heartbeat=bindparam("heartbeat"),
        updated_at=bindparam("updated_at"),
    )
)
_SESSION_UPDATE_OWNED = _SESSION_UPDATE.where(
    SESSIONS.c.pid == bindparam("_pid"), SESSIONS.c.host == bindparam("_host")
)
_NATIVE = {"fill", "order"}
STALE_AFTER = timedelta(seconds=15)  # another machine's worker is gone after this silence
_HEAD = select(AUDIT.c.hash).order_by(AUDIT.c.id.desc()).limit(1)


def owner_alive(status: str, pid: int | None, host: str | None, heartbeat) -> bool:
    """Whether the worker a session row names is trading it now.

    Its process runs (on this machine), or its heartbeat is fresh (on another).
    """
    if status not in ("running", "paused") or pid is None:
        return False
    if host == socket.gethostname():
        return process_alive(pid)
    return heartbeat is not None and utcnow() - heartbeat < STALE_AFTER


class SessionWriter:
    """Writes one session's progress; the worker owns it (one per process)."""

    def __init__(
        self,
        engine: Engine,
        session_id: int,
        portfolio_id: int,
        portfolio_name: str,
        instrument_ids: dict[str, int],
    ):
        self.engine = engine
        self.session_id, self.portfolio_id = session_id, portfolio_id
        self.portfolio_name = portfolio_name
        self.instrument_ids = instrument_ids
        self.order_ids: dict[str, int] = {}
        with engine.connect() as conn:
            for key, oid in conn.execute(
                select(ORDERS.c.client_order_id, ORDERS.c.id).where(
                    ORDERS.c.portfolio_id == portfolio_id
                )
            ):
                self.order_ids[key] = oid
        self.retries = 0
        self.owner: tuple[int, str] | None = None  # (pid, host) once claimed

    # -- commit ---------------------------------------------------------------------------
    def commit(
        self,
        pending: Pending,
        ledger: Ledger,
        *,
        events: int,
        last_ts: datetime | None,
        state: dict[str, Any],
    ) -> None:
        """Everything in ``pending`` plus the session cursor, in one transaction.

        The portfolio's equity snapshots are the events' (one per event, at its time).

        A retried commit whose fills are already stored (the first attempt committed but
        its caller never heard back) skips those fills instead of duplicating them.
        """
        try:
            with self.engine.begin() as conn:
                take_write_lock(conn)  # first: the audit head and the cash stay ours
                self._write(conn, pending, ledger, events, last_ts, state, set())
        except IntegrityError:
            # Either this very commit is already stored (an earlier attempt committed and
            # its caller never heard back), or some of its fills are: skip what is there.
            self.retries += 1
            with self.engine.begin() as conn:
                take_write_lock(conn)
                done = conn.scalar(
                    select(SESSIONS.c.events).where(SESSIONS.c.id == self.session_id)
                )
                if (done or 0) < events:
                    stored = set(
                        conn.scalars(
                            select(FILLS.c.fill_id).where(
                                FILLS.c.portfolio_id == self.portfolio_id,
                                FILLS.c.fill_id.in_([f.fill_id for f in pending.fills]),
                            )
                        )
                    )
                    self._refresh_order_ids(conn)
                    pending.bars = [r for r in pending.bars if r["seq"] >= (done or 0)]
                    pending.equity = [r for r in pending.equity if r["seq"] >= (done or 0)]
                    self._write(conn, pending, ledger, events, last_ts, state, stored)
        pending.__init__()

    def _refresh_order_ids(self, conn: Connection) -> None:
        self.order_ids.update(
            dict(
                conn.execute(
                    select(ORDERS.c.client_order_id, ORDERS.c.id).where(
                        ORDERS.c.portfolio_id == self.portfolio_id
                    )
                ).all()
            )
        )

    def _write(self, conn, pending, ledger, events, last_ts, state, skip) -> None:
        sid, now = self.session_id, utcnow()
        if pending.bars:
            conn.execute(insert(BARS), pending.bars)
        if pending.equity:
            conn.execute(insert(EQUITY), pending.equity)
            conn.execute(  # the portfolio's curve in event time: one point per event
                insert(SNAPSHOTS),
                [
                    {
                        "portfolio_id": self.portfolio_id,
                        "ts": r["ts"],
                        "cash": r["cash"],
                        "positions_value": r["equity"] - r["cash"],
                        "equity": r["equity"],
                    }
                    for r in pending.equity
                ],
            )
        if pending.alerts:
            conn.execute(insert(ALERTS), pending.alerts)
        for order in pending.orders.values():
            self._upsert_order(conn, order, now)
        fills = [f for f in pending.fills if f.fill_id not in skip]
        if fills:
            conn.execute(
                insert(FILLS),
                [
                    {
                        "fill_id": f.fill_id,
                        "order_id": self.order_ids.get(f.order_key),
                        "portfolio_id": self.portfolio_id,
                        "instrument_id": self.instrument_ids[f.symbol],
                        "ts": f.ts,
                        "side": f.side,
                        "quantity": f.quantity,
                        "price": f.price,
                        "commission": f.commission,
                        "fees": 0.0,
                        "realized_pnl": f.realized,
                        "strategy": f.sleeve,
                    }
                    for f in fills
                ],
            )
            for symbol in {f.symbol for f in fills}:
                self._store_position(conn, ledger, symbol)
            conn.execute(
                _CASH_UPDATE,
                {
                    "_pid": self.portfolio_id,
                    "cash": ledger.cash,
                    "commissions": ledger.commissions,
                    "fees": ledger.fees,
                },
            )
        audit = [("fill", {"session": sid, **f.audit_payload()}) for f in fills] + pending.audit
        if audit:
            self._audit(conn, audit)
        for command_id, status, message, seq in pending.commands:
            conn.execute(
                update(COMMANDS)
                .where(COMMANDS.c.id == command_id)
                .values(status=status, message=message, applied_seq=seq, applied_at=now)
            )
        cursor = {
            "_sid": sid,
            "events": events,
            "last_ts": last_ts,
            "state": state,  # JSON-native already (the worker builds it so)
            "heartbeat": now,
            "updated_at": now,
        }
        if self.owner is None:
            conn.execute(_SESSION_UPDATE, cursor)
        elif not conn.execute(
            _SESSION_UPDATE_OWNED, {**cursor, "_pid": self.owner[0], "_host": self.owner[1]}
        ).rowcount:  # raised inside the transaction: nothing of this commit is written
            raise PaperError(
                f"session {sid}: another worker took this session over; this one stops"
            )

    def _upsert_order(self, conn: Connection, o: OrderState, now: datetime) -> None:
        oid = self.order_ids.get(o.key)
        if oid is not None:
            conn.execute(
                _ORDER_UPDATE,
                {
                    "_id": oid,
                    "status": o.status,
                    "filled_quantity": o.filled,
                    "quantity": o.quantity,
                    "limit_price": o.limit_price,
                    "stop_price": o.stop_price,
                    "updated_at": now,
                },
            )
            return
        result = conn.execute(
            insert(ORDERS),
            {
                "portfolio_id": self.portfolio_id,
                "instrument_id": self.instrument_ids[o.symbol],
                "client_order_id": o.key,
                "side": o.side,
                "quantity": o.quantity,
                "order_type": o.order_type,
                "limit_price": o.limit_price,
                "stop_price": o.stop_price,
                "time_in_force": o.tif,
                "status": o.status,
                "filled_quantity": o.filled,
                "strategy": o.sleeve,
                "created_at": o.ts,
                "updated_at": now,
            },
        )
        self.order_ids[o.key] = result.inserted_primary_key[0]

    def _store_position(self, conn: Connection, ledger: Ledger, symbol: str) -> None:
        position = ledger.positions.get(symbol)
        values = (
            {"quantity": 0.0, "avg_cost": 0.0, "realized_pnl": 0.0}
            if position is None
            else {
                "quantity": position.quantity,
                "avg_cost": position.avg_cost,
                "realized_pnl": position.realized_pnl,
            }
        )
        keys = {"_pid": self.portfolio_id, "_iid": self.instrument_ids[symbol]}
        if not conn.execute(_POSITION_UPDATE, {**keys, **values}).rowcount:
            conn.execute(
                insert(POSITIONS),
                {
                    "portfolio_id": self.portfolio_id,
                    "instrument_id": self.instrument_ids[symbol],
                    **values,
                },
            )

    def _audit(self, conn: Connection, events: list[tuple[str, dict]]) -> None:
        take_write_lock(conn)  # a no-op when the transaction holds it already
        prev = conn.scalar(_HEAD) or GENESIS_HASH
        rows = []
        for kind, payload in events:
            ts = utcnow()
            if kind not in _NATIVE:  # fills and orders are built JSON-native; others checked
                payload = plain(payload)
            digest = event_hash(prev, ts, kind, self.portfolio_name, "paper", payload)
            rows.append(
                {
                    "ts": ts,
                    "kind": kind,
                    "portfolio": self.portfolio_name,
                    "actor": "paper",
                    "payload": payload,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        conn.execute(insert(AUDIT), rows)

    # -- session bookkeeping ------------------------------------------------------------------
    def claim(self, name: str, status: str = "running") -> bool:
        """Make this process the session's one worker (True), or raise :class:`PaperError`.

        False when the session has finished (there is nothing left to claim).

        A compare-and-set: read who holds the session; if a live worker in another process
        does, refuse; else one UPDATE that takes the session only if that holder is still
        the one read (a worker that claimed it in between makes it match no row, and the
        next reading names that worker). A dead worker's claim is taken over (crash
        recovery); a live one's never is. Committed before anything is replayed.
        """
        me = (os.getpid(), socket.gethostname())
        for _attempt in range(5):
            with self.engine.connect() as conn:
                held = conn.execute(
                    select(
                        SESSIONS.c.status, SESSIONS.c.pid, SESSIONS.c.host, SESSIONS.c.heartbeat
                    ).where(SESSIONS.c.id == self.session_id)
                ).one()
            if held.status == "finished":
                return False
            if (held.pid, held.host) != me and owner_alive(*held):
                raise PaperError(
                    f"session {name!r} is already running (pid {held.pid} on {held.host})"
                )
            now = utcnow()
            with self.engine.begin() as conn:  # the UPDATE is the transaction's first statement
                taken = conn.execute(
                    update(SESSIONS)
                    .where(
                        SESSIONS.c.id == self.session_id,
                        SESSIONS.c.status == held.status,
                        SESSIONS.c.pid.is_not_distinct_from(held.pid),
                        SESSIONS.c.host.is_not_distinct_from(held.host),
                        SESSIONS.c.heartbeat.is_not_distinct_from(held.heartbeat),
                    )
                    .values(
                        status=status,
                        pid=me[0],
                        host=me[1],
                        heartbeat=now,
                        updated_at=now,
                        error=None,
                    )
                ).rowcount
            if taken == 1:
                self.owner = me
                return True
        raise PaperError(f"session {name!r}: could not claim it; another worker keeps taking it")

    def _owned(self, statement):
        """``statement`` restricted to the session row while this worker holds it.

        A worker whose claim was taken over writes nothing.
        """
        statement = statement.where(SESSIONS.c.id == self.session_id)
        if self.owner is None:
            return statement
        return statement.where(SESSIONS.c.pid == self.owner[0], SESSIONS.c.host == self.owner[1])

    def set_status(
        self,
        status: str,
        error: str | None = None,
        audit: dict | None = None,
        settle: str | None = None,
    ):
        """The session's status (and an audit event).

        ``settle`` (``finished`` or ``failed``): in the same transaction, every command still
        pending is answered — a stop is done, anything else expires (finished) or is rejected
        (failed) with the reason; the service answers the ones that arrive later
        (:meth:`PaperService.send`).
        """
        now = utcnow()
        with self.engine.begin() as conn:
            take_write_lock(conn)  # before the session row: one lock order for every writer
            values = {"status": status, "updated_at": now, "heartbeat": now}
            if error is not None:
                values["error"] = error
            if not conn.execute(self._owned(update(SESSIONS)).values(**values)).rowcount:
                return  # another worker holds the session now: its status is not ours to set
            if settle in ("finished", "failed"):
                settle_commands(conn, self.session_id, settle, error)
            if audit is not None:
                self._audit(conn, [(f"paper_{status}", {"session": self.session_id, **audit})])

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self._owned(update(SESSIONS)).values(heartbeat=utcnow()))

    def pending_commands(self) -> list[tuple[int, str, dict]]:
        with self.engine.connect() as conn:
            return [
                (r.id, r.kind, r.payload)
                for r in conn.execute(
                    select(COMMANDS.c.id, COMMANDS.c.kind, COMMANDS.c.payload)
                    .where(COMMANDS.c.session_id == self.session_id, COMMANDS.c.status == "pending")
                    .order_by(COMMANDS.c.id)
                )
            ]


def settle_commands(conn: Connection, session_id: int, ended: str, error: str | None = None):
    """Answer every pending command of a session that ``ended`` (finished or failed)."""
    now = utcnow()
    if ended == "finished":
        answers = [
            (COMMANDS.c.kind == "stop", "applied", "the session had already finished"),
            (
                COMMANDS.c.kind != "stop",
                "expired",
                "the session finished (its feed ended) before this could take effect",
            ),
        ]
    else:
        answers = [
            (
                COMMANDS.c.id.is_not(None),
                "rejected",
                f"the session's worker failed ({error or 'no reason given'}); "
                "send it again after `paper run` resumes the session",
            )
        ]
    for which, status, message in answers:
        conn.execute(
            update(COMMANDS)
            .where(COMMANDS.c.session_id == session_id, COMMANDS.c.status == "pending", which)
            .values(status=status, message=message, applied_at=now)
        )
