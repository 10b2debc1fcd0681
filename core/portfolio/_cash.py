"""Cash movements in any currency and currency exchanges, booked inside the caller's session.

Each function checks, changes the ledger, writes the cash movement row and the audit event;
the caller holds the write lock (``sessions.begin()``) and takes the equity snapshot.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from core.audit import append_event
from core.db import CashMovementRow, PortfolioRow
from core.marketdata import MarketDataService
from core.portfolio import _repository as repo
from core.portfolio._fx import fx_rates
from core.portfolio._ledger import Ledger, LedgerError
from core.portfolio._repository import PortfolioInputError


def check_currency(code: str | None, field: str = "currency") -> str | None:
    """A three-letter currency code, upper-cased (None stays None)."""
    if code is None:
        return None
    code = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise PortfolioInputError(
            f"{field}: a currency is a three-letter code such as EUR, got {code!r}", field
        )
    return code


def book_deposit(
    session: Session,
    row: PortfolioRow,
    market: MarketDataService,
    amount: float,
    ts: datetime,
    currency: str | None,
    fx_rate: float | None,
    note: str,
) -> Ledger:
    """A deposit or withdrawal of ``amount`` in ``currency`` (None: the base)."""
    repo.check_not_back_dated(session, row, ts)
    ledger, _ = repo.load_ledger(session, row)
    foreign = currency not in (None, ledger.base_currency)
    rate = _rate_or_last(market, currency, ledger.base_currency, fx_rate, ts) if foreign else None
    try:
        ledger.apply_deposit(amount, currency or ledger.base_currency, rate or 1.0)
    except LedgerError as exc:
        raise PortfolioInputError(str(exc), exc.field) from exc
    repo.store_ledger(session, row, ledger)
    kind = "deposit" if amount > 0 else "withdrawal"
    session.add(
        CashMovementRow(
            portfolio_id=row.id,
            ts=ts,
            amount=amount,
            kind=kind,
            note=note,
            currency=currency if foreign else None,
            fx_rate=rate,
        )
    )
    payload = {"amount": amount, "note": note}
    if foreign:
        payload.update(currency=currency, fx_rate=rate)
    append_event(session, kind, payload, portfolio=row.name)
    return ledger


def book_exchange(
    session: Session,
    row: PortfolioRow,
    market: MarketDataService,
    sell: str,
    amount: float,
    buy: str,
    rate: float | None,
    ts: datetime,
    note: str,
) -> tuple[Ledger, float]:
    """Sell ``amount`` of ``sell`` for ``buy``; returns the ledger and the amount bought."""
    repo.check_not_back_dated(session, row, ts)
    ledger, _ = repo.load_ledger(session, row)
    rate = _rate_or_last(market, sell, buy, rate, ts, field="rate")
    try:
        bought = ledger.apply_exchange(sell, float(amount), buy, float(rate))
    except LedgerError as exc:
        raise PortfolioInputError(f"{exc.field}: {exc}", exc.field) from exc
    repo.store_ledger(session, row, ledger)
    session.add(
        CashMovementRow(
            portfolio_id=row.id,
            ts=ts,
            amount=-float(amount),
            kind="exchange",
            note=note,
            currency=None if sell == ledger.base_currency else sell,
            fx_rate=float(rate),
            counter_currency=buy,
            counter_amount=bought,
        )
    )
    payload = {"sell": sell, "amount": amount, "buy": buy, "rate": rate, "bought": bought}
    append_event(session, "fx_exchange", payload, portfolio=row.name)
    return ledger, bought


def _rate_or_last(
    market: MarketDataService,
    currency: str,
    base: str,
    given: float | None,
    ts: datetime,
    field: str = "fx_rate",
) -> float:
    if given is not None:
        return given
    rate = fx_rates(market, [currency], base, ts).get(currency)
    if rate is None:
        raise PortfolioInputError(
            f"{field}: no {currency}/{base} FX bars known at {ts:%Y-%m-%d}; give the rate", field
        )
    return rate
