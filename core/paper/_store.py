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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from core._json import plain
from core.audit._log import GENESIS_HASH, event_hash
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
_SNAPSHOT_UPDATE = (
    update(SNAPSHOTS)
    .where(SNAPSHOTS.c.portfolio_id == bindparam("_pid"), SNAPSHOTS.c.ts == bindparam("_ts"))
    .values(
        cash=bindparam("cash"),
        positions_value=bindparam("positions_value"),
        equity=bindparam("equity"),
    )
)
_NATIVE = {"fill", "order"}
_HEAD = select(AUDIT.c.hash).order_by(AUDIT.c.id.desc()).limit(1)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def naive(ts) -> datetime:
    return pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)


@dataclass
class OrderState:
    """An order as the database knows it (``key`` = session:sleeve:broker id)."""

    key: str
    sleeve: str
    symbol: str
    side: str
    quantity: float
    order_type: str
    limit_price: float | None
    stop_price: float | None
    tif: str
    status: str
    filled: float
    ts: datetime


@dataclass
class FillRecord:
    fill_id: str
    order_key: str
    sleeve: str
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float
    realized: float
    ts: datetime
    seq: int


@dataclass
class Pending:
    """What the worker has produced since its last commit."""

    bars: list[dict] = field(default_factory=list)
    equity: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    orders: dict[str, OrderState] = field(default_factory=dict)
    fills: list[FillRecord] = field(default_factory=list)
    audit: list[tuple[str, dict]] = field(default_factory=list)
    commands: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, status, msg

    def __bool__(self) -> bool:
        return bool(
            self.bars or self.equity or self.alerts or self.orders or self.fills or self.commands
        )


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

    # -- commit ---------------------------------------------------------------------------
    def commit(
        self,
        pending: Pending,
        ledger: Ledger,
        *,
        events: int,
        last_ts: datetime | None,
        state: dict[str, Any],
        snapshot: tuple[datetime, float, float] | None,
    ) -> None:
        """Everything in ``pending`` plus the session cursor, in one transaction.

        A retried commit whose fills are already stored (the first attempt committed but
        its caller never heard back) skips those fills instead of duplicating them.
        """
        try:
            with self.engine.begin() as conn:
                take_write_lock(conn)  # first: the audit head and the cash stay ours
                self._write(conn, pending, ledger, events, last_ts, state, snapshot, set())
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
                    self._write(conn, pending, ledger, events, last_ts, state, snapshot, stored)
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

    def _write(self, conn, pending, ledger, events, last_ts, state, snapshot, skip) -> None:
        sid, now = self.session_id, utcnow()
        if pending.bars:
            conn.execute(insert(BARS), pending.bars)
        if pending.equity:
            conn.execute(insert(EQUITY), pending.equity)
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
        audit = [("fill", {"session": sid, **_fill_payload(f)}) for f in fills] + pending.audit
        if audit:
            self._audit(conn, audit)
        for command_id, status, message, seq in pending.commands:
            conn.execute(
                update(COMMANDS)
                .where(COMMANDS.c.id == command_id)
                .values(status=status, message=message, applied_seq=seq, applied_at=now)
            )
        if snapshot is not None:
            ts, cash, equity = snapshot
            values = {"cash": cash, "positions_value": equity - cash, "equity": equity}
            changed = conn.execute(
                _SNAPSHOT_UPDATE, {"_pid": self.portfolio_id, "_ts": ts, **values}
            ).rowcount
            if not changed:
                conn.execute(
                    insert(SNAPSHOTS).values(portfolio_id=self.portfolio_id, ts=ts, **values)
                )
        conn.execute(
            _SESSION_UPDATE,
            {
                "_sid": sid,
                "events": events,
                "last_ts": last_ts,
                "state": state,  # JSON-native already (the worker builds it so)
                "heartbeat": now,
                "updated_at": now,
            },
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
    def claim(self, status: str = "running") -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == self.session_id)
                .values(
                    status=status,
                    pid=os.getpid(),
                    host=socket.gethostname(),
                    heartbeat=now,
                    updated_at=now,
                    error=None,
                )
            )

    def set_status(self, status: str, error: str | None = None, audit: dict | None = None):
        now = utcnow()
        with self.engine.begin() as conn:
            take_write_lock(conn)  # before the session row: one lock order for every writer
            values = {"status": status, "updated_at": now, "heartbeat": now}
            if error is not None:
                values["error"] = error
            conn.execute(update(SESSIONS).where(SESSIONS.c.id == self.session_id).values(**values))
            if audit is not None:
                self._audit(conn, [(f"paper_{status}", {"session": self.session_id, **audit})])

    def heartbeat(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(SESSIONS).where(SESSIONS.c.id == self.session_id).values(heartbeat=now)
            )

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


def _fill_payload(f: FillRecord) -> dict:
    return {
        "fill_id": f.fill_id,
        "strategy": f.sleeve,
        "symbol": f.symbol,
        "side": f.side,
        "quantity": f.quantity,
        "price": f.price,
        "commission": f.commission,
        "ts": f.ts.isoformat(),
    }
