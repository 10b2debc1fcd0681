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
    ``multiplier``. Options carry their contract terms (pricing is a later issue).
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

    @model_validator(mode="after")
    def _check_class_fields(self) -> Instrument:
        option_fields = (self.underlying, self.strike, self.expiry, self.option_right)
        if self.asset_class is AssetClass.OPTION:
            if any(v is None for v in option_fields):
                raise ValueError("an option needs underlying, strike, expiry and option_right")
        elif any(v is not None for v in option_fields):
            raise ValueError(f"a {self.asset_class} cannot carry option terms")
        if self.asset_class is AssetClass.FOREX and self.pip_size is None:
            raise ValueError("a forex pair needs a pip_size")
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
