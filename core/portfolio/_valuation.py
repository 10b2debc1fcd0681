"""Valuation of a ledger: headline numbers, the positions table, a daily equity curve."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from core.db import AuditEventRow, EquitySnapshotRow, FillRow, InstrumentRow, PortfolioRow
from core.instruments import repository as instruments
from core.portfolio import _repository as repo
from core.portfolio._fx import fx_rate_frame
from core.portfolio._ledger import Ledger, LedgerError, apply_movement

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
    cash_by_currency : dict of str to float
        Cash per currency in its own units, the base first.
    asset_pnl, fx_pnl : float
        ``net_pnl`` split: price P&L less costs at today's rates, and the rest, from exchange
        rates (``Ledger.pnl_split``; ``fx_pnl`` is 0 for a single-currency portfolio).
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
    cash_by_currency: dict[str, float] | None = None
    asset_pnl: float = math.nan
    fx_pnl: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The keys of ``portfolio show --json`` (and of the summary before it was typed)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def valuation(
    ledger: Ledger, marks: dict[str, float], fx: dict[str, float] | None = None
) -> dict[str, float]:
    """Headline numbers of a ledger at ``marks`` and exchange rates ``fx``, in the base.

    ``cash`` is all cash valued in the base currency (``cash_by_currency`` has each balance).
    """
    equity = ledger.equity(marks, fx)
    invested = ledger.starting_cash + ledger.net_deposits
    asset = ledger.net_pnl(marks, fx)
    net = equity - invested if ledger.currencies_used() else asset
    return {
        "cash": ledger.cash_value(fx),
        "positions_value": ledger.positions_value(marks, fx),
        "equity": equity,
        "starting_cash": ledger.starting_cash,
        "net_deposits": ledger.net_deposits,
        "realized_pnl": ledger.realized_pnl(fx),
        "unrealized_pnl": ledger.unrealized_pnl(marks, fx),
        "commissions": ledger.commissions,
        "fees": ledger.fees,
        "net_pnl": net,
        "net_pnl_pct": net / invested if invested else math.nan,
        "n_positions": len(ledger.open_positions()),
        "cash_by_currency": ledger.cash_balances(),
        "asset_pnl": asset,
        "fx_pnl": net - asset,
    }


def positions_frame(
    ledger: Ledger, marks: dict[str, float], fx: dict[str, float] | None = None
) -> pd.DataFrame:
    """One row per open position: prices in its currency, amounts in the base currency.

    A future's ``market_value`` is its unrealized P&L (it settles variation, not notional).
    """
    equity = ledger.equity(marks, fx)
    records = []
    for p in sorted(ledger.open_positions(), key=lambda p: p.symbol):
        last = marks.get(p.symbol, p.avg_cost)
        rate = ledger.rate(p.currency, fx)
        cost = p.quantity * p.avg_cost * p.multiplier * rate
        value = p.market_value(last) * rate
        unrealized = p.unrealized_pnl(last) * rate
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
                p.realized_pnl * rate,
                value / equity if equity else math.nan,
                p.currency or ledger.base_currency,
            ]
        )
    return pd.DataFrame(records, columns=[*POSITION_COLUMNS, "currency"])


def daily_equity(
    ledger: Ledger, events: list[tuple], closes: pd.DataFrame, fx: pd.DataFrame | None = None
) -> list[tuple]:
    """(day, cash, positions value) at each close, applying events up to that day.

    ``ledger`` is the empty starting ledger (it is changed); ``events`` are
    ``(ts, 0, movement)`` cash movements (see ``apply_movement``) and
    ``(ts, 1, (fill, instrument))`` fills in booking order. Amounts are in the base currency,
    converted with ``fx`` (currency columns on the index of ``closes``); a day on which a
    currency held has no rate yet is left out.
    """
    curve, i = [], 0
    rates = fx.to_dict("records") if fx is not None and len(fx.columns) else None
    for n, (day, prices) in enumerate(zip(closes.index, closes.to_dict("records"), strict=True)):
        day_end = day + pd.Timedelta(days=1)
        while i < len(events) and events[i][0] < day_end:
            _, kind, item = events[i]
            if kind == 0:
                apply_movement(ledger, item)
            else:
                ledger.apply_fill(*item, check=False)  # booked once already
            i += 1
        day_fx = rates[n] if rates is not None else None
        try:
            curve.append((day, ledger.cash_value(day_fx), ledger.positions_value(prices, day_fx)))
        except LedgerError:
            continue  # no rate for a currency held on that day
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
        (ts, 0, item)
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


def rebuild_curve(session: Session, row: PortfolioRow, market, end=None, thin=False) -> int:
    """Replace the equity snapshots of ``row`` by its replay against daily closes.

    Amounts in the base currency (FX closes of the currencies it used). Returns the number of
    snapshots; 0, leaving the snapshots as they are, when it has no fills.
    """
    replayed, events = repo.replay(session, row)
    if not any(kind == 1 for _, kind, _ in events):
        return 0  # nothing to mark: keep the snapshots taken at each cash movement
    symbols = sorted({e[2].instrument.symbol for e in events if e[1] == 1})
    closes = market.closes(symbols, start=events[0][0].date(), end=end)
    start = Ledger(row.starting_cash, row.base_currency, allow_short=True, allow_margin=True)
    fx = fx_rate_frame(market, replayed.currencies_used(), row.base_currency, closes.index)
    curve = daily_equity(start, replay_events(events), closes, fx)
    curve = thin_curve(curve) if thin else curve
    session.execute(delete(EquitySnapshotRow).where(EquitySnapshotRow.portfolio_id == row.id))
    records = [
        {"portfolio_id": row.id, "ts": ts.to_pydatetime(), "cash": c, "positions_value": v,
         "equity": c + v}
        for ts, c, v in curve
    ]  # fmt: skip
    if records:
        session.execute(insert(EquitySnapshotRow.__table__), records)
    return len(curve)


def equity_frame(session: Session, portfolio_id: int) -> pd.DataFrame:
    """The stored equity snapshots, oldest first, on a ``timestamp`` index."""
    query = (
        select(
            EquitySnapshotRow.ts,
            EquitySnapshotRow.cash,
            EquitySnapshotRow.positions_value,
            EquitySnapshotRow.equity,
        )
        .where(EquitySnapshotRow.portfolio_id == portfolio_id)
        .order_by(EquitySnapshotRow.ts)
    )
    records = session.execute(query).all()
    frame = pd.DataFrame(records, columns=["ts", "cash", "positions_value", "equity"])
    return frame.set_index(pd.DatetimeIndex(frame.pop("ts"), name="timestamp"))
