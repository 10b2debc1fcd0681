"""The audit room's read side for the pages.

Kinds, a filtered log, the chain check, one event and the compliance report, each in its own
read-only session.

Writing stays where it is (:func:`core.audit.append_event`, inside the caller's transaction);
:class:`AuditService` only reads, so a page never opens a session itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit._compliance import compliance_report
from core.audit._log import ChainReport, verify_chain
from core.audit._query import query_events
from core.db import AuditEventRow

PriceAt = Callable[..., float | None]


@dataclass(frozen=True)
class AuditEvent:
    """One stored audit event, as the chain check shows it when it breaks there.

    ``ts`` is its time as text (naive UTC); ``hash`` is SHA-256 over its content and
    ``prev_hash``.
    """

    id: int
    ts: str
    kind: str
    portfolio: str | None
    actor: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The event's columns, in the log's order (``id`` ... ``hash``)."""
        return asdict(self)


class AuditService:
    """Read the audit log.

    Parameters
    ----------
    sessions : sessionmaker
        The workstation's session factory.
    price_at : callable, optional
        ``price_at(symbol, as_of)`` marks the compliance report's largest positions
        (:meth:`core.marketdata.MarketDataService.last_price` fits).
    """

    def __init__(self, sessions: sessionmaker[Session], price_at: PriceAt | None = None):
        self._sessions = sessions
        self._price_at = price_at

    def kinds(self) -> list[str]:
        """Every event kind in the log, sorted."""
        with self._sessions() as session:
            return sorted(session.scalars(select(AuditEventRow.kind).distinct()))

    def events(self, **filters: Any) -> pd.DataFrame:
        """The events that match ``filters`` (see :func:`core.audit.query_events`)."""
        with self._sessions() as session:
            return query_events(session, **filters)

    def verify(self) -> ChainReport:
        """Recompute the chain (see :func:`core.audit.verify_chain`)."""
        with self._sessions() as session:
            return verify_chain(session)

    def event(self, event_id: int) -> AuditEvent | None:
        """One stored event, or None."""
        with self._sessions() as session:
            row = session.get(AuditEventRow, event_id)
            if row is None:
                return None
            return AuditEvent(
                row.id,
                str(row.ts),
                row.kind,
                row.portfolio,
                row.actor,
                row.payload,
                row.prev_hash,
                row.hash,
            )

    def compliance(self, start, end, **options: Any) -> dict[str, Any]:
        """The compliance report from ``start`` to ``end``.

        See :func:`core.audit.compliance_report`.
        """
        with self._sessions() as session:
            return compliance_report(session, start, end, price_at=self._price_at, **options)
