"""Append events to the audit log inside the caller's transaction.

Each event's hash is SHA-256 over its canonical JSON content and the previous
event's hash, so changing any stored field breaks the chain from that event on.

Appending takes the database's write lock first (``core.db.take_write_lock``), so the head
it reads stays the head until its transaction ends: concurrent writers queue instead of
linking two events to the same previous hash. The unique index on ``prev_hash`` refuses
such a fork anyway; a writer that lost the race (one that did not take the lock) re-reads
the head and retries, a few times at most.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import AuditEventRow, MetaRow, take_write_lock
from core.errors import ConflictError

GENESIS_HASH = "0" * 64
LINK_ATTEMPTS = 5  # appends tried before giving up when other writers keep taking the head
FORK_KEY = "audit_chain_fork"  # workstation_meta: a fork found by migration 0006
_HEAD = select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)


class AuditChainError(ConflictError):
    """The audit log could not take an event (its transaction writes nothing)."""


def is_link_conflict(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the unique previous-hash link refusing a fork of the chain."""
    text = str(exc.orig)
    return "prev_hash" in text or "ux_audit_log_prev_hash" in text


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
    ts: datetime | None = None,
) -> AuditEventRow:
    """Add one event; it commits or rolls back with the caller's transaction.

    ``ts`` (naive UTC) defaults to now; a simulated session may pass its clock's time.
    The session's transaction takes the write lock here if it does not hold it yet.
    """
    take_write_lock(session.connection())
    if ts is None:
        ts = datetime.now(UTC).replace(tzinfo=None)
    elif ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    payload = json.loads(json.dumps(payload, default=str))
    for _attempt in range(LINK_ATTEMPTS):
        prev = _head(session)
        row = AuditEventRow(
            ts=ts,
            kind=kind,
            portfolio=portfolio,
            actor=actor,
            payload=payload,
            prev_hash=prev,
            hash=event_hash(prev, ts, kind, portfolio, actor, payload),
        )
        try:
            with session.begin_nested():  # a refused link rolls back this row only
                session.add(row)
        except IntegrityError as exc:
            if not is_link_conflict(exc):
                raise
            continue
        return row
    raise AuditChainError(
        f"another writer took the head of the log {LINK_ATTEMPTS} times in a row; "
        "nothing was written, try again",
        where=f"audit log ({kind})",
    )


def _head(session: Session) -> str:
    """The hash the next event links to: the newest event's, or the genesis hash."""
    return session.scalar(_HEAD) or GENESIS_HASH


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify_chain`.

    ok : every event checked out
    events : events checked (up to and including the first broken one)
    first_broken_id : id of the first event whose link or hash is wrong, else None
    reason : why that event fails (empty when ok)
    n_events : events in the log
    """

    ok: bool
    events: int
    first_broken_id: int | None = None
    reason: str = ""
    n_events: int | None = None

    @property
    def first_bad_id(self) -> int | None:
        return self.first_broken_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_events": self.n_events if self.n_events is not None else self.events,
            "checked": self.events,
            "first_bad_id": self.first_broken_id,
            "reason": self.reason or None,
        }


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in id order and report the first event whose link or hash is wrong.

    An event fails when its ``prev_hash`` is not the previous event's stored hash (an event
    before it was removed, inserted or had its hash edited, or its own ``prev_hash`` was
    edited) or when its stored ``hash`` is not SHA-256 of its content and ``prev_hash`` (one
    of ``ts``, ``kind``, ``portfolio``, ``actor``, ``payload`` or the hash itself was edited).
    """
    total = session.scalar(select(func.count()).select_from(AuditEventRow)) or 0
    prev, prev_id, count = GENESIS_HASH, None, 0
    for row in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)):
        count += 1
        if row.prev_hash != prev:
            after = f"event {prev_id}" if prev_id is not None else "the start of the log"
            reason = (
                f"event {row.id}: previous-hash link does not match: it holds "
                f"{row.prev_hash[:12]}…, {after} has hash {prev[:12]}…"
            ) + _fork_note(session, row)
            return ChainReport(False, count, row.id, reason, total)
        expected = event_hash(prev, row.ts, row.kind, row.portfolio, row.actor, row.payload)
        if row.hash != expected:
            reason = (
                f"event {row.id} ({row.kind}): content does not match its hash: stored "
                f"{row.hash[:12]}…, recomputed {expected[:12]}… (a field or the hash was edited)"
            )
            return ChainReport(False, count, row.id, reason, total)
        prev, prev_id = row.hash, row.id
    return ChainReport(True, count, n_events=total)


def _fork_note(session: Session, row: AuditEventRow) -> str:
    """When ``row`` links to an event another event already follows: say the chain forked."""
    parent = session.scalar(select(AuditEventRow.id).where(AuditEventRow.hash == row.prev_hash))
    sibling = session.scalar(
        select(func.min(AuditEventRow.id)).where(
            AuditEventRow.prev_hash == row.prev_hash, AuditEventRow.id != row.id
        )
    )
    if parent is None or sibling is None:
        return ""
    note = (
        f"; the chain forked: it links to event {parent}, which event {sibling} already "
        "follows (two writers appended at once)"
    )
    recorded = session.scalar(select(MetaRow.value).where(MetaRow.key == FORK_KEY))
    if recorded:
        fork = json.loads(recorded)
        note += (
            f"; {fork['found_by']} found {fork['extra_events']} forked events up to event "
            f"{fork['last_forked_id']} ({fork['enforced']})"
        )
    return note
