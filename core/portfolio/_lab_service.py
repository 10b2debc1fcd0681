"""Import and merge in the lab format: each one all-or-nothing transaction.

Everything that can refuse runs before the write: the document is parsed and validated,
its instruments are compared with this workstation's, its history is replayed and held to
every stated figure, and its equity curve is computed from the replay and the daily closes.
Then one ``sessions.begin()`` transaction writes the portfolio, its positions, fills and cash
movements (bulk inserts), the equity curve and the audit event — or, on any error, nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from core.audit import append_event
from core.db import CashMovementRow, EquitySnapshotRow, FillRow, OrderRow, PortfolioRow, PositionRow
from core.instruments import Instrument
from core.instruments import repository as instruments
from core.marketdata import MarketDataError, MarketDataService
from core.portfolio import _repository as repo
from core.portfolio._booking import check_name, utcnow
from core.portfolio._fx import fx_rate_frame, fx_rates
from core.portfolio._lab_check import Replay, check_history, parse_document
from core.portfolio._lab_format import LabPortfolio
from core.portfolio._lab_json import LabFormatError
from core.portfolio._ledger import Ledger, LedgerError
from core.portfolio._repository import PortfolioConflict, PortfolioInputError
from core.portfolio._transfer import export_document, instrument_conflicts, merge_documents
from core.portfolio._valuation import daily_equity, thin_curve

_HISTORY_TABLES = (FillRow, OrderRow, CashMovementRow, PositionRow, EquitySnapshotRow)


@dataclass(frozen=True)
class _Prepared:
    """A checked document and the rows derived from it, ready to write."""

    document: LabPortfolio
    replay: Replay | None
    snapshots: list[dict]


class LabService:
    """Lab-format export, import and merge on the database, valued with the market data."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        market: MarketDataService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._sessions = sessions
        self.market = market
        self.clock = clock

    def export_portfolio(self, name: str, *, include_trades: bool = True) -> LabPortfolio:
        """Portfolio ``name`` as a lab document (its trade history too by default)."""
        return export_document(self._sessions, name, include_trades=include_trades)

    def import_portfolio(
        self, source: str | bytes | LabPortfolio, *, name: str | None = None
    ) -> str:
        """Create a portfolio from a lab document (JSON text, bytes or a parsed model)."""
        document = source if isinstance(source, LabPortfolio) else parse_document(source)
        name = check_name(document.name if name is None else name)
        with self._sessions() as session:  # refuse early, before the replay
            _check_new_name(session, name)
            _check_instruments(session, document.instruments)
        prepared = self._prepare(document)
        with self._sessions.begin() as session:
            _check_new_name(session, name)
            _check_instruments(session, document.instruments)
            row = PortfolioRow(name=name, created_at=document.created_at, cash=0.0, starting_cash=0)
            session.add(row)
            _write(session, row, prepared)
            append_event(
                session, "portfolio_imported", {"source_name": document.name}, portfolio=name
            )
        return name

    def merge_portfolios(self, first: str, second: str, *, into: str) -> str:
        """Merge ``first`` and ``second`` into ``into``.

        A new portfolio, one of the two, or a third existing portfolio whose holdings are added to
        theirs.
        """
        if first == second:
            raise PortfolioInputError("choose two different portfolios to merge", "second")
        into = check_name(into)
        with self._sessions() as session:
            existing = repo.exists(session, into)
        documents = [export_document(self._sessions, n) for n in (first, second)]
        if existing and into not in (first, second):
            documents.insert(0, export_document(self._sessions, into))
        merged = documents[0]
        for other in documents[1:]:
            merged = merge_documents(merged, other, into)
        prepared = self._prepare(merged)
        with self._sessions.begin() as session:
            _check_instruments(session, merged.instruments)
            if existing:
                row = repo.get_row(session, into)
                for table in _HISTORY_TABLES:
                    session.execute(delete(table).where(table.portfolio_id == row.id))
                session.expire(row, ["positions"])
                event, payload = "portfolio_merged", {"metadata": merged.metadata}
            else:
                _check_new_name(session, into)
                row = PortfolioRow(name=into, created_at=merged.created_at, cash=0, starting_cash=0)
                session.add(row)
                event, payload = "portfolio_imported", {"source_name": merged.name}
            _write(session, row, prepared)
            append_event(session, event, payload, portfolio=into)
        return into

    # -- before the write ---------------------------------------------------------------------
    def _prepare(self, document: LabPortfolio) -> _Prepared:
        now = self.clock()
        replay = check_history(document, now=now)
        curve = self._history_curve(document, replay) if replay else []
        stated = _stated_ledger(document)
        marks = self.market.last_prices([p.symbol for p in stated.open_positions()], now)
        fx = fx_rates(self.market, stated.currencies(), stated.base_currency, now)
        with contextlib.suppress(LedgerError):  # a currency without FX bars: no snapshot now
            curve.append(
                (pd.Timestamp(now), stated.cash_value(fx), stated.positions_value(marks, fx))
            )
        by_time = {pd.Timestamp(ts).to_pydatetime(): (cash, value) for ts, cash, value in curve}
        snapshots = [
            {"ts": ts, "cash": cash, "positions_value": value, "equity": cash + value}
            for ts, (cash, value) in sorted(by_time.items())
        ]
        return _Prepared(document, replay, snapshots)

    def _history_curve(self, document: LabPortfolio, replay: Replay) -> list[tuple]:
        """Daily equity from the first event to the last close (thinned), [] without bars."""
        traded = sorted({item[0].symbol for _, kind, item in replay.events if kind == 1})
        if not traded:
            return []  # nothing to mark: the snapshot taken now is the curve
        try:
            closes = self.market.closes(traded, start=replay.events[0][0].date())
        except MarketDataError:  # a symbol without bars: the curve starts now
            return []
        ledger = Ledger(
            document.starting_cash, document.base_currency, allow_short=True, allow_margin=True
        )
        fx = fx_rate_frame(
            self.market, replay.ledger.currencies_used(), ledger.base_currency, closes.index
        )
        return thin_curve(daily_equity(ledger, replay.events, closes, fx))


# -- checks and writes -------------------------------------------------------------------------
def _check_new_name(session: Session, name: str) -> None:
    if repo.exists(session, name):
        raise PortfolioConflict(
            f"a portfolio named {name!r} already exists; import under another name", "name"
        )


def _check_instruments(session: Session, defined: list[Instrument]) -> None:
    stored = [i for i in (instruments.get(session, d.symbol) for d in defined) if i is not None]
    conflicts = instrument_conflicts(stored, defined)
    if conflicts:
        raise LabFormatError(
            "instrument definitions differ from this workstation's: " + "; ".join(conflicts),
            where="instruments",
        )


def _stated_ledger(document: LabPortfolio) -> Ledger:
    defined = {i.symbol: i for i in document.instruments}
    ledger = Ledger(document.starting_cash, document.base_currency, cash=document.cash)
    ledger.foreign_cash = dict(document.foreign_cash)
    for p in document.positions:
        position = ledger.new_position(defined[p.symbol])
        position.quantity, position.avg_cost = p.quantity, p.avg_cost
        position.realized_pnl = p.realized_pnl
        ledger.positions[p.symbol] = position
    return ledger


def _write(session: Session, row: PortfolioRow, prepared: _Prepared) -> None:
    """The portfolio's fields and every row of its content, with bulk inserts."""
    doc = prepared.document
    row.base_currency, row.starting_cash, row.cash = doc.base_currency, doc.starting_cash, doc.cash
    row.allow_short, row.allow_margin = doc.allow_short, doc.allow_margin
    row.description = doc.description
    row.commissions, row.fees = doc.totals.commissions, doc.totals.fees
    row.net_deposits = doc.totals.net_deposits
    row.foreign_cash = dict(doc.foreign_cash)
    row.target_weights, row.meta = dict(doc.target_weights), dict(doc.metadata)
    ids = {i.symbol: instruments.ensure(session, i, "import").id for i in doc.instruments}
    session.flush()
    for model, rows in _content_rows(row.id, ids, prepared):
        if rows:
            session.execute(insert(model.__table__), rows)


def _content_rows(pid: int, ids: dict[str, int], prepared: _Prepared) -> list[tuple]:
    """(model, rows) for positions, fills, cash movements and equity snapshots."""
    doc, replay = prepared.document, prepared.replay
    positions = [
        {
            "portfolio_id": pid,
            "instrument_id": ids[p.symbol],
            "quantity": p.quantity,
            "avg_cost": p.avg_cost,
            "realized_pnl": p.realized_pnl,
        }
        for p in doc.positions
    ]
    realized = replay.realized if replay else [0.0] * len(doc.trades or [])
    fills = [
        {
            "fill_id": t.fill_id,
            "order_id": None,
            "portfolio_id": pid,
            "instrument_id": ids[t.symbol],
            "ts": t.ts,
            "side": str(t.side),
            "quantity": t.quantity,
            "price": t.price,
            "commission": t.commission,
            "fees": t.fees,
            "realized_pnl": r,
            "strategy": t.strategy,
        }
        for t, r in zip(doc.trades or [], realized, strict=True)
    ]
    moves = [
        {
            "portfolio_id": pid,
            "ts": m.ts,
            "amount": m.amount,
            "kind": m.kind,
            "note": m.note,
            "currency": m.currency,
            "fx_rate": m.fx_rate,
            "counter_currency": m.counter_currency,
            "counter_amount": m.counter_amount,
        }
        for m in doc.cash_movements or []
    ]
    snapshots = [{"portfolio_id": pid, **s} for s in prepared.snapshots]
    return [
        (PositionRow, positions),
        (FillRow, fills),
        (CashMovementRow, moves),
        (EquitySnapshotRow, snapshots),
    ]
