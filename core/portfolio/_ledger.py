"""The virtual portfolio ledger.

Cash and positions that change only through fills and cash movements.

Conventions
-----------
* Notional of a fill = quantity × price × multiplier, in the portfolio's currency.
* Average-cost basis: adding to a position averages the cost; reducing it realizes
  ``closed quantity × (price − average cost) × multiplier`` (sign-adjusted for shorts);
  crossing through zero closes the old position and opens the rest at the fill price.
* Realized P&L is gross: commissions and fees are tracked apart, so that
  ``realized + unrealized − commissions − fees = equity − starting cash − net deposits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.errors import InvalidInputError
from core.instruments import Instrument

CASH_TOLERANCE = 1e-6


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class LedgerError(InvalidInputError):
    """A rule of the ledger was broken; ``field`` names the input at fault."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``quantity`` is positive; ``side`` gives the direction."""

    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float = 0.0
    fees: float = 0.0
    ts: datetime | None = None


@dataclass(slots=True)
class Position:
    symbol: str
    multiplier: float = 1.0
    quantity: float = 0.0
    avg_cost: float = 0.0
    realized_pnl: float = 0.0

    def market_value(self, price: float) -> float:
        return self.quantity * price * self.multiplier

    def unrealized_pnl(self, price: float) -> float:
        return self.quantity * (price - self.avg_cost) * self.multiplier


@dataclass(slots=True)
class Ledger:
    """Cash, positions and running totals of one portfolio."""

    starting_cash: float
    base_currency: str = "USD"
    allow_short: bool = False
    allow_margin: bool = False
    cash: float = math.nan
    net_deposits: float = 0.0
    commissions: float = 0.0
    fees: float = 0.0
    positions: dict[str, Position] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if math.isnan(self.cash):
            self.cash = self.starting_cash

    # -- changes -------------------------------------------------------------------
    def apply_fill(self, fill: Fill, instrument: Instrument, *, check: bool = True) -> float:
        """Validate and book ``fill``; returns the realized P&L it produced (gross).

        ``check=False`` skips the rules, for replaying fills that were checked already.
        """
        if check:
            self.check_fill(fill, instrument)
        position = self.positions.get(fill.symbol) or Position(
            fill.symbol, multiplier=instrument.multiplier
        )
        realized = _book(position, fill.side.sign * fill.quantity, fill.price, instrument)
        self.positions[fill.symbol] = position
        self.cash -= fill.side.sign * fill.quantity * fill.price * instrument.multiplier
        self.cash -= fill.commission + fill.fees
        self.commissions += fill.commission
        self.fees += fill.fees
        return realized

    def apply_cash(self, amount: float) -> None:
        """A deposit (positive) or withdrawal (negative) of cash."""
        if not math.isfinite(amount) or amount == 0:
            raise LedgerError("a cash movement must be a finite non-zero amount", "amount")
        if self.cash + amount < -CASH_TOLERANCE and not self.allow_margin:
            raise LedgerError(f"cannot withdraw {-amount:,.2f}: cash is {self.cash:,.2f}", "amount")
        self.cash += amount
        self.net_deposits += amount

    # -- rules -----------------------------------------------------------------------
    def check_fill(self, fill: Fill, instrument: Instrument) -> None:
        """Raise LedgerError when ``fill`` breaks a rule; changes nothing."""
        _check_fill_numbers(fill, instrument)
        if instrument.currency != self.base_currency:
            raise LedgerError(
                f"{instrument.symbol} is quoted in {instrument.currency} but the portfolio's "
                f"base currency is {self.base_currency}; multi-currency portfolios are not "
                "supported",
                "symbol",
            )
        held = self.quantity(fill.symbol)
        after = held + fill.side.sign * fill.quantity
        if not self.allow_short and after < -_qty_eps(instrument):
            raise LedgerError(
                f"cannot sell {fill.quantity:g} {fill.symbol}: the portfolio holds {held:g} "
                "and does not allow short selling",
                "quantity",
            )
        cash_after = (
            self.cash
            - fill.side.sign * fill.quantity * fill.price * instrument.multiplier
            - fill.commission
            - fill.fees
        )
        if not self.allow_margin and cash_after < -CASH_TOLERANCE:
            needed = self.cash - cash_after
            raise LedgerError(
                f"insufficient cash: the trade needs {needed:,.2f} {self.base_currency} "
                f"but cash is {self.cash:,.2f} (margin is not enabled)",
                "quantity",
            )

    # -- valuation -----------------------------------------------------------------------
    def quantity(self, symbol: str) -> float:
        position = self.positions.get(symbol)
        return position.quantity if position else 0.0

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.quantity != 0]

    def positions_value(self, marks: dict[str, float]) -> float:
        return sum(p.market_value(_mark(marks, p)) for p in self.open_positions())

    def equity(self, marks: dict[str, float]) -> float:
        return self.cash + self.positions_value(marks)

    def realized_pnl(self) -> float:
        return sum(p.realized_pnl for p in self.positions.values())

    def unrealized_pnl(self, marks: dict[str, float]) -> float:
        return sum(p.unrealized_pnl(_mark(marks, p)) for p in self.open_positions())

    def net_pnl(self, marks: dict[str, float]) -> float:
        """Realized + unrealized − commissions − fees."""
        return self.realized_pnl() + self.unrealized_pnl(marks) - self.commissions - self.fees


def _mark(marks: dict[str, float], position: Position) -> float:
    """The mark for a position, falling back to its cost when no price is known."""
    price = marks.get(position.symbol)
    return position.avg_cost if price is None or not math.isfinite(price) else price


def _qty_eps(instrument: Instrument) -> float:
    return instrument.quantity_step * 1e-6


def _check_fill_numbers(fill: Fill, instrument: Instrument) -> None:
    if fill.symbol != instrument.symbol:
        raise LedgerError(f"fill for {fill.symbol} booked against {instrument.symbol}", "symbol")
    if not math.isfinite(fill.price) or fill.price <= 0:
        raise LedgerError(f"price must be a finite positive number, got {fill.price}", "price")
    if not math.isfinite(fill.quantity) or fill.quantity <= 0:
        raise LedgerError(f"quantity must be positive, got {fill.quantity}", "quantity")
    try:
        instrument.check_quantity(fill.quantity)
    except ValueError as exc:
        raise LedgerError(str(exc), "quantity") from exc
    for name in ("commission", "fees"):
        value = getattr(fill, name)
        if not math.isfinite(value) or value < 0:
            raise LedgerError(f"{name} must be a finite number ≥ 0, got {value}", name)


def _book(position: Position, signed_qty: float, price: float, instrument: Instrument) -> float:
    """Apply a signed quantity to a position at ``price``; return realized P&L."""
    held = position.quantity
    if held == 0 or (held > 0) == (signed_qty > 0):
        total = abs(held) + abs(signed_qty)
        position.avg_cost = (abs(held) * position.avg_cost + abs(signed_qty) * price) / total
        position.quantity = held + signed_qty
        return 0.0
    closed = min(abs(signed_qty), abs(held))
    realized = closed * (price - position.avg_cost) * position.multiplier * (1 if held > 0 else -1)
    position.realized_pnl += realized
    remaining = held + signed_qty
    if abs(remaining) <= _qty_eps(instrument):
        position.quantity, position.avg_cost = 0.0, 0.0
    else:
        position.quantity = remaining
        if abs(signed_qty) > abs(held):
            position.avg_cost = price
    return realized
