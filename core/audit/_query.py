"""Reading the audit log: filters by kind, portfolio, date range and free text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import AuditEventRow
from core.errors import InvalidInputError

EVENT_COLUMNS = ["id", "ts", "kind", "portfolio", "actor", "payload", "prev_hash", "hash"]


def day_bounds(start: date | datetime | str | None, end: date | datetime | str | None):
    """Naive-UTC bounds: a date ``end`` covers its whole day; ``start`` ≤ ``end`` or an error."""
    lo = _as_datetime(start, "start") if start is not None else None
    hi = _as_datetime(end, "end") if end is not None else None
    if hi is not None and _is_day(end):
        hi = hi + timedelta(days=1) - timedelta(microseconds=1)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInputError(f"start {lo:%Y-%m-%d %H:%M} is after end {hi:%Y-%m-%d %H:%M}")
    return lo, hi


def _is_day(value) -> bool:
    if isinstance(value, str):
        return len(value.strip()) == 10
    return isinstance(value, date) and not isinstance(value, datetime)


def _as_datetime(value, name: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time())
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"{name} must be a date like 2024-01-31, got {value!r}") from None
    return parsed if parsed.tzinfo is None else _utc(parsed)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def query_events(
    session: Session,
    *,
    kind: str | Iterable[str] | None = None,
    portfolio: str | None = None,
    start=None,
    end=None,
    text: str | None = None,
    limit: int | None = None,
    newest_first: bool = True,
    after_id: int | None = None,
    before_id: int | None = None,
) -> pd.DataFrame:
    """Events matching every filter given, as a frame with :data:`EVENT_COLUMNS`.

    ``kind`` one kind or several; ``start``/``end`` dates (``end`` inclusive) or times;
    ``text`` a case-insensitive substring of the kind, portfolio, actor or JSON payload;
    ``after_id``/``before_id`` only events with a larger/smaller id (a page's keyset cursor).
    """
    query = select(AuditEventRow)
    if kind:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        query = query.where(AuditEventRow.kind.in_(kinds))
    if portfolio:
        query = query.where(AuditEventRow.portfolio == portfolio)
    if after_id is not None:
        query = query.where(AuditEventRow.id > after_id)
    if before_id is not None:
        query = query.where(AuditEventRow.id < before_id)
    lo, hi = day_bounds(start, end)
    if lo is not None:
        query = query.where(AuditEventRow.ts >= lo)
    if hi is not None:
        query = query.where(AuditEventRow.ts <= hi)
    order = AuditEventRow.id.desc() if newest_first else AuditEventRow.id
    rows = session.scalars(query.order_by(order))
    needle = (text or "").strip().lower()
    records = []
    for row in rows:
        if needle and needle not in _haystack(row):
            continue
        records.append([getattr(row, c) for c in EVENT_COLUMNS])
        if limit is not None and len(records) >= limit:
            break
    return pd.DataFrame(records, columns=EVENT_COLUMNS)


def _haystack(row: AuditEventRow) -> str:
    payload = json.dumps(row.payload, ensure_ascii=False, default=str)
    return f"{row.kind} {row.portfolio or ''} {row.actor} {payload}".lower()
