"""Multi-leg option strategies: the leg and strategy models and the builders.

A :class:`Leg` is a European option held in a signed quantity (+ long, - short) with the
premium paid or received per unit of the underlying; a :class:`Strategy` is one or more legs
on one underlying with a contract multiplier. The builders price each leg's premium with BSM
from an :class:`OptionMarket` (spot, flat volatility, rate, dividend yield), so a built
strategy is what it would cost now; premiums can be replaced by traded ones with
``model_copy``. Expiries are in years from today.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.derivatives._pricing import bsm_price
from core.errors import InvalidInputError

Right = Literal["call", "put"]


class OptionMarket(BaseModel):
    """What a leg is priced from: the underlying's spot, a flat volatility, rate and dividend.

    Parameters
    ----------
    spot : float
        Underlying price (> 0).
    vol : float
        Volatility per √year (0.2 = 20 %), used by every leg without its own.
    rate : float
        Risk-free rate, continuously compounded per year.
    dividend : float
        Continuous dividend yield per year.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    spot: float = Field(100.0, gt=0, description="underlying price")
    vol: float = Field(
        0.2,
        ge=0,
        le=5,
        description="volatility per √year (0.2 = 20 %)",
        json_schema_extra={"step": 0.0001},
    )
    rate: float = Field(
        0.03,
        ge=-0.2,
        le=1,
        description="risk-free rate per year",
        json_schema_extra={"step": 0.0001},
    )
    dividend: float = Field(
        0.0,
        ge=-0.2,
        le=1,
        description="dividend yield per year",
        json_schema_extra={"step": 0.0001},
    )


class Leg(BaseModel):
    """One option of a strategy.

    Parameters
    ----------
    right : {"call", "put"}
        The option type.
    strike : float
        Strike (> 0).
    expiry : float
        Years to expiry from today (> 0).
    quantity : float
        Signed number of options: + long (bought), - short (sold); not 0.
    premium : float
        Price per unit of the underlying paid (long) or received (short), ≥ 0.
    vol : float or None
        This leg's volatility; None uses the market's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    right: Right
    strike: float = Field(gt=0)
    expiry: float = Field(gt=0, le=50)
    quantity: float
    premium: float = Field(0.0, ge=0)
    vol: float | None = Field(None, ge=0, le=5)

    @field_validator("quantity")
    @classmethod
    def _not_zero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("a leg holds a non-zero quantity (+ long, - short)")
        return value


class Strategy(BaseModel):
    """A multi-leg option position on one underlying.

    Parameters
    ----------
    name : str
        What it is ("bull call vertical 95/105").
    legs : tuple of Leg
        One to eight legs.
    multiplier : float
        Units of the underlying per option contract (100 for US equity options).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    legs: tuple[Leg, ...] = Field(min_length=1, max_length=8)
    multiplier: float = Field(1.0, gt=0)

    @property
    def front_expiry(self) -> float:
        """The nearest leg expiry (years): where "payoff at expiry" is taken."""
        return min(leg.expiry for leg in self.legs)

    @property
    def single_expiry(self) -> bool:
        """Whether every leg expires together (the payoff is then piecewise linear)."""
        return len({leg.expiry for leg in self.legs}) == 1

    @property
    def net_premium(self) -> float:
        """Premium paid (+, a debit) or received (-, a credit), times the multiplier."""
        return sum(leg.quantity * leg.premium for leg in self.legs) * self.multiplier


def _leg(market: OptionMarket, right: Right, strike: float, expiry: float, qty: float) -> Leg:
    premium = bsm_price(
        right, market.spot, strike, expiry, market.rate, market.vol, market.dividend
    )
    return Leg(right=right, strike=strike, expiry=expiry, quantity=qty, premium=premium)


def _ordered(where: str, *strikes: float) -> None:
    if any(a >= b for a, b in pairwise(strikes)):
        listed = ", ".join(f"{k:g}" for k in strikes)
        raise InvalidInputError(f"{where}: values must increase ({listed})")


def vertical(
    market: OptionMarket,
    right: Right,
    low: float,
    high: float,
    expiry: float,
    *,
    bull: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """A vertical spread: long the low strike and short the high one (bull), or the reverse.

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    right : {"call", "put"}
        Both legs' type (a bull call spread is a debit, a bull put spread a credit).
    low, high : float
        The strikes, low < high.
    expiry : float
        Years to expiry.
    bull : bool, keyword-only
        Long the low strike (True) or short it (False, a bear spread).
    quantity : float, keyword-only
        Spreads held.
    multiplier : float, keyword-only
        Units of the underlying per contract.

    Returns
    -------
    Strategy
    """
    _ordered("vertical", low, high)
    sign = 1.0 if bull else -1.0
    legs = (
        _leg(market, right, low, expiry, sign * quantity),
        _leg(market, right, high, expiry, -sign * quantity),
    )
    name = f"{'bull' if bull else 'bear'} {right} vertical {low:g}/{high:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)


def straddle(
    market: OptionMarket,
    strike: float,
    expiry: float,
    *,
    long: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """A call and a put at one strike, both bought (long) or both sold.

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    strike : float
        The common strike.
    expiry : float
        Years to expiry.
    long : bool, keyword-only
        Bought (True) or sold.
    quantity, multiplier : float, keyword-only
        Straddles held; units per contract.

    Returns
    -------
    Strategy
    """
    q = quantity if long else -quantity
    legs = (_leg(market, "call", strike, expiry, q), _leg(market, "put", strike, expiry, q))
    name = f"{'long' if long else 'short'} straddle {strike:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)


def strangle(
    market: OptionMarket,
    put_strike: float,
    call_strike: float,
    expiry: float,
    *,
    long: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """An OTM put and an OTM call (put strike < call strike), both bought or both sold.

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    put_strike, call_strike : float
        The strikes, put_strike < call_strike.
    expiry : float
        Years to expiry.
    long : bool, keyword-only
        Bought (True) or sold.
    quantity, multiplier : float, keyword-only
        Strangles held; units per contract.

    Returns
    -------
    Strategy
    """
    _ordered("strangle", put_strike, call_strike)
    q = quantity if long else -quantity
    legs = (
        _leg(market, "put", put_strike, expiry, q),
        _leg(market, "call", call_strike, expiry, q),
    )
    name = f"{'long' if long else 'short'} strangle {put_strike:g}/{call_strike:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)


def iron_condor(
    market: OptionMarket,
    strikes: tuple[float, float, float, float],
    expiry: float,
    *,
    short: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """Long put K1, short put K2, short call K3, long call K4 (K1 < K2 < K3 < K4): a credit.

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    strikes : tuple of 4 float
        K1 < K2 < K3 < K4.
    expiry : float
        Years to expiry.
    short : bool, keyword-only
        The usual short condor (True) or its reverse (a long condor, a debit).
    quantity, multiplier : float, keyword-only
        Condors held; units per contract.

    Returns
    -------
    Strategy
    """
    _ordered("iron condor", *strikes)
    k1, k2, k3, k4 = strikes
    s = quantity if short else -quantity
    legs = (
        _leg(market, "put", k1, expiry, s),
        _leg(market, "put", k2, expiry, -s),
        _leg(market, "call", k3, expiry, -s),
        _leg(market, "call", k4, expiry, s),
    )
    name = f"{'short' if short else 'long'} iron condor {k1:g}/{k2:g}/{k3:g}/{k4:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)


def butterfly(
    market: OptionMarket,
    strikes: tuple[float, float, float],
    expiry: float,
    right: Right = "call",
    *,
    long: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """+1 K1, -2 K2, +1 K3 of one type (long; the signs flip when short).

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    strikes : tuple of 3 float
        K1 < K2 < K3 (equal wings give the classic payoff peak at K2).
    expiry : float
        Years to expiry.
    right : {"call", "put"}
        The legs' type.
    long : bool, keyword-only
        Long butterfly (a debit) or short.
    quantity, multiplier : float, keyword-only
        Butterflies held; units per contract.

    Returns
    -------
    Strategy
    """
    _ordered("butterfly", *strikes)
    k1, k2, k3 = strikes
    q = quantity if long else -quantity
    legs = (
        _leg(market, right, k1, expiry, q),
        _leg(market, right, k2, expiry, -2.0 * q),
        _leg(market, right, k3, expiry, q),
    )
    name = f"{'long' if long else 'short'} {right} butterfly {k1:g}/{k2:g}/{k3:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)


def calendar(
    market: OptionMarket,
    strike: float,
    near_expiry: float,
    far_expiry: float,
    right: Right = "call",
    *,
    long: bool = True,
    quantity: float = 1.0,
    multiplier: float = 1.0,
) -> Strategy:
    """Short the near expiry and long the far one at one strike (long calendar, a debit).

    Parameters
    ----------
    market : OptionMarket
        Prices the premiums.
    strike : float
        The common strike.
    near_expiry, far_expiry : float
        Years to each expiry, near < far.
    right : {"call", "put"}
        The legs' type.
    long : bool, keyword-only
        Long calendar (True) or short.
    quantity, multiplier : float, keyword-only
        Calendars held; units per contract.

    Returns
    -------
    Strategy
    """
    _ordered("calendar expiries", near_expiry, far_expiry)
    q = quantity if long else -quantity
    legs = (
        _leg(market, right, strike, near_expiry, -q),
        _leg(market, right, strike, far_expiry, q),
    )
    name = f"{'long' if long else 'short'} {right} calendar {strike:g}"
    return Strategy(name=name, legs=legs, multiplier=multiplier)
