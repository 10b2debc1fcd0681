"""Append events to the audit log inside the caller's transaction.

Each event's hash is SHA-256 over its canonical JSON content and the previous
event's hash, so changing any stored field breaks the chain from that event on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import AuditEventRow

GENESIS_HASH = "0" * 64


def event_hash(
    prev_hash: str, ts: datetime, kind: str, portfolio: str | None, actor: str, payload: dict
) -> str:
    content = {
        "prev": prev_hash,
        "ts": ts.isoformat(timespec="microseconds"),
        "kind": kind,
        "portfolio": portfolio,
        "actor": actor,
        "payload": payload,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append_event(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    portfolio: str | None = None,
    actor: str = "user",
) -> AuditEventRow:
    """Add one event; it commits or rolls back with the caller's transaction."""
    last = session.scalar(select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1))
    prev = last or GENESIS_HASH
    ts = datetime.now(UTC).replace(tzinfo=None)
    payload = json.loads(json.dumps(payload, default=str))
    row = AuditEventRow(
        ts=ts,
        kind=kind,
        portfolio=portfolio,
        actor=actor,
        payload=payload,
        prev_hash=prev,
        hash=event_hash(prev, ts, kind, portfolio, actor, payload),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_broken_id: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order and report the first event whose hash does not match."""
    prev, count = GENESIS_HASH, 0
    for row in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)):
        count += 1
        if row.prev_hash != prev:
            return ChainReport(False, count, row.id, "previous-hash link does not match")
        expected = event_hash(prev, row.ts, row.kind, row.portfolio, row.actor, row.payload)
        if row.hash != expected:
            return ChainReport(False, count, row.id, "content does not match its hash")
        prev = row.hash
    return ChainReport(True, count)
