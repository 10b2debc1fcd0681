"""Futures calculators: contract specs, tick value, P&L and margin arithmetic.

A contract's value moves by ``multiplier`` currency units per point of its price; the
smallest move, one tick, is worth ``multiplier × tick_size`` (ES: 50 × 0.25 = $12.50). P&L
is the price change × multiplier × contracts (contracts signed: + long, - short). Margins are
per contract and set by the exchange and broker; the table below carries contract terms
only (multiplier, tick, currency, exchange), which do not change from day to day — the
calculators take the margins as inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInputError, NotFoundError


class FuturesSpec(BaseModel):
    """A futures contract's terms.

    Parameters
    ----------
    symbol : str
        Root symbol (``ES``).
    name : str
        What it is.
    multiplier : float
        Currency units per point of price (> 0).
    tick_size : float
        Smallest price move (> 0).
    currency : str
        The contract's currency.
    exchange : str
        Where it trades.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    name: str = ""
    multiplier: float = Field(gt=0)
    tick_size: float = Field(gt=0)
    currency: str = "USD"
    exchange: str = ""

    @property
    def tick_value(self) -> float:
        """Currency per tick per contract: multiplier × tick size."""
        return self.multiplier * self.tick_size


_TABLE = (
    ("ES", "E-mini S&P 500", 50, 0.25, "CME"),
    ("MES", "Micro E-mini S&P 500", 5, 0.25, "CME"),
    ("NQ", "E-mini Nasdaq-100", 20, 0.25, "CME"),
    ("MNQ", "Micro E-mini Nasdaq-100", 2, 0.25, "CME"),
    ("YM", "E-mini Dow ($5)", 5, 1.0, "CBOT"),
    ("RTY", "E-mini Russell 2000", 50, 0.1, "CME"),
    ("CL", "Crude oil (WTI)", 1000, 0.01, "NYMEX"),
    ("MCL", "Micro WTI crude oil", 100, 0.01, "NYMEX"),
    ("GC", "Gold", 100, 0.1, "COMEX"),
    ("MGC", "Micro gold", 10, 0.1, "COMEX"),
    ("SI", "Silver", 5000, 0.005, "COMEX"),
    ("ZN", "10-year US Treasury note", 1000, 1 / 64, "CBOT"),
    ("ZB", "US Treasury bond", 1000, 1 / 32, "CBOT"),
    ("6E", "Euro FX", 125_000, 0.00005, "CME"),
)
CONTRACTS: dict[str, FuturesSpec] = {
    sym: FuturesSpec(symbol=sym, name=name, multiplier=mult, tick_size=tick, exchange=exch)
    for sym, name, mult, tick, exch in _TABLE
}
"""Contract terms of common US futures by root symbol (multiplier, tick; USD)."""


def futures_spec(symbol: str) -> FuturesSpec:
    """The terms of a contract in :data:`CONTRACTS`.

    Parameters
    ----------
    symbol : str
        Root symbol, any case (``es``, ``MES``).

    Returns
    -------
    FuturesSpec
    """
    spec = CONTRACTS.get(str(symbol).strip().upper())
    if spec is None:
        known = ", ".join(CONTRACTS)
        raise NotFoundError(f"symbol: no futures contract {symbol!r} (known: {known})")
    return spec


def futures_pnl(spec: FuturesSpec, entry: float, exit: float, contracts: float) -> float:
    """P&L of ``contracts`` (signed) from ``entry`` to ``exit``: Δprice × multiplier × contracts.

    Parameters
    ----------
    spec : FuturesSpec
        The contract.
    entry, exit : float
        Prices.
    contracts : float
        + long, - short.

    Returns
    -------
    float
        In the contract's currency.
    """
    return (exit - entry) * spec.multiplier * contracts


@dataclass(frozen=True)
class MarginStatus:
    """A futures position's margin.

    Attributes
    ----------
    notional : float
        |contracts| × price × multiplier.
    initial_required, maintenance_required : float
        |contracts| × the per-contract margins.
    pnl : float
        Open P&L at ``price``.
    equity : float
        Deposit + P&L.
    margin_call : bool
        Equity below the maintenance requirement.
    call_amount : float
        What brings equity back up to the initial requirement on a call (0 otherwise).
    call_price : float or None
        The price at which equity reaches the maintenance requirement (None when flat).
    ticks : float
        The move from entry in ticks.
    leverage : float
        Notional / equity (inf when equity ≤ 0).
    """

    notional: float
    initial_required: float
    maintenance_required: float
    pnl: float
    equity: float
    margin_call: bool
    call_amount: float
    call_price: float | None
    ticks: float
    leverage: float

    def as_dict(self) -> dict:
        """The fields by name."""
        return dict(self.__dict__)


def margin_status(
    spec: FuturesSpec,
    contracts: float,
    entry: float,
    price: float,
    deposit: float,
    initial_margin: float,
    maintenance_margin: float,
) -> MarginStatus:
    """Initial and maintenance margin of a futures position, and whether it is called.

    Parameters
    ----------
    spec : FuturesSpec
        The contract.
    contracts : float
        + long, - short.
    entry, price : float
        Entry and current prices (> 0).
    deposit : float
        Cash posted for the position.
    initial_margin, maintenance_margin : float
        Per contract; maintenance ≤ initial.

    Returns
    -------
    MarginStatus
    """
    for name, value in (("entry", entry), ("price", price)):
        if not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"{name}: must be greater than 0", name)
    if not (0 <= maintenance_margin <= initial_margin):
        raise InvalidInputError(
            "maintenance_margin: must be between 0 and the initial margin", "maintenance_margin"
        )
    size = abs(contracts)
    initial, maintenance = size * initial_margin, size * maintenance_margin
    pnl = futures_pnl(spec, entry, price, contracts)
    equity = deposit + pnl
    called = equity < maintenance
    per_point = spec.multiplier * contracts
    notional = size * price * spec.multiplier
    return MarginStatus(
        notional=notional,
        initial_required=initial,
        maintenance_required=maintenance,
        pnl=pnl,
        equity=equity,
        margin_call=called,
        call_amount=max(initial - equity, 0.0) if called else 0.0,
        call_price=entry + (maintenance - deposit) / per_point if per_point else None,
        ticks=(price - entry) / spec.tick_size,
        leverage=notional / equity if equity > 0 else math.inf,
    )
