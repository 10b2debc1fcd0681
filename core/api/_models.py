"""The API's response models: every route answers one of these (the OpenAPI is typed).

Amounts are in the portfolio's base currency, fractions are plain (0.05 = 5 %), times are
UTC in RFC 3339 (``2022-12-28T00:00:00Z``; the database keeps naive UTC). A number that
is undefined (a Sharpe ratio of one day) is ``null``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Time = Annotated[datetime, AfterValidator(_utc)]
"""A time in UTC (a naive one is taken as UTC, as the database stores it)."""


class Model(BaseModel):
    """A response: frozen, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorBody(Model):
    """What is wrong (``message``) and where (the parameter, the route)."""

    message: str
    where: str | None = None


class ErrorResponse(Model):
    """Every refusal: ``{"error": {"message": ..., "where": ...}}``."""

    error: ErrorBody


class Health(Model):
    """The server is up; no token needed."""

    status: Literal["ok"]
    read_only: bool
    database: str


class Summary(Model):
    """A portfolio's headline numbers at the last known prices."""

    portfolio: str
    base_currency: str
    as_of: Time | None
    total_value: float
    cash: float
    positions_value: float
    n_positions: int
    starting_cash: float
    net_deposits: float
    pnl_today: float | None
    pnl_total: float
    pnl_total_pct: float | None
    realized_pnl: float
    unrealized_pnl: float
    commissions: float
    fees: float
    sharpe: float | None
    max_drawdown: float | None


class PositionOut(Model):
    """One open position, marked at the last known close."""

    symbol: str
    currency: str = Field("USD", description="the instrument's currency (prices and costs)")
    quantity: float
    avg_cost: float
    last_price: float
    cost_basis: float
    market_value: float
    unrealized_pnl: float
    unrealized_pct: float | None
    realized_pnl: float
    weight: float | None


class Positions(Model):
    """A portfolio's open positions, by symbol."""

    portfolio: str
    equity: float
    positions: list[PositionOut]


class LimitUse(Model):
    """One risk rule's verdict on the portfolio as it stands."""

    rule: str
    outcome: str
    value: Any = None
    limit: Any = None
    used: float | None = None
    message: str


class VarRow(Model):
    """VaR and CVaR of one method at one level (loss fractions; ``*_amount`` in money)."""

    method: str
    level: float
    var: float | None
    cvar: float | None
    var_amount: float | None
    cvar_amount: float | None


class Risk(Model):
    """Volatility, VaR/CVaR, Sharpe, drawdown, limits and their use (the Risk page's)."""

    portfolio: str
    equity: float
    trading_state: str
    volatility: float | None
    var_95: float | None
    cvar_95: float | None
    var_99: float | None
    cvar_99: float | None
    sharpe: float | None
    beta: float | None
    n_observations: int
    horizon_days: int
    var: list[VarRow]
    drawdown: dict[str, Any]
    limits: dict[str, Any]
    limit_usage: list[LimitUse]


class Performance(Model):
    """Metrics of the portfolio's daily equity (last snapshot of each UTC day)."""

    portfolio: str
    start: Time | None
    end: Time | None
    n_days: int
    metrics: dict[str, float | int | None]
    n_fills: int
    traded_notional: float
    realized_pnl: float
    commissions: float


class ChartPoint(Model):
    """One point of the equity curve."""

    ts: Time
    equity: float
    cash: float
    positions_value: float


class Chart(Model):
    """The equity curve, downsampled to at most ``points`` points (first and last kept)."""

    portfolio: str
    n_total: int
    points: list[ChartPoint]


class Trade(Model):
    """One fill."""

    fill_id: str
    ts: Time
    symbol: str
    side: str
    quantity: float
    price: float
    notional: float
    commission: float
    fees: float
    realized_pnl: float
    strategy: str | None


class Trades(Model):
    """The latest fills, newest first."""

    portfolio: str
    trades: list[Trade]


class StrategyRow(Model):
    """The fills booked under one strategy name (``manual`` for none)."""

    strategy: str
    n_fills: int
    traded_notional: float
    realized_pnl: float
    commissions: float
    fees: float
    net_realized: float


class SleeveRow(Model):
    """One strategy sleeve of a paper session on the portfolio."""

    session: str
    sleeve: str
    strategy: str
    equity: float | None
    pnl: float | None
    n_fills: int
    exposure: float | None


class StrategyPerformance(Model):
    """Realized results by strategy from the fills, and the paper sleeves trading it."""

    portfolio: str
    strategies: list[StrategyRow]
    sleeves: list[SleeveRow]


class Alert(Model):
    """Something that asks for attention now."""

    source: Literal["risk_limit", "drawdown", "paper"]
    level: str
    rule: str
    message: str
    ts: Time | None = None
    session: str | None = None


class Alerts(Model):
    """Limits warned or breached, the drawdown level, live sessions' latest alerts."""

    portfolio: str
    alerts: list[Alert]


class RegimeState(Model):
    """One state of the fitted hidden Markov model (annualised mean and volatility)."""

    label: str
    mean_annual: float
    vol_annual: float
    expected_duration: float
    share: float


class Regime(Model):
    """The market regime of a symbol's daily log returns (filtered at its last bar)."""

    symbol: str
    as_of: Time
    n_states: int
    n_observations: int
    current: str
    probabilities: dict[str, float]
    states: list[RegimeState]


class RebalanceStatus(Model):
    """Whether the portfolio is due a rebalance by the default policy, and its plan."""

    portfolio: str
    has_targets: bool
    message: str | None
    plan: dict[str, Any] | None
    history: list[dict[str, Any]]


class Compliance(Model):
    """The compliance report of a date range (``python -m core audit report``'s)."""

    start: str
    end: str
    n_events: int
    counts_by_kind: dict[str, int]
    n_breaches: int
    n_blocked: int
    breaches: list[dict[str, Any]]
    fills: dict[str, Any]
    largest_positions: list[dict[str, Any]]
    chain: dict[str, Any]


class AuditEventOut(Model):
    """One audit event (hash-chained)."""

    id: int
    ts: Time
    kind: str
    portfolio: str | None
    actor: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(Model):
    """A page of the audit trail, newest first; ``next_before`` fetches the next page."""

    events: list[AuditEventOut]
    next_before: int | None


class PaperSessionRow(Model):
    """One paper session, as the paper page lists it."""

    session: str
    status: str
    strategies: str
    feed: str
    symbols: str | None
    events: int
    of: int | None
    equity: float | None
    fills: int
    portfolio: str
    updated: Time | None


class PaperSessions(Model):
    """Every paper session, newest first."""

    sessions: list[PaperSessionRow]


class PaperSession(Model):
    """One session's state (``python -m core paper status --json``'s)."""

    session: str
    status: str
    portfolio: str
    events: int
    n_events: int | None
    last_ts: Time | None
    equity: float | None
    cash: float | None
    pnl: float | None
    positions: dict[str, float]
    n_fills: int
    drawdown: float | None
    regime: str | None
    strategies: dict[str, dict[str, Any]]
    pid: int | None
    error: str | None
    risk: dict[str, Any] | None
    pending_commands: int
    commands: list[dict[str, Any]]
