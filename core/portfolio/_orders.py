"""Multi-leg orders and futures: several fills in one transaction, one audit event.

A multi-leg order (an option strategy, a futures roll) books every leg on one ledger, in
order, each checked by the ledger's rules against the state the legs before it left; if any
leg is refused nothing is written. Each leg gets its own order and fill rows (client order id
``<order id>-<n>``), and the whole order one audit event whose payload lists the legs.

Futures margin (:func:`check_margin`): after each booking the portfolio's equity is compared
with the maintenance margin of its open futures; falling below it writes a ``margin_call``
audit event (once, until equity is back above it: ``margin_call_met``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.audit import append_event
from core.db import PortfolioRow
from core.instruments import AssetClass
from core.marketdata import MarketDataService
from core.portfolio import _repository as repo
from core.portfolio._booking import (
    TradeResult,
    _existing_fill,
    _fill_payload,
    _insert_order_and_fill,
    _result,
)
from core.portfolio._ledger import Fill, Ledger, LedgerError, Side
from core.portfolio._options import record_trade_vol
from core.portfolio._repository import PortfolioInputError

MAX_LEGS = 8


@dataclass(frozen=True)
class Leg:
    """One leg of a multi-leg order; ``price`` None takes the last market price."""

    symbol: str
    side: Side
    quantity: float
    price: float | None = None
    commission: float = 0.0
    fees: float = 0.0


def leg_ids(order_id: str, n: int) -> list[str]:
    """The client order ids of the legs of ``order_id``."""
    return [f"{order_id}-{i}" for i in range(1, n + 1)]


def existing_legs(session: Session, row: PortfolioRow, order_id: str, n: int):
    """The fills already booked for a multi-leg order (a retry), or None."""
    fills = [_existing_fill(session, row, leg_id) for leg_id in leg_ids(order_id, n)]
    return None if fills[0] is None else [f for f in fills if f is not None]


def book_legs(
    session: Session,
    row: PortfolioRow,
    market: MarketDataService,
    legs: list[Leg],
    ts: datetime,
    order_id: str,
    strategy: str | None,
    kind: str,
    extra: dict | None = None,
) -> tuple[Ledger, list[TradeResult], dict[str, float]]:
    """Book ``legs`` and write their rows and one audit event of ``kind``.

    Returns the ledger after the order, the legs' results and the fill prices by symbol.
    """
    if not 1 <= len(legs) <= MAX_LEGS:
        raise PortfolioInputError(
            f"legs: an order has 1 to {MAX_LEGS} legs, got {len(legs)}", "legs"
        )
    repo.check_not_back_dated(session, row, ts)
    ledger, _ = repo.load_ledger(session, row)
    booked = []
    for i, leg in enumerate(legs):
        instrument_row, instrument = repo.instrument_or_error(session, leg.symbol)
        price = leg.price if leg.price is not None else market.last_price(leg.symbol, as_of=ts)
        if price is None:
            raise PortfolioInputError(
                f"legs[{i}].price: no price given and no market price known for {leg.symbol}",
                "price",
            )
        fill = Fill(leg.symbol, Side(leg.side), float(leg.quantity), float(price),
                    leg.commission, leg.fees, ts)  # fmt: skip
        try:
            realized = ledger.apply_fill(fill, instrument)
        except LedgerError as exc:
            raise PortfolioInputError(f"legs[{i}] ({leg.symbol}): {exc}", exc.field) from exc
        if instrument.asset_class is AssetClass.OPTION and price > 0:
            spot = market.last_price(instrument.underlying, as_of=ts)
            record_trade_vol(ledger, instrument, fill.price, spot, ts)
        booked.append((instrument_row, fill, realized))
    repo.store_ledger(session, row, ledger)
    results, payloads = [], []
    for leg_id, (instrument_row, fill, realized) in zip(
        leg_ids(order_id, len(legs)), booked, strict=True
    ):
        fill_row = _insert_order_and_fill(
            session, row, instrument_row.id, fill, leg_id, strategy, realized
        )
        results.append(_result(fill_row, ledger.cash, symbol=fill.symbol))
        payloads.append(_fill_payload(fill, fill_row.fill_id))
    payload = {"order_id": order_id, "legs": payloads, **(extra or {})}
    append_event(session, kind, payload, portfolio=row.name)
    return ledger, results, {fill.symbol: fill.price for _, fill, _ in booked}


def roll_order(
    session: Session, name: str, from_symbol: str, to_symbol: str, from_price, to_price
) -> tuple[list[Leg], dict]:
    """The legs that roll a futures position (close ``from_symbol``, open ``to_symbol``).

    Returns them (without costs) and the audit payload's extra fields.
    """
    ledger, _ = repo.load_ledger(session, repo.get_row(session, name))
    old = repo.instrument_or_error(session, from_symbol)[1]
    new = repo.instrument_or_error(session, to_symbol)[1]
    for field, instrument in (("from_symbol", old), ("to_symbol", new)):
        if instrument.asset_class is not AssetClass.FUTURE:
            raise PortfolioInputError(
                f"{field}: {instrument.symbol} is a {instrument.asset_class}, not a future", field
            )
    if from_symbol == to_symbol:
        raise PortfolioInputError("to_symbol: roll into another contract", "to_symbol")
    if old.underlying and new.underlying and old.underlying != new.underlying:
        raise PortfolioInputError(
            f"to_symbol: {to_symbol} is a {new.underlying} contract, {from_symbol} a "
            f"{old.underlying} one; a roll stays on one underlying",
            "to_symbol",
        )
    held = ledger.quantity(from_symbol)
    if held == 0:
        raise PortfolioInputError(
            f"from_symbol: the portfolio holds no {from_symbol}", "from_symbol"
        )
    close, keep = (Side.SELL, Side.BUY) if held > 0 else (Side.BUY, Side.SELL)
    legs = [
        Leg(from_symbol, close, abs(held), from_price),
        Leg(to_symbol, keep, abs(held), to_price),
    ]
    return legs, {"from": from_symbol, "to": to_symbol, "contracts": abs(held)}


def margin_status(ledger: Ledger, equity: float, fx: dict[str, float]) -> dict[str, float | bool]:
    """Initial and maintenance margin of the open futures against ``equity`` (base currency)."""
    initial = ledger.margin_requirement("initial", fx)
    maintenance = ledger.margin_requirement("maintenance", fx)
    return {
        "equity": equity,
        "initial_margin": initial,
        "maintenance_margin": maintenance,
        "excess_liquidity": equity - maintenance,
        "margin_call": maintenance > 0 and equity < maintenance,
    }


def check_margin(session: Session, row: PortfolioRow, status: dict, ts: datetime) -> None:
    """Write ``margin_call`` when equity falls below maintenance, ``margin_call_met`` after."""
    meta = dict(row.meta or {})
    was = bool(meta.get("margin_call"))
    now = bool(status["margin_call"])
    if now == was:
        return
    payload = {k: status[k] for k in ("equity", "maintenance_margin", "initial_margin")}
    payload["ts"] = ts.isoformat()
    if now:
        meta["margin_call"] = payload
        payload["shortfall"] = status["maintenance_margin"] - status["equity"]
    else:
        meta.pop("margin_call", None)
    row.meta = meta
    append_event(session, "margin_call" if now else "margin_call_met", payload, portfolio=row.name)
