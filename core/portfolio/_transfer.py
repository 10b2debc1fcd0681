"""Export, import and merge portfolios in the lab format (plus CSV and Excel exports)."""

from __future__ import annotations

import hashlib
import io
import json
import math

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from core.audit import append_event
from core.db import CashMovementRow, EquitySnapshotRow, FillRow, OrderRow, PortfolioRow, PositionRow
from core.errors import WorkstationError
from core.instruments import Instrument
from core.instruments import repository as instruments
from core.portfolio import _repository as repo
from core.portfolio._lab_format import (
    LabCashMovement,
    LabPortfolio,
    LabPosition,
    LabTotals,
    LabTrade,
)
from core.portfolio._ledger import Fill, Ledger, LedgerError
from core.portfolio._repository import PortfolioError
from core.portfolio._service import utcnow

QTY_TOLERANCE = 1e-6
CASH_TOLERANCE = 1e-4


class LabFormatError(WorkstationError, ValueError):
    """A lab document that cannot be read or does not hold together; nothing was written."""


# -- export ------------------------------------------------------------------------------
def export_document(
    sessions: sessionmaker[Session], name: str, *, include_trades: bool = True
) -> LabPortfolio:
    with sessions() as session:
        row = repo.get_row(session, name)
        ledger, defined = repo.load_ledger(session, row)
        trades = [_lab_trade(f) for f in repo.fills(session, row)] if include_trades else None
        moves = (
            [_lab_move(m) for m in repo.cash_movements(session, row)] if include_trades else None
        )
        for f in repo.fills(session, row):
            defined.setdefault(f.instrument.symbol, instruments.to_model(f.instrument))
        for symbol in set(row.target_weights) - set(defined):
            _, defined[symbol] = repo.instrument_or_error(session, symbol)
        return LabPortfolio(
            name=row.name,
            base_currency=row.base_currency,
            starting_cash=row.starting_cash,
            cash=ledger.cash,
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


# -- import ------------------------------------------------------------------------------
def parse_document(raw: str | bytes) -> LabPortfolio:
    """Parse and validate a lab JSON document; errors say where and what."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise LabFormatError(
            f"not valid JSON{where}: {exc.msg if hasattr(exc, 'msg') else exc}"
        ) from exc
    try:
        return LabPortfolio.model_validate(data)
    except ValidationError as exc:
        raise LabFormatError(_describe(exc)) from exc


def check_history(document: LabPortfolio) -> dict[str, float]:
    """When trades are included, replaying them must reproduce cash and quantities.

    The stated state must also obey the document's own rules (no short position in a
    portfolio that does not allow shorts, no negative cash without margin).
    Returns the realized P&L of each trade (by fill id) found on the way.
    """
    _check_rules(document)
    if document.trades is None:
        return {}
    defined = {i.symbol: i for i in document.instruments}
    ledger = Ledger(
        document.starting_cash, document.base_currency, allow_short=True, allow_margin=True
    )
    events = [(m.ts, 0, m) for m in document.cash_movements or []] + [
        (t.ts, 1, t) for t in document.trades
    ]
    realized: dict[str, float] = {}
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        try:
            realized.update(_replay_one(ledger, kind, item, defined))
        except LedgerError as exc:
            raise LabFormatError(f"trade history: {exc}") from exc
    _compare(document, ledger)
    return realized


def import_document(
    sessions: sessionmaker[Session], document: LabPortfolio, *, name: str | None = None
) -> str:
    """Create a portfolio from ``document``; validation is complete before any write."""
    name = (name or document.name).strip()
    realized = check_history(document)
    with sessions.begin() as session:
        if repo.exists(session, name):
            raise PortfolioError(
                f"a portfolio named {name!r} already exists; import under another name", "name"
            )
        _check_instruments(session, document.instruments)
        row = PortfolioRow(name=name, created_at=document.created_at, cash=0.0, starting_cash=0.0)
        session.add(row)
        _write_content(session, row, document, realized)
        append_event(session, "portfolio_imported", {"source_name": document.name}, portfolio=name)
    return name


def replace_content(
    sessions: sessionmaker[Session], name: str, document: LabPortfolio, event: str
) -> None:
    """Overwrite an existing portfolio's ledger and history with ``document``."""
    realized = check_history(document)
    with sessions.begin() as session:
        row = repo.get_row(session, name)
        _check_instruments(session, document.instruments)
        for table in (FillRow, OrderRow, CashMovementRow, PositionRow, EquitySnapshotRow):
            session.execute(delete(table).where(table.portfolio_id == row.id))
        session.expire(row, ["positions"])
        _write_content(session, row, document, realized)
        append_event(session, event, {"metadata": document.metadata}, portfolio=name)


# -- merge -----------------------------------------------------------------------------------
def merge_documents(a: LabPortfolio, b: LabPortfolio, name: str) -> LabPortfolio:
    """Combine two portfolios: cash and quantities add, costs average by quantity.

    Positions on opposite sides net out; the netted quantity is realized at the
    difference of the two average costs. Raises LabFormatError listing every
    conflicting instrument definition (and a currency mismatch).
    """
    conflicts = _instrument_conflicts(a.instruments, b.instruments)
    if a.base_currency != b.base_currency:
        conflicts.insert(0, f"base currency: {a.base_currency} vs {b.base_currency}")
    if conflicts:
        raise LabFormatError("cannot merge, conflicting definitions: " + "; ".join(conflicts))
    defined = {i.symbol: i for i in [*a.instruments, *b.instruments]}
    both_histories = a.trades is not None and b.trades is not None
    return LabPortfolio(
        name=name,
        base_currency=a.base_currency,
        starting_cash=a.starting_cash + b.starting_cash,
        cash=a.cash + b.cash,
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


def _instrument_conflicts(xs: list[Instrument], ys: list[Instrument]) -> list[str]:
    mine = {i.symbol: i for i in xs}
    out = []
    for other in ys:
        if other.symbol in mine and (diff := mine[other.symbol].definition_differences(other)):
            out.append(f"{other.symbol} ({', '.join(diff)})")
    return out


# -- internals ---------------------------------------------------------------------------------
def _check_instruments(session: Session, defined: list[Instrument]) -> None:
    stored = [i for i in (instruments.get(session, d.symbol) for d in defined) if i is not None]
    conflicts = _instrument_conflicts(stored, defined)
    if conflicts:
        raise LabFormatError(
            "instrument definitions differ from this workstation's: " + "; ".join(conflicts)
        )


def _write_content(session: Session, row: PortfolioRow, doc: LabPortfolio, realized: dict) -> None:
    row.base_currency, row.starting_cash, row.cash = doc.base_currency, doc.starting_cash, doc.cash
    row.allow_short, row.allow_margin, row.description = (
        doc.allow_short,
        doc.allow_margin,
        doc.description,
    )
    row.commissions, row.fees, row.net_deposits = (
        doc.totals.commissions,
        doc.totals.fees,
        doc.totals.net_deposits,
    )
    row.target_weights, row.meta = dict(doc.target_weights), dict(doc.metadata)
    ids = {i.symbol: instruments.ensure(session, i, "import").id for i in doc.instruments}
    session.flush()
    for p in doc.positions:
        session.add(
            PositionRow(
                portfolio_id=row.id,
                instrument_id=ids[p.symbol],
                quantity=p.quantity,
                avg_cost=p.avg_cost,
                realized_pnl=p.realized_pnl,
            )
        )
    for t in doc.trades or []:
        session.add(
            FillRow(
                fill_id=t.fill_id,
                portfolio_id=row.id,
                instrument_id=ids[t.symbol],
                ts=t.ts,
                side=str(t.side),
                quantity=t.quantity,
                price=t.price,
                commission=t.commission,
                fees=t.fees,
                realized_pnl=realized.get(t.fill_id, 0.0),
                strategy=t.strategy,
            )
        )
    for m in doc.cash_movements or []:
        session.add(
            CashMovementRow(portfolio_id=row.id, ts=m.ts, amount=m.amount, kind=m.kind, note=m.note)
        )
    session.flush()


def _replay_one(ledger: Ledger, kind: int, item, defined: dict[str, Instrument]) -> dict:
    if kind == 0:
        ledger.apply_cash(item.amount)
        return {}
    fill = Fill(
        item.symbol, item.side, item.quantity, item.price, item.commission, item.fees, item.ts
    )
    return {item.fill_id: ledger.apply_fill(fill, defined[item.symbol])}


def _check_rules(document: LabPortfolio) -> None:
    if not document.allow_short:
        shorts = [p.symbol for p in document.positions if p.quantity < -QTY_TOLERANCE]
        if shorts:
            raise LabFormatError(f"positions: {', '.join(shorts)} short, but allow_short is false")
    if not document.allow_margin and document.cash < -CASH_TOLERANCE:
        raise LabFormatError(f"cash: {document.cash:,.2f} is negative, but allow_margin is false")


def _compare(document: LabPortfolio, ledger: Ledger) -> None:
    problems = []
    if not math.isclose(ledger.cash, document.cash, rel_tol=1e-9, abs_tol=CASH_TOLERANCE):
        problems.append(f"cash {ledger.cash:,.4f} from the trades vs {document.cash:,.4f} stated")
    stated = {p.symbol: p.quantity for p in document.positions}
    for symbol in sorted(set(stated) | {p.symbol for p in ledger.open_positions()}):
        replayed = ledger.quantity(symbol)
        if abs(replayed - stated.get(symbol, 0.0)) > QTY_TOLERANCE:
            expected = stated.get(symbol, 0.0)
            problems.append(f"{symbol} quantity {replayed:g} from trades vs {expected:g} stated")
    if problems:
        raise LabFormatError(
            "trade history does not reproduce the portfolio: " + "; ".join(problems)
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:10]:
        location = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in error["loc"])
        parts.append(f"{location.replace('.[', '[') or 'document'}: {error['msg']}")
    more = f" (and {exc.error_count() - 10} more)" if exc.error_count() > 10 else ""
    return "invalid portfolio document: " + "; ".join(parts) + more


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
    return LabCashMovement(ts=m.ts, amount=m.amount, kind=m.kind, note=m.note)
