"""Valuation of a ledger: headline numbers, the positions table, a daily equity curve."""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import select

from core.db import FillRow, InstrumentRow, PortfolioRow
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


def daily_equity(row: PortfolioRow, events: list[tuple], closes: pd.DataFrame) -> list[tuple]:
    """(day, cash, positions value) at each close, applying events up to that day."""
    ledger = Ledger(
        starting_cash=row.starting_cash,
        allow_short=True,
        allow_margin=True,
        base_currency=row.base_currency,
    )
    curve, i = [], 0
    for day, prices in zip(closes.index, closes.to_dict("records"), strict=True):
        day_end = day + pd.Timedelta(days=1)
        while i < len(events) and events[i][0] < day_end:
            _, kind, item = events[i]
            if kind == 0:
                ledger.apply_cash(item.amount)
            else:
                ledger.apply_fill(repo.fill_from_row(item), instruments.to_model(item.instrument))
            i += 1
        curve.append((day, ledger.cash, ledger.positions_value(prices)))
    return curve


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


def trades_frame(records) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=[*TRADE_COLUMNS[:6], "multiplier", *TRADE_COLUMNS[7:]])
    frame["multiplier"] = frame["quantity"] * frame["price"] * frame["multiplier"]
    return frame.rename(columns={"multiplier": "notional"})[TRADE_COLUMNS]
