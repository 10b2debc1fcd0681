"""SQLAlchemy 2.0 typed models: one table per ledger concept.

Money-moving rows (orders, fills, cash movements, positions, the portfolio's cash)
are only ever written together inside one transaction by the portfolio service.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class InstrumentRow(Base):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    asset_class: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(Text, default="")  # unbounded: a lab import brings it
    multiplier: Mapped[float] = mapped_column(Float, default=1.0)
    quantity_step: Mapped[float] = mapped_column(Float, default=1.0)
    price_tick: Mapped[float] = mapped_column(Float, default=0.01)
    pip_size: Mapped[float | None] = mapped_column(Float)
    underlying: Mapped[str | None] = mapped_column(Text)  # not validated to a length
    strike: Mapped[float | None] = mapped_column(Float)
    expiry: Mapped[date | None] = mapped_column(Date)
    option_right: Mapped[str | None] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(String(16), default="user")
    initial_margin: Mapped[float | None] = mapped_column(Float)  # futures, per contract (0010)
    maintenance_margin: Mapped[float | None] = mapped_column(Float)


class BarRow(Base):
    """Imported or fetched bars (bundled history stays in ``data/market`` files)."""

    __tablename__ = "bars"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)


class PortfolioRow(Base):
    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    starting_cash: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    net_deposits: Mapped[float] = mapped_column(Float, default=0.0)
    commissions: Mapped[float] = mapped_column(Float, default=0.0)
    fees: Mapped[float] = mapped_column(Float, default=0.0)
    allow_short: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_margin: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    target_weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # cash in currencies other than the base, currency -> amount (0010); ``cash`` is the base
    foreign_cash: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)

    positions: Mapped[list[PositionRow]] = relationship(
        back_populates="portfolio", cascade="all, delete-orphan", passive_deletes=True
    )


class PositionRow(Base):
    """Current holding per instrument; kept at zero quantity to remember realized P&L."""

    __tablename__ = "positions"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float, default=0.0)
    avg_cost: Mapped[float] = mapped_column(Float, default=0.0)
    realized_pnl: Mapped[float] = mapped_column(Float, default=0.0)

    portfolio: Mapped[PortfolioRow] = relationship(back_populates="positions")
    instrument: Mapped[InstrumentRow] = relationship(lazy="joined")


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("portfolio_id", "client_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[float] = mapped_column(Float)
    order_type: Mapped[str] = mapped_column(String(16), default="market")
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    time_in_force: Mapped[str] = mapped_column(String(8), default="day")
    status: Mapped[str] = mapped_column(String(16))
    filled_quantity: Mapped[float] = mapped_column(Float, default=0.0)
    strategy: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (
        Index("ix_fills_portfolio_ts", "portfolio_id", "ts"),
        Index("ix_fills_portfolio_instrument", "portfolio_id", "instrument_id"),
        UniqueConstraint("portfolio_id", "fill_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fill_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    ts: Mapped[datetime] = mapped_column(DateTime)
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    commission: Mapped[float] = mapped_column(Float, default=0.0)
    fees: Mapped[float] = mapped_column(Float, default=0.0)
    realized_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    strategy: Mapped[str | None] = mapped_column(String(100))

    instrument: Mapped[InstrumentRow] = relationship(lazy="joined")


class CashMovementRow(Base):
    __tablename__ = "cash_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # (0010) the amount's currency (None: the base); for a deposit, the base units per unit of
    # it on the day; for an exchange (kind "exchange", amount < 0 sold), what was bought
    currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[float | None] = mapped_column(Float)
    counter_currency: Mapped[str | None] = mapped_column(String(3))
    counter_amount: Mapped[float | None] = mapped_column(Float)


class EquitySnapshotRow(Base):
    __tablename__ = "equity_snapshots"

    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    cash: Mapped[float] = mapped_column(Float)
    positions_value: Mapped[float] = mapped_column(Float)
    equity: Mapped[float] = mapped_column(Float)


class StrategyConfigRow(Base):
    __tablename__ = "strategy_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)  # only stripped when saved
    strategy: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEventRow(Base):
    """Append-only; each row's hash covers its content and the previous row's hash.

    No two rows may link to the same previous hash (``ux_audit_log_prev_hash``): a fork of
    the chain by two concurrent writers cannot be committed. On a database whose chain had
    already forked, migration 0006 enforces this from the first event after the fork on.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ux_audit_log_prev_hash", "prev_hash", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    portfolio: Mapped[str | None] = mapped_column(String(100), index=True)
    actor: Mapped[str] = mapped_column(String(64), default="user")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class WriteLockRow(Base):
    """The write lock: one row (``name = 'write'``) that writing transactions take first.

    Every money-moving or audit-writing transaction updates it first (see
    ``core.db.take_write_lock``).
    """

    __tablename__ = "write_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    taken: Mapped[int] = mapped_column(BigInteger, default=0)  # transactions that held it


event.listen(
    WriteLockRow.__table__,
    "after_create",
    DDL("INSERT INTO write_locks (name, taken) VALUES ('write', 0)"),
)


class MetaRow(Base):
    """Small key/value facts about this database (for example, demo already seeded)."""

    __tablename__ = "workstation_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BacktestRunRow(Base):
    """A saved backtest: its configuration hash is its id, so a rerun overwrites itself."""

    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")  # names the symbols it ran on
    strategy: Mapped[str] = mapped_column(String(100), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    symbols: Mapped[str] = mapped_column(Text, default="")  # all of them, or the data file
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime] = mapped_column(DateTime)
    final_equity: Mapped[float] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trades: Mapped[list[Any]] = mapped_column(default=list)
    equity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OptimizationJobRow(Base):
    """A parameter search run by a worker process; the page reads it and writes commands."""

    __tablename__ = "optimization_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    best_score: Mapped[float | None] = mapped_column(Float)
    best_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    history: Mapped[list[Any]] = mapped_column(default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pid: Mapped[int | None] = mapped_column(Integer)


class PaperSessionRow(Base):
    """A paper-trading session: its configuration, where its worker is, its latest state."""

    __tablename__ = "paper_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    events: Mapped[int] = mapped_column(Integer, default=0)  # events committed
    last_ts: Mapped[datetime | None] = mapped_column(DateTime)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # latest snapshot
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PaperBarRow(Base):
    """A bar a session processed, in order (``seq`` from 0): its recorded feed."""

    __tablename__ = "paper_bars"
    __table_args__ = (Index("ix_paper_bars_symbol", "session_id", "symbol", "seq"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("paper_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)


class PaperEquityRow(Base):
    """The session's equity after each event, with each strategy's share."""

    __tablename__ = "paper_equity"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("paper_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    equity: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    gross: Mapped[float] = mapped_column(Float)
    drawdown: Mapped[float] = mapped_column(Float)
    regime: Mapped[str | None] = mapped_column(String(32))
    strategies: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PaperCommandRow(Base):
    """A command for a session's worker (start, pause, order, …) and what became of it."""

    __tablename__ = "paper_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("paper_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    message: Mapped[str] = mapped_column(Text, default="")
    applied_seq: Mapped[int | None] = mapped_column(Integer)  # replayed at this event on resume
    created_at: Mapped[datetime] = mapped_column(DateTime)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)


class PaperAlertRow(Base):
    """A risk alert raised in a session: a pre-trade warning or block, a drawdown level."""

    __tablename__ = "paper_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("paper_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(DateTime)
    level: Mapped[str] = mapped_column(String(16))  # info | warn | block | critical
    rule: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
