"""Rows of the work that runs beside the ledger: trained models, worker tasks, the autopilot.

Split from :mod:`core.db._models` (one ``Base``, one metadata): the ledger's tables stay there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db._models import Base


class ModelRow(Base):
    """A trained model in the registry: what defines it, its metrics and its artifact's hash.

    The artifact (a file in the model library's own format under the models directory) is
    loaded only after its bytes hash to ``sha256``; nothing the workstation did not record
    here is ever loaded.
    """

    __tablename__ = "ml_models"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    universe: Mapped[list[Any]] = mapped_column(default=list)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    folds: Mapped[list[Any]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact: Mapped[str] = mapped_column(Text)  # relative to the models directory
    sha256: Mapped[str] = mapped_column(String(64))
    fmt: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class TaskRow(Base):
    """Long work (a model's training, say) run by a worker process; pages read it."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    done: Mapped[float] = mapped_column(Float, default=0.0)
    total: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    curve: Mapped[list[Any]] = mapped_column(default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class MarketRegimeRow(Base):
    """The autopilot's market regime of one day on one index (``core.autopilot``)."""

    __tablename__ = "market_regimes"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    index_symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float)
    volatility: Mapped[str] = mapped_column(String(16))
    trend: Mapped[str] = mapped_column(String(16))
    breadth: Mapped[float | None] = mapped_column(Float)
    ad_ratio: Mapped[float | None] = mapped_column(Float)
    hmm: Mapped[str | None] = mapped_column(String(32))
    hmm_probability: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RebalancingLogRow(Base):
    """One autopilot run on an account: the decision, what was traded and its status."""

    __tablename__ = "rebalancing_log"
    __table_args__ = (
        UniqueConstraint("account", "as_of", "mode", "attempt", name="uq_rebalancing_log_run"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    account: Mapped[str] = mapped_column(String(100), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    strategy: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    regime: Mapped[str | None] = mapped_column(String(40))
    value_before: Mapped[float] = mapped_column(Float)
    value_after: Mapped[float] = mapped_column(Float)
    n_buys: Mapped[int] = mapped_column(Integer, default=0)
    n_sells: Mapped[int] = mapped_column(Integer, default=0)
    turnover: Mapped[float] = mapped_column(Float, default=0.0)
    trades: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16))
    decision: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AutopilotRulesRow(Base):
    """The autopilot's stored rules table (a :class:`core.autopilot.RulesTable` as JSON)."""

    __tablename__ = "autopilot_rules"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AutopilotScheduleRow(Base):
    """An account's autopilot schedule worker: its cron, pid, heartbeat, next run, stop flag."""

    __tablename__ = "autopilot_schedules"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running | stopped | failed
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)
    next_run: Mapped[datetime | None] = mapped_column(DateTime)
    last_run: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(Text)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
