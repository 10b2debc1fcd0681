"""Instrument rows in the database, converted to and from the pydantic model."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import InstrumentRow
from core.instruments._model import Instrument

_FIELDS = tuple(Instrument.model_fields)


def to_model(row: InstrumentRow) -> Instrument:
    return Instrument.model_validate({name: getattr(row, name) for name in _FIELDS})


def get_row(session: Session, symbol: str) -> InstrumentRow | None:
    return session.scalars(select(InstrumentRow).where(InstrumentRow.symbol == symbol)).first()


def get(session: Session, symbol: str) -> Instrument | None:
    row = get_row(session, symbol)
    return to_model(row) if row else None


def list_all(session: Session) -> list[Instrument]:
    rows = session.scalars(select(InstrumentRow).order_by(InstrumentRow.symbol))
    return [to_model(row) for row in rows]


def upsert(session: Session, instrument: Instrument, source: str = "user") -> InstrumentRow:
    """Insert ``instrument`` or overwrite the stored definition of its symbol."""
    row = get_row(session, instrument.symbol) or InstrumentRow(symbol=instrument.symbol)
    for name, value in instrument.model_dump().items():
        setattr(row, name, value.value if hasattr(value, "value") else value)
    row.source = source
    session.add(row)
    session.flush()
    return row


def ensure(session: Session, instrument: Instrument, source: str = "user") -> InstrumentRow:
    """The stored row for the symbol, inserting ``instrument`` when it is new."""
    return get_row(session, instrument.symbol) or upsert(session, instrument, source)
