"""Export and merge portfolios in the lab format (plus CSV and Excel exports).

Reading and checking a document lives in ``_lab_check``; the import and merge use cases,
which write, in ``_lab_service``.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from core.db import CashMovementRow, FillRow
from core.instruments import Instrument
from core.instruments import repository as instruments
from core.portfolio import _repository as repo
from core.portfolio._booking import utcnow
from core.portfolio._lab_check import QTY_TOLERANCE, replay_history
from core.portfolio._lab_format import (
    LabCashMovement,
    LabPortfolio,
    LabPosition,
    LabTotals,
    LabTrade,
)
from core.portfolio._lab_json import LabFormatError


# -- export ------------------------------------------------------------------------------
def export_document(
    sessions: sessionmaker[Session], name: str, *, include_trades: bool = True
) -> LabPortfolio:
    with sessions() as session:
        row = repo.get_row(session, name)
        ledger, defined = repo.load_ledger(session, row)
        fills = repo.fills(session, row)
        trades = [_lab_trade(f) for f in fills] if include_trades else None
        moves = (
            [_lab_move(m) for m in repo.cash_movements(session, row)] if include_trades else None
        )
        for f in fills:
            if f.instrument.symbol not in defined:
                defined[f.instrument.symbol] = instruments.to_model(f.instrument)
        for symbol in set(row.target_weights) - set(defined):
            _, defined[symbol] = repo.instrument_or_error(session, symbol)
        return LabPortfolio(
            name=row.name,
            base_currency=row.base_currency,
            starting_cash=row.starting_cash,
            cash=ledger.cash,
            foreign_cash=dict(ledger.foreign_cash),
            allow_short=row.allow_short,
            allow_margin=row.allow_margin,
            description=row.description,
            created_at=row.created_at,
            exported_at=utcnow(),
            instruments=sorted(defined.values(), key=lambda i: i.symbol),
            positions=[
                _lab_position(p) for p in sorted(ledger.positions.values(), key=lambda p: p.symbol)
            ],
            target_weights=dict(row.target_weights),
            metadata=dict(row.meta),
            totals=LabTotals(
                commissions=ledger.commissions, fees=ledger.fees, net_deposits=ledger.net_deposits
            ),
            trades=trades,
            cash_movements=moves,
        )


def to_json(document: LabPortfolio) -> str:
    return document.model_dump_json(indent=2)


def to_csv(document: LabPortfolio) -> bytes:
    """Positions, one row each, then a CASH row: opens in any spreadsheet."""
    frame = pd.DataFrame(
        [p.model_dump() for p in document.positions],
        columns=["symbol", "quantity", "avg_cost", "realized_pnl"],
    )
    cash = pd.DataFrame(
        [{"symbol": "CASH", "quantity": document.cash, "avg_cost": 1.0, "realized_pnl": 0.0}]
    )
    return pd.concat([frame, cash], ignore_index=True).to_csv(index=False).encode()


def to_excel(document: LabPortfolio) -> bytes:
    """A workbook with Summary, Positions, Trades and Target weights sheets."""
    summary = document.model_dump(
        exclude={
            "instruments",
            "positions",
            "trades",
            "cash_movements",
            "target_weights",
            "metadata",
            "totals",
        }
    )
    summary.update(document.totals.model_dump())
    sheets = {
        "Summary": pd.DataFrame(list(summary.items()), columns=["field", "value"]).astype(str),
        "Positions": pd.DataFrame([p.model_dump() for p in document.positions]),
        "Trades": pd.DataFrame([t.model_dump(mode="json") for t in document.trades or []]),
        "Target weights": pd.DataFrame(
            list(document.target_weights.items()), columns=["symbol", "weight"]
        ),
        "Instruments": pd.DataFrame([i.model_dump(mode="json") for i in document.instruments]),
    }
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()


# -- merge -----------------------------------------------------------------------------------
def merge_documents(a: LabPortfolio, b: LabPortfolio, name: str) -> LabPortfolio:
    """Combine two portfolios: cash and quantities add, costs average by quantity.

    Positions on opposite sides net out; the netted quantity is realized at the
    difference of the two average costs. When both carry their trade histories, the
    merged history is the truth: positions, cash and totals are those of its replay
    (they differ from the averages only when the two books traded a symbol in turn).
    Raises LabFormatError listing every conflicting instrument definition (and a
    currency mismatch).
    """
    conflicts = instrument_conflicts(a.instruments, b.instruments)
    if a.base_currency != b.base_currency:
        conflicts.insert(0, f"base currency: {a.base_currency} vs {b.base_currency}")
    if conflicts:
        raise LabFormatError("cannot merge, conflicting definitions: " + "; ".join(conflicts))
    defined = {i.symbol: i for i in [*a.instruments, *b.instruments]}
    both_histories = a.trades is not None and b.trades is not None
    merged = LabPortfolio(
        name=name,
        base_currency=a.base_currency,
        starting_cash=a.starting_cash + b.starting_cash,
        cash=a.cash + b.cash,
        foreign_cash={
            c: a.foreign_cash.get(c, 0.0) + b.foreign_cash.get(c, 0.0)
            for c in sorted(set(a.foreign_cash) | set(b.foreign_cash))
        },
        allow_short=a.allow_short or b.allow_short,
        allow_margin=a.allow_margin or b.allow_margin,
        description=a.description or b.description,
        created_at=min(a.created_at, b.created_at),
        instruments=sorted(defined.values(), key=lambda i: i.symbol),
        positions=_merge_positions(a.positions, b.positions, defined),
        target_weights=a.target_weights or b.target_weights,
        totals=LabTotals(
            commissions=a.totals.commissions + b.totals.commissions,
            fees=a.totals.fees + b.totals.fees,
            net_deposits=a.totals.net_deposits + b.totals.net_deposits,
        ),
        metadata={"merged_from": [a.name, b.name], "merged_at": utcnow().isoformat()},
        trades=_merge_trades(a, b) if both_histories else None,
        cash_movements=[*(a.cash_movements or []), *(b.cash_movements or [])]
        if both_histories
        else None,
    )
    return _as_replayed(merged) if both_histories else merged


def _as_replayed(document: LabPortfolio) -> LabPortfolio:
    """``document`` with the positions, cash and totals its history replays to."""
    try:
        ledger = replay_history(document).ledger
    except LabFormatError as exc:
        raise LabFormatError(f"cannot merge, the combined history breaks a rule: {exc}") from exc
    positions = [
        _lab_position(p) for p in sorted(ledger.positions.values(), key=lambda p: p.symbol)
    ]
    totals = LabTotals(
        commissions=ledger.commissions, fees=ledger.fees, net_deposits=ledger.net_deposits
    )
    return document.model_copy(
        update={
            "positions": positions,
            "cash": ledger.cash,
            "foreign_cash": dict(ledger.foreign_cash),
            "totals": totals,
        }
    )


def _merge_positions(pa, pb, defined: dict[str, Instrument]) -> list[LabPosition]:
    merged: dict[str, LabPosition] = {p.symbol: p for p in pa}
    for p in pb:
        merged[p.symbol] = (
            _combine(merged[p.symbol], p, defined[p.symbol]) if p.symbol in merged else p
        )
    return sorted(merged.values(), key=lambda p: p.symbol)


def _combine(x: LabPosition, y: LabPosition, instrument: Instrument) -> LabPosition:
    quantity = x.quantity + y.quantity
    realized = x.realized_pnl + y.realized_pnl
    if x.quantity == 0 or y.quantity == 0 or (x.quantity > 0) == (y.quantity > 0):
        weight = abs(x.quantity) + abs(y.quantity)
        cost = (
            (abs(x.quantity) * x.avg_cost + abs(y.quantity) * y.avg_cost) / weight
            if weight
            else 0.0
        )
        return LabPosition(symbol=x.symbol, quantity=quantity, avg_cost=cost, realized_pnl=realized)
    long, short = (x, y) if x.quantity > 0 else (y, x)
    netted = min(long.quantity, -short.quantity)
    realized += netted * (short.avg_cost - long.avg_cost) * instrument.multiplier
    if abs(quantity) <= QTY_TOLERANCE * instrument.quantity_step:
        return LabPosition(symbol=x.symbol, quantity=0.0, avg_cost=0.0, realized_pnl=realized)
    survivor = long if quantity > 0 else short
    return LabPosition(
        symbol=x.symbol, quantity=quantity, avg_cost=survivor.avg_cost, realized_pnl=realized
    )


def _merge_trades(a: LabPortfolio, b: LabPortfolio) -> list[LabTrade]:
    taken = {t.fill_id for t in a.trades}
    renamed = []
    for trade in b.trades:
        if trade.fill_id in taken:
            trade = trade.model_copy(update={"fill_id": _fresh_fill_id(b.name, trade, taken)})
        taken.add(trade.fill_id)
        renamed.append(trade)
    return sorted([*a.trades, *renamed], key=lambda t: t.ts)


def _fresh_fill_id(source: str, trade: LabTrade, taken: set[str]) -> str:
    """A short, unused id derived from the source portfolio and the original id."""
    for attempt in range(1000):
        digest = hashlib.sha256(f"{source}|{trade.fill_id}|{attempt}".encode()).hexdigest()
        candidate = f"M-{digest[:24]}"
        if candidate not in taken:
            return candidate
    raise LabFormatError(f"cannot find a free id for trade {trade.fill_id!r}")


def instrument_conflicts(xs: list[Instrument], ys: list[Instrument]) -> list[str]:
    mine = {i.symbol: i for i in xs}
    out = []
    for other in ys:
        if other.symbol in mine and (diff := mine[other.symbol].definition_differences(other)):
            out.append(f"{other.symbol} ({', '.join(diff)})")
    return out


# -- internals ---------------------------------------------------------------------------------
def _lab_position(p) -> LabPosition:
    return LabPosition(
        symbol=p.symbol, quantity=p.quantity, avg_cost=p.avg_cost, realized_pnl=p.realized_pnl
    )


def _lab_trade(f: FillRow) -> LabTrade:
    return LabTrade(
        fill_id=f.fill_id,
        ts=f.ts,
        symbol=f.instrument.symbol,
        side=f.side,
        quantity=f.quantity,
        price=f.price,
        commission=f.commission,
        fees=f.fees,
        strategy=f.strategy,
    )


def _lab_move(m: CashMovementRow) -> LabCashMovement:
    return LabCashMovement(
        ts=m.ts,
        amount=m.amount,
        kind=m.kind,
        note=m.note,
        currency=m.currency,
        fx_rate=m.fx_rate,
        counter_currency=m.counter_currency,
        counter_amount=m.counter_amount,
    )
