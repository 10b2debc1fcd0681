"""What booking a fill writes, apart from the use cases.

The trade result, the order and fill rows, the fill's audit payload, the client-order-id and
name checks, and the clock helpers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.db import FillRow, OrderRow, PortfolioRow
from core.portfolio import _repository as repo
from core.portfolio._lab_format import check_name as _check_name_text
from core.portfolio._lab_format import check_text
from core.portfolio._ledger import Fill, Side
from core.portfolio._repository import PortfolioInputError

MAX_ORDER_ID = 60  # the fill id "F-<order id>" must fit the 64-character column
FUTURE_TOLERANCE = timedelta(minutes=5)  # a trade may be stamped a little ahead of the clock


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def naive_utc(ts: datetime | None) -> datetime:
    """``ts`` as a naive UTC time (the database convention); now when None."""
    if ts is None:
        return utcnow()
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def event_time(now: datetime, ts: datetime | None) -> datetime:
    """``ts`` as naive UTC (``now`` when None).

    A time in the future is refused: it would forbid every later event, since the ledger books
    in time order.
    """
    if ts is None:
        return now
    ts = naive_utc(ts)
    if ts > now + FUTURE_TOLERANCE:
        raise PortfolioInputError(
            f"ts: {ts:%Y-%m-%d %H:%M:%S} is in the future (now is {now:%Y-%m-%d %H:%M:%S} "
            "UTC); trades and cash movements are booked when they happen",
            "ts",
        )
    return ts


@dataclass(frozen=True)
class TradeResult:
    fill_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    fees: float
    realized_pnl: float
    cash_after: float
    ts: datetime
    duplicate: bool = False


def _check_order_id(order_id: str) -> str:
    if not order_id.strip() or len(order_id) > MAX_ORDER_ID:
        raise PortfolioInputError(
            f"a client order id needs 1 to {MAX_ORDER_ID} characters, got {len(order_id)}",
            "order_id",
        )
    return order_id


def check_name(name: str | None) -> str:
    """A portfolio name, stripped: 1 to 100 characters, none of them control characters."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise PortfolioInputError("name: a portfolio name needs 1 to 100 characters", "name")
    try:
        return _check_name_text(name)
    except ValueError as exc:
        raise PortfolioInputError(f"name: {exc}", "name") from exc


def check_new_portfolio(
    name: str, starting_cash: float, base_currency: str, description: str
) -> tuple[str, str]:
    """The checked name and base currency of a portfolio to create."""
    name, base_currency = check_name(name), base_currency.strip().upper()
    try:
        check_text(description)
    except ValueError as exc:
        raise PortfolioInputError(f"description: {exc}", "description") from exc
    if not re.fullmatch(r"[A-Z]{3}", base_currency):
        raise PortfolioInputError(
            f"base currency must be a three-letter code such as USD, got {base_currency!r}",
            "base_currency",
        )
    if not math.isfinite(starting_cash) or starting_cash < 0:
        raise PortfolioInputError("starting cash must be a finite amount ≥ 0", "starting_cash")
    return name, base_currency


def _existing_fill(session: Session, row: PortfolioRow, client_order_id: str) -> FillRow | None:
    """The fill booked for ``client_order_id``, or None.

    Its id is ``F-<order id>`` (also after an import); found through the unique (portfolio,
    fill id) index.
    """
    query = repo.fills_query(row.id, fill_id=f"F-{client_order_id}", order=None)
    return session.scalars(query).first()


def _insert_order_and_fill(
    session, row, instrument_id, fill: Fill, client_order_id, strategy, realized
) -> FillRow:
    order = OrderRow(
        portfolio_id=row.id,
        instrument_id=instrument_id,
        client_order_id=client_order_id,
        side=str(fill.side),
        quantity=fill.quantity,
        order_type="market",
        status="filled",
        filled_quantity=fill.quantity,
        strategy=strategy,
        created_at=fill.ts,
        updated_at=fill.ts,
    )
    session.add(order)
    session.flush()
    fill_row = FillRow(
        fill_id=f"F-{client_order_id}",
        order_id=order.id,
        portfolio_id=row.id,
        instrument_id=instrument_id,
        ts=fill.ts,
        side=str(fill.side),
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        fees=fill.fees,
        realized_pnl=realized,
        strategy=strategy,
    )
    session.add(fill_row)
    session.flush()
    return fill_row


def _result(
    fill: FillRow, cash: float, *, duplicate: bool = False, symbol: str | None = None
) -> TradeResult:
    return TradeResult(
        fill.fill_id,
        symbol or fill.instrument.symbol,
        Side(fill.side),
        fill.quantity,
        fill.price,
        fill.commission,
        fill.fees,
        fill.realized_pnl,
        cash,
        fill.ts,
        duplicate,
    )


def _fill_payload(fill: Fill, fill_id: str) -> dict[str, Any]:
    return {
        "fill_id": fill_id,
        "symbol": fill.symbol,
        "side": str(fill.side),
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
        "fees": fill.fees,
    }
