"""Load and store a portfolio's ledger; every function works inside the caller's session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.db import CashMovementRow, FillRow, InstrumentRow, PortfolioRow, PositionRow
from core.errors import ConflictError, InvalidInputError, NotFoundError, WorkstationError
from core.instruments import Instrument
from core.instruments import repository as instruments
from core.portfolio._ledger import Fill, Ledger, Side, apply_movement


class PortfolioError(WorkstationError, ValueError):
    """A portfolio request that cannot be carried out; ``field`` names the input at fault.

    The room's umbrella (catch it): raise sites raise one of its kinds below.
    """


class PortfolioInputError(PortfolioError, InvalidInputError):
    """A portfolio request whose input breaks a rule (a name, an amount, a time)."""


class PortfolioNotFound(PortfolioError, NotFoundError):
    """No portfolio (or instrument) by the name given."""


class PortfolioConflict(PortfolioError, ConflictError):
    """A name already taken, or holdings that changed since a plan was made."""


def get_row(session: Session, name: str) -> PortfolioRow:
    row = session.scalars(select(PortfolioRow).where(PortfolioRow.name == name)).first()
    if row is None:
        raise PortfolioNotFound(f"no portfolio named {name!r}", "portfolio")
    return row


def exists(session: Session, name: str) -> bool:
    return session.scalar(select(PortfolioRow.id).where(PortfolioRow.name == name)) is not None


def last_event_time(session: Session, row: PortfolioRow):
    """The time of the portfolio's latest fill or cash movement (None when it has none)."""
    fill = session.scalar(select(func.max(FillRow.ts)).where(FillRow.portfolio_id == row.id))
    cash = session.scalar(
        select(func.max(CashMovementRow.ts)).where(CashMovementRow.portfolio_id == row.id)
    )
    times = [t for t in (fill, cash) if t is not None]
    return max(times) if times else None


def check_not_back_dated(session: Session, row: PortfolioRow, ts) -> None:
    """Refuse an event dated before the latest one: the ledger books in time order."""
    last = last_event_time(session, row)
    if last is not None and ts < last:
        raise PortfolioInputError(
            f"time {ts:%Y-%m-%d %H:%M:%S} is before the portfolio's latest event "
            f"({last:%Y-%m-%d %H:%M:%S}); the ledger books events in time order",
            "ts",
        )


def instrument_or_error(session: Session, symbol: str) -> tuple[InstrumentRow, Instrument]:
    row = instruments.get_row(session, symbol)
    if row is None:
        raise PortfolioNotFound(
            f"unknown instrument {symbol!r}: import its market data or define it first", "symbol"
        )
    return row, instruments.to_model(row)


def load_ledger(session: Session, row: PortfolioRow) -> tuple[Ledger, dict[str, Instrument]]:
    """The stored ledger of ``row`` and the instruments of its positions."""
    ledger = _empty_ledger(row)
    ledger.cash, ledger.net_deposits = row.cash, row.net_deposits
    ledger.commissions, ledger.fees = row.commissions, row.fees
    ledger.foreign_cash = {c: float(v) for c, v in (row.foreign_cash or {}).items()}
    ledger.options = dict((row.meta or {}).get("options") or {})
    defined: dict[str, Instrument] = {}
    for pos in row.positions:
        instrument = instruments.to_model(pos.instrument)
        defined[instrument.symbol] = instrument
        position = ledger.new_position(instrument)
        position.quantity, position.avg_cost = pos.quantity, pos.avg_cost
        position.realized_pnl = pos.realized_pnl
        ledger.positions[instrument.symbol] = position
    return ledger, defined


def store_ledger(session: Session, row: PortfolioRow, ledger: Ledger) -> None:
    """Write cash, totals and every position of ``ledger`` onto ``row``."""
    row.cash, row.net_deposits = ledger.cash, ledger.net_deposits
    row.commissions, row.fees = ledger.commissions, ledger.fees
    row.foreign_cash = dict(ledger.foreign_cash)  # a new dict: the JSON column sees the change
    if ledger.options != (row.meta or {}).get("options", {}):
        row.meta = {**(row.meta or {}), "options": dict(ledger.options)}
    stored = {p.instrument.symbol: p for p in row.positions}
    for symbol, position in ledger.positions.items():
        target = stored.get(symbol)
        if target is None:
            instrument_row, _ = instrument_or_error(session, symbol)
            target = PositionRow(instrument_id=instrument_row.id, instrument=instrument_row)
            row.positions.append(target)
        target.quantity, target.avg_cost = position.quantity, position.avg_cost
        target.realized_pnl = position.realized_pnl
    session.flush()


def fills(session: Session, row: PortfolioRow) -> list[FillRow]:
    return list(session.scalars(fills_query(row.id)))


def fills_query(
    portfolio_id: int,
    *,
    columns: Sequence[str] = (),
    symbol: str | None = None,
    fill_id: str | None = None,
    order: Literal["time", "newest"] | None = "time",
    limit: int | None = None,
) -> Select:
    """The one query of a portfolio's fills, for an ORM session or a Core connection to run.

    Used by the ledger's replay, the paper console and the look-up of a fill by its id.

    Parameters
    ----------
    portfolio_id : int
        The portfolio's row id.
    columns : sequence of str, optional
        ``FillRow`` attributes to select, in that order, ``"symbol"`` for the instrument's
        symbol; empty selects whole ``FillRow`` objects.
    symbol : str, optional
        Only the fills of this instrument.
    fill_id : str, optional
        Only the fill with this id (unique per portfolio).
    order : {"time", "newest"} or None
        ``time``: oldest first (by time, then booking order); ``newest``: the last booked
        first; None: no order.
    limit : int, optional
        At most this many rows.

    Returns
    -------
    sqlalchemy.Select
        The statement, not yet executed.
    """
    selected = [InstrumentRow.symbol if c == "symbol" else getattr(FillRow, c) for c in columns]
    query = select(*selected) if columns else select(FillRow)
    if "symbol" in columns or symbol is not None:
        query = query.join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
    query = query.where(FillRow.portfolio_id == portfolio_id)
    if symbol is not None:
        query = query.where(InstrumentRow.symbol == symbol)
    if fill_id is not None:
        query = query.where(FillRow.fill_id == fill_id)
    if order == "time":
        query = query.order_by(FillRow.ts, FillRow.id)
    elif order == "newest":
        query = query.order_by(FillRow.id.desc())
    return query if limit is None else query.limit(limit)


def cash_movements(session: Session, row: PortfolioRow) -> list[CashMovementRow]:
    query = (
        select(CashMovementRow)
        .where(CashMovementRow.portfolio_id == row.id)
        .order_by(CashMovementRow.ts, CashMovementRow.id)
    )
    return list(session.scalars(query))


def replay(session: Session, row: PortfolioRow) -> tuple[Ledger, list[tuple]]:
    """Rebuild the ledger from starting cash, cash movements and fills, in time order.

    Returns the ledger and the ordered events ``(ts, kind, item)`` it was built from.
    """
    events = [(m.ts, 0, m) for m in cash_movements(session, row)]
    events += [(f.ts, 1, f) for f in fills(session, row)]
    events.sort(key=lambda e: (e[0], e[1]))
    ledger = _empty_ledger(row, margin=True, short=True)
    for _, kind, item in events:
        if kind == 0:
            apply_movement(ledger, item)
        else:
            ledger.apply_fill(fill_from_row(item), instruments.to_model(item.instrument))
    return ledger, events


def fill_from_row(row: FillRow) -> Fill:
    return Fill(
        row.instrument.symbol,
        Side(row.side),
        row.quantity,
        row.price,
        row.commission,
        row.fees,
        row.ts,
    )


def _empty_ledger(row: PortfolioRow, *, margin: bool = False, short: bool = False) -> Ledger:
    return Ledger(
        starting_cash=row.starting_cash,
        base_currency=row.base_currency,
        allow_short=row.allow_short or short,
        allow_margin=row.allow_margin or margin,
    )
