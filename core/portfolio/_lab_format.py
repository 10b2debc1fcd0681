"""The lab format.

A versioned JSON document that carries a portfolio between workstations (export, import, merge). Its
JSON Schema is published in ``docs/portfolio-lab-format.schema.json`` (``python -m core portfolio
schema``).

Version 2 (written since issue 16) carries currencies: ``foreign_cash`` (cash in currencies
other than the base), and cash movements with a ``currency``, the ``fx_rate`` of a foreign
deposit or withdrawal, and exchanges (``kind: "exchange"``: ``-amount`` of ``currency`` sold
for ``counter_amount`` of ``counter_currency`` at ``fx_rate``). Each instrument states its
``currency`` (as in version 1). A version 1 document still imports: it is the same document
with none of these (and refuses them).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from core.errors import InvalidInputError
from core.instruments import Instrument
from core.portfolio._ledger import Side

FORMAT_NAME = "quant-workstation/portfolio"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_AMOUNT = 1e15  # bound of every amount, price and quantity: products stay finite


def check_name(value: str) -> str:
    """A name or id: not blank, no control characters (tabs and newlines included)."""
    if value.isprintable() and value.strip():
        return value  # the common case, fast: no control, format or separator characters
    if not value.strip():
        raise InvalidInputError("must not be blank")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise InvalidInputError(f"must not contain control characters (found U+{ord(bad):04X})")
    return value


def check_text(value: str) -> str:
    """Free text: line breaks and tabs are fine, other control characters are not."""
    bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)
    if bad is not None:
        raise InvalidInputError(f"must not contain control characters (found U+{ord(bad):04X})")
    return value


def as_naive_utc(value: datetime) -> datetime:
    """Aware times become naive UTC (the database convention); naive ones are UTC already."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


Name = Annotated[str, AfterValidator(check_name)]
Text = Annotated[str, AfterValidator(check_text)]
Time = Annotated[datetime, AfterValidator(as_naive_utc)]
Amount = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Rate = Annotated[float, Field(gt=0, le=MAX_AMOUNT)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class LabPosition(_Strict):
    symbol: Name
    quantity: Amount = Field(description="Signed quantity; negative for a short.")
    avg_cost: Amount = Field(ge=0, description="Average cost per unit, in price units.")
    realized_pnl: Amount = Field(default=0.0, description="Gross realized P&L so far.")


class LabTrade(_Strict):
    fill_id: Name = Field(min_length=1, max_length=64)
    ts: Time
    symbol: Name
    side: Side
    quantity: Amount = Field(gt=0)
    price: Annotated[float, Field(ge=0, le=MAX_AMOUNT)] = Field(
        description="> 0, or 0 for an option settled worthless."
    )
    commission: Amount = Field(default=0.0, ge=0)
    fees: Amount = Field(default=0.0, ge=0)
    strategy: Name | None = Field(default=None, max_length=100)


class LabCashMovement(_Strict):
    ts: Time
    amount: Amount = Field(
        description="Positive for a deposit, negative for a withdrawal or what an exchange sold."
    )
    kind: Literal["deposit", "withdrawal", "exchange"]
    note: Text = ""
    currency: Currency | None = Field(
        default=None, description="Version 2: the amount's currency (absent: the base)."
    )
    fx_rate: Rate | None = Field(
        default=None,
        description="Version 2: base units per unit of a foreign deposit or withdrawal; "
        "for an exchange, units of counter_currency per unit sold.",
    )
    counter_currency: Currency | None = Field(
        default=None, description="Version 2: the currency an exchange bought."
    )
    counter_amount: Amount | None = Field(
        default=None, description="Version 2: what an exchange bought (amount × fx_rate)."
    )

    @property
    def uses_currencies(self) -> bool:
        """Whether the movement needs version 2."""
        fields = (self.currency, self.fx_rate, self.counter_currency, self.counter_amount)
        return self.kind == "exchange" or any(v is not None for v in fields)

    @model_validator(mode="after")
    def _sign_matches_kind(self) -> LabCashMovement:
        if self.amount == 0:
            raise ValueError("amount must not be 0")
        if self.kind == "exchange":
            problem = self._exchange_problem()
            if problem is not None:
                raise ValueError(problem)
            return self
        if self.counter_currency is not None or self.counter_amount is not None:
            raise ValueError(f"a {self.kind} has no counter_currency or counter_amount")
        if (self.amount > 0) != (self.kind == "deposit"):
            sign = "positive" if self.kind == "deposit" else "negative"
            raise ValueError(f"a {self.kind} needs a {sign} amount, got {self.amount:g}")
        return self

    def _exchange_problem(self) -> str | None:
        """What is wrong with an exchange, or None (the validator raises it)."""
        if self.amount > 0:
            return f"an exchange states what it sold as a negative amount, got {self.amount:g}"
        if self.counter_currency is None or self.fx_rate is None or self.counter_amount is None:
            return "an exchange needs counter_currency, fx_rate and counter_amount"
        bought = -self.amount * self.fx_rate
        if not math.isclose(self.counter_amount, bought, rel_tol=1e-9, abs_tol=1e-6):
            return f"counter_amount {self.counter_amount:g} is not -amount × fx_rate = {bought:g}"
        return None


class LabTotals(_Strict):
    commissions: Amount = Field(default=0.0, ge=0)
    fees: Amount = Field(default=0.0, ge=0)
    net_deposits: Amount = 0.0


class LabPortfolio(_Strict):
    """One portfolio in the lab format, version 2 (version 1 documents are read too)."""

    format: Literal["quant-workstation/portfolio"] = FORMAT_NAME
    version: Literal[1, 2] = FORMAT_VERSION
    name: Name = Field(min_length=1, max_length=100)
    base_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    starting_cash: Amount = Field(ge=0)
    cash: Amount = Field(description="Cash in the base currency.")
    foreign_cash: dict[Currency, Amount] = Field(
        default_factory=dict, description="Version 2: cash in each other currency."
    )
    allow_short: bool = False
    allow_margin: bool = False
    description: Text = ""
    created_at: Time
    exported_at: Time | None = None
    instruments: list[Instrument] = Field(default_factory=list)
    positions: list[LabPosition] = Field(default_factory=list)
    target_weights: dict[str, float] = Field(default_factory=dict)
    totals: LabTotals = LabTotals()
    metadata: dict[str, Any] = Field(default_factory=dict)
    trades: list[LabTrade] | None = Field(
        default=None, description="Optional full trade history, oldest first."
    )
    cash_movements: list[LabCashMovement] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LabPortfolio:
        defined = [i.symbol for i in self.instruments]
        _no_duplicates(defined, "instruments")
        _no_duplicates([p.symbol for p in self.positions], "positions")
        used = {p.symbol for p in self.positions} | set(self.target_weights)
        used |= {t.symbol for t in self.trades or []}
        missing = sorted(used - set(defined))
        if missing:
            raise ValueError(f"symbols used without an instrument definition: {missing}")
        for symbol, weight in self.target_weights.items():
            if not math.isfinite(weight) or weight < 0 or weight > 1:
                raise ValueError(f"target weight of {symbol} must lie in [0, 1], got {weight}")
        if sum(self.target_weights.values()) > 1 + 1e-9:
            raise ValueError("target weights sum to more than 1")
        if self.trades is not None:
            _no_duplicates([t.fill_id for t in self.trades], "trades (fill_id)")
        if self.version == 1 and (
            self.foreign_cash or any(m.uses_currencies for m in self.cash_movements or [])
        ):
            raise ValueError("foreign_cash and currencies of cash movements need version 2")
        for i, m in enumerate(self.cash_movements or []):
            foreign = m.currency not in (None, self.base_currency)
            if m.kind != "exchange" and foreign and m.fx_rate is None:
                raise ValueError(
                    f"cash_movements[{i}]: a {m.kind} in {m.currency} needs its fx_rate "
                    f"({self.base_currency} per {m.currency} on the day)"
                )
        if self.base_currency in self.foreign_cash:
            raise ValueError(
                f"foreign_cash holds the base currency {self.base_currency}; its cash is `cash`"
            )
        return self


def _no_duplicates(values: list[str], where: str) -> None:
    seen: set[str] = set()
    dupes = sorted({v for v in values if v in seen or seen.add(v)})
    if dupes:
        raise InvalidInputError(f"duplicate entries in {where}: {dupes}")


def lab_json_schema() -> dict[str, Any]:
    schema = LabPortfolio.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"quant-workstation/portfolio/v{FORMAT_VERSION}"
    return schema
