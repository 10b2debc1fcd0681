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

Currencies
----------
* ``cash`` is the cash held in the base currency; ``foreign_cash`` holds the balance of every
  other currency (one entry per currency ever used). A fill moves the cash of the
  instrument's currency; its commission and fees are charged in the base currency.
* Without margin, no currency's balance may go below zero: buy the currency first
  (:meth:`Ledger.apply_exchange`) or deposit it.
* Valuation takes ``fx``: currency → base-currency units per unit of that currency (the base
  is 1). A currency in use without a rate is refused (``fx: ...``), never valued at 1.
* ``net_deposits`` is in the base currency: a deposit in another currency counts at the rate
  of its day.
* P&L split (see :meth:`Ledger.pnl_split`): the *asset* part is each position's price P&L in
  its own currency, less costs, converted at today's rates; the *FX* part is the rest,
  ``equity − starting cash − net deposits − asset part``: what holding money and cost basis
  in other currencies earned or lost as rates moved. For one position bought for ``B``
  units of currency C at rate ``r0`` and marked at rate ``r1`` with price P&L ``u`` (in C),
  ``asset = u × r1`` and ``fx = B × (r1 − r0)``.

Futures
-------
A future settles variation, not notional: a fill moves no notional cash, a position is worth
its unrealized P&L ``quantity × (price − average cost) × multiplier``, and closing it books
the realized P&L into cash. Opening or adding to a future needs cash (in its currency) for
the initial margin of every open future in that currency, when its definition states one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.errors import InvalidInputError
from core.instruments import AssetClass, Instrument

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
    """A holding; amounts are in ``currency`` (None: the ledger's base currency)."""

    symbol: str
    multiplier: float = 1.0
    quantity: float = 0.0
    avg_cost: float = 0.0
    realized_pnl: float = 0.0
    currency: str | None = None
    variation: bool = False  # a future: worth its unrealized P&L, no notional in cash
    initial_margin: float = 0.0  # per contract, futures only
    maintenance_margin: float = 0.0

    def market_value(self, price: float) -> float:
        if self.variation:
            return self.unrealized_pnl(price)
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
    foreign_cash: dict[str, float] = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # option settings: surface, implied vols

    def __post_init__(self) -> None:
        if math.isnan(self.cash):
            self.cash = self.starting_cash

    def new_position(self, instrument: Instrument) -> Position:
        """An empty position in ``instrument`` (its currency, whether it settles variation)."""
        currency = None if instrument.currency == self.base_currency else instrument.currency
        return Position(
            instrument.symbol,
            multiplier=instrument.multiplier,
            currency=currency,
            variation=instrument.asset_class is AssetClass.FUTURE,
            initial_margin=instrument.initial_margin or 0.0,
            maintenance_margin=instrument.maintenance_margin or 0.0,
        )

    # -- changes -------------------------------------------------------------------
    def apply_fill(self, fill: Fill, instrument: Instrument, *, check: bool = True) -> float:
        """Validate and book ``fill``; returns the realized P&L it produced (gross).

        ``check=False`` skips the rules, for replaying fills that were checked already.
        """
        if check:
            self.check_fill(fill, instrument)
        position = self.positions.get(fill.symbol) or self.new_position(instrument)
        realized = _book(position, fill.side.sign * fill.quantity, fill.price, instrument)
        self.positions[fill.symbol] = position
        change = realized if position.variation else _notional_change(fill, instrument)
        if position.currency is None:
            self.cash += change
        else:
            self.add_cash(position.currency, change)
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

    def apply_deposit(self, amount: float, currency: str, rate: float) -> None:
        """A deposit or withdrawal in ``currency``; ``rate`` is base units per unit of it."""
        if currency == self.base_currency:
            self.apply_cash(amount)
            return
        _check_rate(rate, "rate")
        if not math.isfinite(amount) or amount == 0:
            raise LedgerError("a cash movement must be a finite non-zero amount", "amount")
        held = self.cash_in(currency)
        if held + amount < -CASH_TOLERANCE and not self.allow_margin:
            raise LedgerError(
                f"cannot withdraw {-amount:,.2f} {currency}: {currency} cash is {held:,.2f}",
                "amount",
            )
        self.add_cash(currency, amount)
        self.net_deposits += amount * rate

    def apply_exchange(self, sell: str, amount: float, buy: str, rate: float) -> float:
        """Sell ``amount`` of currency ``sell`` for ``buy`` at ``rate`` (``buy`` per ``sell``).

        Returns the amount of ``buy`` received. Money changes currency; nothing is deposited.
        """
        if sell == buy:
            raise LedgerError(
                f"an exchange needs two different currencies, got {sell} twice", "buy"
            )
        if not math.isfinite(amount) or amount <= 0:
            raise LedgerError(f"the amount sold must be finite and > 0, got {amount}", "amount")
        _check_rate(rate, "rate")
        held = self.cash_in(sell)
        if held - amount < -CASH_TOLERANCE and not self.allow_margin:
            raise LedgerError(
                f"cannot sell {amount:,.2f} {sell}: {sell} cash is {held:,.2f} "
                "(margin is not enabled)",
                "amount",
            )
        self.add_cash(sell, -amount)
        self.add_cash(buy, amount * rate)
        return amount * rate

    def add_cash(self, currency: str, amount: float) -> None:
        """Change the balance of ``currency`` by ``amount`` (no rule is checked)."""
        if currency == self.base_currency:
            self.cash += amount
        else:
            self.foreign_cash[currency] = self.foreign_cash.get(currency, 0.0) + amount

    def cash_in(self, currency: str) -> float:
        """The cash held in ``currency``."""
        if currency == self.base_currency:
            return self.cash
        return self.foreign_cash.get(currency, 0.0)

    def cash_balances(self) -> dict[str, float]:
        """Cash per currency, the base currency first."""
        return {self.base_currency: self.cash, **dict(sorted(self.foreign_cash.items()))}

    def currencies_used(self) -> list[str]:
        """Every currency other than the base that the ledger ever held or traded in."""
        used = set(self.foreign_cash)
        used |= {p.currency for p in self.positions.values() if p.currency is not None}
        return sorted(used)

    def currencies(self) -> list[str]:
        """Currencies other than the base with a balance or an open position."""
        held = {c for c, v in self.foreign_cash.items() if v != 0}
        held |= {
            p.currency
            for p in self.positions.values()
            if p.currency is not None and (p.quantity != 0 or p.realized_pnl != 0)
        }
        return sorted(held)

    # -- rules -----------------------------------------------------------------------
    def check_fill(self, fill: Fill, instrument: Instrument) -> None:
        """Raise LedgerError when ``fill`` breaks a rule; changes nothing."""
        _check_fill_numbers(fill, instrument)
        held = self.quantity(fill.symbol)
        after = held + fill.side.sign * fill.quantity
        if not self.allow_short and after < -_qty_eps(instrument):
            raise LedgerError(
                f"cannot sell {fill.quantity:g} {fill.symbol}: the portfolio holds {held:g} "
                "and does not allow short selling",
                "quantity",
            )
        if instrument.asset_class is AssetClass.FUTURE:
            self._check_initial_margin(fill, instrument, after)
            change = 0.0  # the realized part can only add to the cash
        else:
            change = _notional_change(fill, instrument)
        costs = fill.commission + fill.fees
        currency = instrument.currency
        if currency == self.base_currency:
            self._check_cash(currency, change - costs)
        else:
            self._check_cash(currency, change)
            self._check_cash(self.base_currency, -costs)

    def _check_cash(self, currency: str, change: float) -> None:
        before = self.cash_in(currency)
        if self.allow_margin or change >= 0 or before + change >= -CASH_TOLERANCE:
            return
        raise LedgerError(
            f"insufficient cash: the trade needs {-change:,.2f} {currency} "
            f"but {currency} cash is {before:,.2f} (margin is not enabled)",
            "quantity",
        )

    def _check_initial_margin(self, fill: Fill, instrument: Instrument, after: float) -> None:
        held = self.quantity(fill.symbol)
        if not instrument.initial_margin or abs(after) <= abs(held):
            return  # no margin stated, or the fill only reduces the position
        currency = self.new_position(instrument).currency
        others = sum(
            abs(p.quantity) * p.initial_margin
            for p in self.open_positions()
            if p.variation and p.symbol != fill.symbol and p.currency == currency
        )
        own = abs(after) * instrument.initial_margin
        needed = others + own + fill.commission + fill.fees
        available = self.cash_in(instrument.currency)
        if available < needed - CASH_TOLERANCE:
            raise LedgerError(
                f"insufficient margin: {abs(after):g} {fill.symbol} need an initial margin of "
                f"{own:,.2f} {instrument.currency} ({needed:,.2f} with the other futures and "
                f"costs) but {instrument.currency} cash is {available:,.2f}",
                "quantity",
            )

    # -- valuation -----------------------------------------------------------------------
    # ``fx`` maps a currency to base-currency units per unit of it; None: base currency only.
    def quantity(self, symbol: str) -> float:
        position = self.positions.get(symbol)
        return position.quantity if position else 0.0

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.quantity != 0]

    def rate(self, currency: str | None, fx: dict[str, float] | None = None) -> float:
        """Base-currency units per unit of ``currency`` (1 for the base or None)."""
        if currency is None or currency == self.base_currency:
            return 1.0
        value = None if fx is None else fx.get(currency)
        if value is None or not math.isfinite(value) or value <= 0:
            raise LedgerError(
                f"no {currency}/{self.base_currency} exchange rate to value the {currency} "
                "holdings (import FX bars for the pair)",
                "fx",
            )
        return value

    def cash_value(self, fx: dict[str, float] | None = None) -> float:
        """All cash in the base currency."""
        if not self.foreign_cash:
            return self.cash
        return self.cash + sum(v * self.rate(c, fx) for c, v in self.foreign_cash.items() if v)

    def positions_value(self, marks: dict[str, float], fx: dict[str, float] | None = None) -> float:
        total = 0.0
        for p in self.positions.values():  # a plain loop: the backtest calls this every bar
            if p.quantity != 0:
                value = p.market_value(_mark(marks, p))
                total += value if p.currency is None else value * self.rate(p.currency, fx)
        return total

    def equity(self, marks: dict[str, float], fx: dict[str, float] | None = None) -> float:
        return self.cash_value(fx) + self.positions_value(marks, fx)

    def realized_pnl(self, fx: dict[str, float] | None = None) -> float:
        return sum(
            p.realized_pnl * self.rate(p.currency, fx)
            for p in self.positions.values()
            if p.realized_pnl
        )

    def unrealized_pnl(self, marks: dict[str, float], fx: dict[str, float] | None = None) -> float:
        return sum(
            p.unrealized_pnl(_mark(marks, p)) * self.rate(p.currency, fx)
            for p in self.open_positions()
        )

    def net_pnl(self, marks: dict[str, float], fx: dict[str, float] | None = None) -> float:
        """Realized + unrealized − commissions − fees (the asset P&L at today's rates)."""
        return self.realized_pnl(fx) + self.unrealized_pnl(marks, fx) - self.commissions - self.fees

    def pnl_split(self, marks: dict[str, float], fx: dict[str, float] | None = None) -> dict:
        """``total``, ``asset`` and ``fx`` P&L in the base currency (module docstring)."""
        total = self.equity(marks, fx) - self.starting_cash - self.net_deposits
        asset = self.net_pnl(marks, fx)
        return {"total": total, "asset": asset, "fx": total - asset}

    def margin_requirement(self, kind: str = "maintenance", fx=None) -> float:
        """Initial or maintenance margin of the open futures, in the base currency."""
        return sum(
            abs(p.quantity)
            * (p.maintenance_margin if kind == "maintenance" else p.initial_margin)
            * self.rate(p.currency, fx)
            for p in self.open_positions()
            if p.variation
        )


def apply_movement(ledger: Ledger, movement) -> None:
    """Book a stored cash movement (a database row or a lab one: the same attributes).

    ``kind`` deposit/withdrawal: ``amount`` in ``currency`` (None: the base) at ``fx_rate``
    base units per unit; ``exchange``: ``-amount`` of ``currency`` sold for
    ``counter_currency`` at ``fx_rate`` units of it per unit sold.
    """
    currency = movement.currency or ledger.base_currency
    if movement.kind == "exchange":
        ledger.apply_exchange(
            currency, -movement.amount, movement.counter_currency, movement.fx_rate
        )
    elif currency == ledger.base_currency:
        ledger.apply_cash(movement.amount)
    else:
        ledger.apply_deposit(movement.amount, currency, movement.fx_rate)


def _mark(marks: dict[str, float], position: Position) -> float:
    """The mark for a position, falling back to its cost when no price is known."""
    price = marks.get(position.symbol)
    return position.avg_cost if price is None or not math.isfinite(price) else price


def _notional_change(fill: Fill, instrument: Instrument) -> float:
    """The cash a fill moves in the instrument's currency (not its costs)."""
    return -fill.side.sign * fill.quantity * fill.price * instrument.multiplier


def _check_rate(rate: float, name: str) -> None:
    if not math.isfinite(rate) or rate <= 0:
        raise LedgerError(f"an exchange rate must be a finite number > 0, got {rate}", name)


def _qty_eps(instrument: Instrument) -> float:
    return instrument.quantity_step * 1e-6


def _check_fill_numbers(fill: Fill, instrument: Instrument) -> None:
    if fill.symbol != instrument.symbol:
        raise LedgerError(f"fill for {fill.symbol} booked against {instrument.symbol}", "symbol")
    worthless = fill.price == 0 and instrument.asset_class is AssetClass.OPTION  # at expiry
    if not math.isfinite(fill.price) or (fill.price <= 0 and not worthless):
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
