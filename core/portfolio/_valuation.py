"""Valuation of a ledger: headline numbers, the positions table, a daily equity curve."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from core.db import AuditEventRow, EquitySnapshotRow, FillRow, InstrumentRow, PortfolioRow
from core.instruments import repository as instruments
from core.portfolio import _repository as repo
from core.portfolio._ledger import Ledger

TRADE_COLUMNS = [
    "fill_id",
    "ts",
    "symbol",
    "side",
    "quantity",
    "price",
    "notional",
    "commission",
    "fees",
    "realized_pnl",
    "strategy",
]
POSITION_COLUMNS = [
    "symbol",
    "quantity",
    "avg_cost",
    "last_price",
    "cost_basis",
    "market_value",
    "unrealized_pnl",
    "unrealized_pct",
    "realized_pnl",
    "weight",
]


@dataclass(frozen=True)
class PortfolioSummary:
    """A stored portfolio's settings and headline numbers at its marks.

    Amounts are in ``base_currency``. ``net_pnl = realized + unrealized − commissions −
    fees = equity − starting_cash − net_deposits``; ``net_pnl_pct`` is it over the money put
    in (NaN when none was).

    Attributes
    ----------
    name, base_currency, description : str
        The portfolio's settings (``description`` may be empty).
    created_at : datetime
        When it starts (naive UTC).
    allow_short, allow_margin : bool
        What its ledger allows.
    target_weights : dict of str to float
        Symbol → target weight (empty when none were set).
    cash, positions_value, equity, starting_cash, net_deposits : float
        Money now, positions at the marks, their sum, the start and deposits − withdrawals.
    realized_pnl, unrealized_pnl, commissions, fees, net_pnl : float
        P&L and costs so far.
    net_pnl_pct : float
        ``net_pnl / (starting_cash + net_deposits)``.
    n_positions : int
        Open positions.
    """

    name: str
    base_currency: str
    created_at: datetime
    allow_short: bool
    allow_margin: bool
    description: str | None
    target_weights: dict[str, float]
    cash: float
    positions_value: float
    equity: float
    starting_cash: float
    net_deposits: float
    realized_pnl: float
    unrealized_pnl: float
    commissions: float
    fees: float
    net_pnl: float
    net_pnl_pct: float
    n_positions: int

    def to_dict(self) -> dict[str, Any]:
        """The keys of ``portfolio show --json`` (and of the summary before it was typed)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def valuation(ledger: Ledger, marks: dict[str, float]) -> dict[str, float]:
    """Headline numbers of a ledger at ``marks``."""
    equity = ledger.equity(marks)
    invested = ledger.starting_cash + ledger.net_deposits
    net = ledger.net_pnl(marks)
    return {
        "cash": ledger.cash,
        "positions_value": ledger.positions_value(marks),
        "equity": equity,
        "starting_cash": ledger.starting_cash,
        "net_deposits": ledger.net_deposits,
        "realized_pnl": ledger.realized_pnl(),
        "unrealized_pnl": ledger.unrealized_pnl(marks),
        "commissions": ledger.commissions,
        "fees": ledger.fees,
        "net_pnl": net,
        "net_pnl_pct": net / invested if invested else math.nan,
        "n_positions": len(ledger.open_positions()),
    }


def positions_frame(ledger: Ledger, marks: dict[str, float]) -> pd.DataFrame:
    equity = ledger.equity(marks)
    records = []
    for p in sorted(ledger.open_positions(), key=lambda p: p.symbol):
        last = marks.get(p.symbol, p.avg_cost)
        cost = p.quantity * p.avg_cost * p.multiplier
        value = p.market_value(last)
        unrealized = p.unrealized_pnl(last)
        records.append(
            [
                p.symbol,
                p.quantity,
                p.avg_cost,
                last,
                cost,
                value,
                unrealized,
                unrealized / abs(cost) if cost else math.nan,
                p.realized_pnl,
                value / equity if equity else math.nan,
            ]
        )
    return pd.DataFrame(records, columns=POSITION_COLUMNS)


def daily_equity(ledger: Ledger, events: list[tuple], closes: pd.DataFrame) -> list[tuple]:
    """(day, cash, positions value) at each close, applying events up to that day.

    ``ledger`` is the empty starting ledger (it is changed); ``events`` are
    ``(ts, 0, amount)`` cash movements and ``(ts, 1, (fill, instrument))`` fills in
    booking order.
    """
    curve, i = [], 0
    for day, prices in zip(closes.index, closes.to_dict("records"), strict=True):
        day_end = day + pd.Timedelta(days=1)
        while i < len(events) and events[i][0] < day_end:
            _, kind, item = events[i]
            if kind == 0:
                ledger.apply_cash(item)
            else:
                ledger.apply_fill(*item, check=False)  # booked once already
            i += 1
        curve.append((day, ledger.cash, ledger.positions_value(prices)))
    return curve


DAILY_WINDOW = pd.Timedelta(days=730)  # the last two years of a curve keep every close


def thin_curve(curve: list[tuple], window: pd.Timedelta = DAILY_WINDOW) -> list[tuple]:
    """Every point of the last ``window`` before the curve's end, month ends before that.

    So a single old trade writes a few hundred snapshots, not one for each day since.
    """
    if not curve:
        return []
    cutoff = curve[-1][0] - window
    kept = []
    for point, following in zip(curve, [*curve[1:], None], strict=True):
        day = point[0]
        month_end = following is None or (following[0].year, following[0].month) != (
            day.year,
            day.month,
        )
        if day >= cutoff or month_end:
            kept.append(point)
    return kept


def replay_events(rows: list[tuple]) -> list[tuple]:
    """Events read from the database (``repo.replay``) as ``daily_equity`` takes them."""
    return [
        (ts, 0, item.amount)
        if kind == 0
        else (ts, 1, (repo.fill_from_row(item), instruments.to_model(item.instrument)))
        for ts, kind, item in rows
    ]


def trades_query(portfolio_id: int):
    """Columns of the trades table, straight from the database (no ORM objects)."""
    return (
        select(
            FillRow.fill_id,
            FillRow.ts,
            InstrumentRow.symbol,
            FillRow.side,
            FillRow.quantity,
            FillRow.price,
            InstrumentRow.multiplier,
            FillRow.commission,
            FillRow.fees,
            FillRow.realized_pnl,
            FillRow.strategy,
        )
        .join(InstrumentRow, FillRow.instrument_id == InstrumentRow.id)
        .where(FillRow.portfolio_id == portfolio_id)
        .order_by(FillRow.ts, FillRow.id)
    )


def newest_trades_query(portfolio_id: int, limit: int):
    """:func:`trades_query` newest first (by time, then booking order), at most ``limit``."""
    query = trades_query(portfolio_id).order_by(None)
    return query.order_by(FillRow.ts.desc(), FillRow.id.desc()).limit(limit)


def curve_stamp(session, name: str) -> tuple[int | None, datetime | None, float | None]:
    """The portfolio's last audit event, last snapshot time and equity (one indexed read).

    Every booking (fill, cash movement) writes an audit event, and a paper worker's equity
    marks are each at a later time than the last, so the stamp changes whenever the curve
    does through them. Counting the snapshots would say more but costs a scan of them.
    """
    pid = select(PortfolioRow.id).where(PortfolioRow.name == name).scalar_subquery()
    mine = EquitySnapshotRow.portfolio_id == pid
    last = (
        select(EquitySnapshotRow.ts, EquitySnapshotRow.equity)
        .where(mine)
        .order_by(EquitySnapshotRow.ts.desc())
        .limit(1)
        .subquery()
    )
    event = (
        select(func.max(AuditEventRow.id)).where(AuditEventRow.portfolio == name).scalar_subquery()
    )
    row = session.execute(select(event, last.c.ts, last.c.equity).select_from(last)).first()
    if row is None:  # no snapshot yet
        return session.scalar(select(event)), None, None
    return row[0], row[1], row[2]


def trades_frame(records) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=[*TRADE_COLUMNS[:6], "multiplier", *TRADE_COLUMNS[7:]])
    frame["multiplier"] = frame["quantity"] * frame["price"] * frame["multiplier"]
    return frame.rename(columns={"multiplier": "notional"})[TRADE_COLUMNS]
