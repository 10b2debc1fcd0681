"""The instrument model (pydantic: it crosses every edge: database, files, forms)."""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import InvalidInputError


class AssetClass(StrEnum):
    STOCK = "stock"
    ETF = "etf"
    INDEX = "index"
    CRYPTO = "crypto"
    FOREX = "forex"
    FUTURE = "future"
    OPTION = "option"


class OptionRight(StrEnum):
    CALL = "call"
    PUT = "put"


def is_on_step(value: float, step: float, rel_tol: float = 1e-9) -> bool:
    """True when ``value`` is an integer multiple of ``step`` (up to float noise)."""
    ratio = value / step
    return abs(ratio - round(ratio)) <= rel_tol * max(1.0, abs(ratio))


class Instrument(BaseModel):
    """A tradable symbol.

    Quantities move in multiples of ``quantity_step`` (1 for whole shares, 1e-8 for
    crypto), prices in multiples of ``price_tick``; notional = quantity × price ×
    ``multiplier``, in ``currency``. Options carry their contract terms (underlying, right,
    strike, expiry). A future may name its ``underlying`` root and ``expiry`` and state its
    ``initial_margin`` and ``maintenance_margin`` per contract (in ``currency``); its
    ``tick_value`` is ``price_tick × multiplier`` (ES: 0.25 × 50 = 12.50).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.\-_=^/ ]+$")
    asset_class: AssetClass = AssetClass.STOCK
    currency: str = Field(default="USD", min_length=3, max_length=3)
    name: str = ""
    multiplier: float = Field(default=1.0, gt=0)
    quantity_step: float = Field(default=1.0, gt=0)
    price_tick: float = Field(default=0.01, gt=0)
    pip_size: float | None = Field(default=None, gt=0)
    underlying: str | None = None
    strike: float | None = Field(default=None, gt=0)
    expiry: date | None = None
    option_right: OptionRight | None = None
    initial_margin: float | None = Field(default=None, ge=0)
    maintenance_margin: float | None = Field(default=None, ge=0)

    @property
    def tick_value(self) -> float:
        """What one tick is worth per contract, in ``currency``."""
        return self.price_tick * self.multiplier

    @model_validator(mode="after")
    def _check_class_fields(self) -> Instrument:
        option_fields = (self.underlying, self.strike, self.expiry, self.option_right)
        if self.asset_class is AssetClass.OPTION:
            if any(v is None for v in option_fields):
                raise ValueError("an option needs underlying, strike, expiry and option_right")
        elif self.asset_class is AssetClass.FUTURE:
            if self.strike is not None or self.option_right is not None:
                raise ValueError("a future cannot carry a strike or an option right")
        elif any(v is not None for v in option_fields):
            raise ValueError(f"a {self.asset_class} cannot carry option terms")
        if self.asset_class is AssetClass.FOREX and self.pip_size is None:
            raise ValueError("a forex pair needs a pip_size")
        margins = (self.initial_margin, self.maintenance_margin)
        if self.asset_class is not AssetClass.FUTURE and any(m is not None for m in margins):
            raise ValueError(f"a {self.asset_class} cannot carry futures margins")
        if None not in margins and self.maintenance_margin > self.initial_margin:
            raise ValueError("the maintenance margin cannot exceed the initial margin")
        return self

    def check_quantity(self, quantity: float) -> None:
        """Raise ValueError unless ``quantity`` is finite, non-zero and on the step."""
        if not math.isfinite(quantity) or quantity == 0:
            raise InvalidInputError(f"{self.symbol}: quantity must be a finite non-zero number")
        if not is_on_step(quantity, self.quantity_step):
            raise InvalidInputError(
                f"{self.symbol}: quantity {quantity:g} is not a multiple of the "
                f"instrument's quantity step {self.quantity_step:g}"
            )

    def definition_differences(self, other: Instrument) -> list[str]:
        """Names and values of the fields where two definitions of a symbol disagree."""
        mine, theirs = self.model_dump(), other.model_dump()
        return [
            f"{key}: {mine[key]!r} vs {theirs[key]!r}"
            for key in mine
            if key != "name" and mine[key] != theirs[key]
        ]
