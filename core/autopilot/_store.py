"""The autopilot's tables: daily regimes, the rebalancing log, the rules, schedule rows.

Every function takes an explicit session; writers run inside the caller's
``sessions.begin()`` (which takes the write lock), so a run's log row and its audit events
commit together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.autopilot._regime import RegimeReading
from core.autopilot._rules import DEFAULT_RULES, Held, RulesTable
from core.db import AutopilotRulesRow, AutopilotScheduleRow, MarketRegimeRow, RebalancingLogRow
from core.errors import InvalidInputError, describe_validation

RULES_NAME = "default"
DONE = ("dry_run", "executed", "no_trades", "rejected")
"""Statuses that settle an account's date: a rerun without ``--force`` books nothing new."""
LOG_COLUMNS = [
    "id", "as_of", "account", "mode", "attempt", "strategy", "confidence", "regime",
    "value_before", "value_after", "n_buys", "n_sells", "turnover", "status", "created_at",
]  # fmt: skip


# -- regimes ------------------------------------------------------------------------------
def save_regime(session: Session, index_symbol: str, reading: RegimeReading) -> None:
    """Store (or replace) the regime of ``reading.day`` on ``index_symbol``."""
    session.merge(
        MarketRegimeRow(
            day=reading.day.date(),
            index_symbol=index_symbol,
            label=reading.label,
            confidence=reading.confidence,
            volatility=str(reading.volatility["bucket"]),
            trend=str(reading.trend["state"]),
            breadth=reading.breadth["above_share"],
            ad_ratio=reading.breadth["ad_ratio"],
            hmm=reading.hmm["label"],
            hmm_probability=reading.hmm["probability"],
            details=reading.to_dict(),
        )
    )


def regime_rows(session: Session, index_symbol: str, start=None, end=None) -> pd.DataFrame:
    """Stored regimes of ``index_symbol`` between ``start`` and ``end``, oldest first."""
    query = select(MarketRegimeRow).where(MarketRegimeRow.index_symbol == index_symbol)
    if start is not None:
        query = query.where(MarketRegimeRow.day >= pd.Timestamp(start).date())
    if end is not None:
        query = query.where(MarketRegimeRow.day <= pd.Timestamp(end).date())
    rows = session.scalars(query.order_by(MarketRegimeRow.day)).all()
    columns = ["day", "label", "confidence", "volatility", "trend", "breadth", "ad_ratio", "hmm"]
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


# -- rules ----------------------------------------------------------------------------------
def load_rules(session: Session) -> RulesTable:
    """The stored rules table; the defaults when none was saved."""
    row = session.get(AutopilotRulesRow, RULES_NAME)
    if row is None:
        return DEFAULT_RULES
    try:
        return RulesTable.model_validate(row.rules)
    except ValidationError as exc:
        raise InvalidInputError(describe_validation(exc, "stored autopilot rules")) from None


def save_rules(session: Session, table: RulesTable, now: datetime, actor: str) -> None:
    """Store ``table`` (audited as ``autopilot_rules``)."""
    payload = table.model_dump(mode="json")
    session.merge(AutopilotRulesRow(name=RULES_NAME, rules=payload, updated_at=now))
    append_event(session, "autopilot_rules", payload, actor=actor)


# -- the rebalancing log ------------------------------------------------------------------------
def settled(session: Session, account: str, as_of: date, mode: str) -> RebalancingLogRow | None:
    """The latest run that settled ``account`` on ``as_of`` in ``mode`` (None if none)."""
    query = (
        select(RebalancingLogRow)
        .where(
            RebalancingLogRow.account == account,
            RebalancingLogRow.as_of == as_of,
            RebalancingLogRow.mode == mode,
            RebalancingLogRow.status.in_(DONE),
        )
        .order_by(RebalancingLogRow.attempt.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def next_attempt(session: Session, account: str, as_of: date, mode: str) -> int:
    """One more than the runs already logged for the account, date and mode."""
    query = select(func.max(RebalancingLogRow.attempt)).where(
        RebalancingLogRow.account == account,
        RebalancingLogRow.as_of == as_of,
        RebalancingLogRow.mode == mode,
    )
    return int(session.scalar(query) or 0) + 1


def history(session: Session, account: str, mode: str, before: date) -> tuple[Held | None, float]:
    """The strategy in force and the peak value of the account's runs before ``before``.

    The peak is the largest value before or after of those runs (the autopilot's own record
    of the account, read the same way by the simulation).
    """
    query = (
        select(RebalancingLogRow)
        .where(
            RebalancingLogRow.account == account,
            RebalancingLogRow.mode == mode,
            RebalancingLogRow.as_of < before,
            RebalancingLogRow.status.in_(DONE),
        )
        .order_by(RebalancingLogRow.as_of, RebalancingLogRow.attempt)
    )
    rows = session.scalars(query).all()
    peak = max((max(r.value_before, r.value_after) for r in rows), default=0.0)
    if not rows:
        return None, peak
    last = rows[-1]
    since = (last.decision.get("selection") or {}).get("since") or last.as_of.isoformat()
    return Held(str(last.strategy), date.fromisoformat(since)), peak


def add_log(session: Session, values: dict[str, Any]) -> RebalancingLogRow:
    """Insert one log row (``values`` keyed by column)."""
    row = RebalancingLogRow(**values)
    session.add(row)
    session.flush()
    return row


def log_frame(session: Session, account: str | None = None, limit: int = 100) -> pd.DataFrame:
    """The latest runs (newest first), of ``account`` or of all."""
    query = select(RebalancingLogRow).order_by(RebalancingLogRow.id.desc()).limit(limit)
    if account:
        query = query.where(RebalancingLogRow.account == account)
    rows = session.scalars(query).all()
    return pd.DataFrame([[getattr(r, c) for c in LOG_COLUMNS] for r in rows], columns=LOG_COLUMNS)


def log_decision(session: Session, log_id: int) -> dict[str, Any] | None:
    """The stored JSON of one run."""
    row = session.get(RebalancingLogRow, log_id)
    return None if row is None else dict(row.decision)


# -- schedules --------------------------------------------------------------------------------
def schedule_row(session: Session, account: str) -> AutopilotScheduleRow | None:
    """The account's schedule status row."""
    return session.get(AutopilotScheduleRow, account)


def schedule_dict(row: AutopilotScheduleRow | None) -> dict[str, Any] | None:
    """A status row as JSON-ready values."""
    if row is None:
        return None
    names = (
        "account", "mode", "cron", "timezone", "status", "pid", "heartbeat", "next_run",
        "last_run", "last_status", "stop_requested", "error", "updated_at",
    )  # fmt: skip
    return {n: getattr(row, n) for n in names}
