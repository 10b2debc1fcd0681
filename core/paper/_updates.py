"""A session's live updates since a cursor: fills, equity marks, alerts, regime changes.

The worker commits whole events (the rows of event ``n`` — its equity mark, its fills, its
alerts — are written in one transaction, after those of event ``n - 1``), so the session's
event number orders everything it commits. Each update gets a sequence number

    ``seq = (event + 1) × SLOT + place``

where ``place`` is its rank within the event (fills by booking order, then alerts, the
equity mark, a regime change). Sequence numbers only grow with commits and name one update
each; a reader that saw ``seq`` asks for the updates after it and gets exactly the rest,
whatever the batching of the worker's commits or of the reads.

Reads are indexed: the equity rows by ``(session_id, seq)`` (the table's key), the fills by
``(portfolio_id, ts)`` within the events' times, the alerts by session and event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from core.db import FillRow, InstrumentRow, PaperAlertRow, PaperEquityRow

SLOT = 4096
"""Sequence numbers per event (an event with more updates than this is cut to it)."""
EVENTS_PER_READ = 500


def _iso(ts) -> str | None:
    return None if ts is None else ts.isoformat()


def read_updates(
    engine: Engine,
    session_id: int,
    portfolio_id: int,
    *,
    after: int = 0,
    max_events: int = EVENTS_PER_READ,
) -> list[dict[str, Any]]:
    """The session's updates with a sequence number above ``after``, oldest first.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The database (read only).
    session_id, portfolio_id : int
        The session's row id and its portfolio's.
    after : int, default 0
        The last sequence number the reader has (0: from the start).
    max_events : int
        At most this many of the session's events are read (the next read goes on).

    Returns
    -------
    list of dict
        ``{"seq", "type", "event", "ts", ...}`` with ``type`` one of ``fill``, ``alert``,
        ``equity``, ``regime``.
    """
    first = max(after // SLOT - 1, 0)
    with engine.connect() as conn:
        marks = conn.execute(
            select(
                PaperEquityRow.seq,
                PaperEquityRow.ts,
                PaperEquityRow.equity,
                PaperEquityRow.cash,
                PaperEquityRow.drawdown,
                PaperEquityRow.regime,
            )
            .where(PaperEquityRow.session_id == session_id, PaperEquityRow.seq >= first)
            .order_by(PaperEquityRow.seq)
            .limit(max_events)
        ).all()
        if not marks:
            return []
        last = marks[-1].seq
        previous = conn.scalar(
            select(PaperEquityRow.regime).where(
                PaperEquityRow.session_id == session_id, PaperEquityRow.seq == first - 1
            )
        )
        fills = conn.execute(
            select(
                FillRow.fill_id,
                FillRow.ts,
                InstrumentRow.symbol,
                FillRow.side,
                FillRow.quantity,
                FillRow.price,
                FillRow.commission,
                FillRow.realized_pnl,
                FillRow.strategy,
            )
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(
                FillRow.portfolio_id == portfolio_id,
                FillRow.ts >= marks[0].ts,
                FillRow.ts <= marks[-1].ts,
                FillRow.fill_id.like(f"P{session_id}-%"),
            )
            .order_by(FillRow.id)
        ).all()
        alerts = conn.execute(
            select(
                PaperAlertRow.id,
                PaperAlertRow.seq,
                PaperAlertRow.ts,
                PaperAlertRow.level,
                PaperAlertRow.rule,
                PaperAlertRow.message,
            )
            .where(
                PaperAlertRow.session_id == session_id,
                PaperAlertRow.seq >= first,
                PaperAlertRow.seq <= last,
            )
            .order_by(PaperAlertRow.id)
        ).all()
    updates = _updates(marks, fills, alerts, previous)
    return [u for u in updates if u["seq"] > after]


def _updates(marks, fills, alerts, previous: str | None) -> list[dict[str, Any]]:
    """Number the updates of each event: its fills, alerts, equity mark, regime change."""
    event_of = {m.ts: m.seq for m in marks}
    by_event: dict[int, list[dict[str, Any]]] = {m.seq: [] for m in marks}
    for f in fills:
        event = event_of.get(f.ts)
        if event is not None:
            by_event[event].append(_fill(f))
    for a in alerts:
        by_event[a.seq].append(
            {
                "type": "alert",
                "ts": _iso(a.ts),
                "level": a.level,
                "rule": a.rule,
                "message": a.message,
            }
        )
    updates = []
    for m in marks:
        items = by_event[m.seq]
        items.append(
            {
                "type": "equity",
                "ts": _iso(m.ts),
                "equity": m.equity,
                "cash": m.cash,
                "drawdown": m.drawdown,
                "regime": m.regime,
            }
        )
        if m.regime != previous and m.regime is not None:
            items.append(
                {"type": "regime", "ts": _iso(m.ts), "regime": m.regime, "previous": previous}
            )
        previous = m.regime
        for place, item in enumerate(items[:SLOT]):
            updates.append({"seq": (m.seq + 1) * SLOT + place, "event": m.seq, **item})
    return updates


def _fill(f) -> dict[str, Any]:
    return {
        "type": "fill",
        "ts": _iso(f.ts),
        "fill_id": f.fill_id,
        "symbol": f.symbol,
        "side": f.side,
        "quantity": f.quantity,
        "price": f.price,
        "commission": f.commission,
        "realized_pnl": f.realized_pnl,
        "strategy": f.strategy,
    }
