"""The lab format: a versioned JSON document that carries a portfolio between
workstations (export, import, merge). Its JSON Schema is published in
``docs/portfolio-lab-format.schema.json`` (``python -m core portfolio schema``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.instruments import Instrument
from core.portfolio._ledger import Side

FORMAT_NAME = "quant-workstation/portfolio"
FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabPosition(_Strict):
    symbol: str
    quantity: float = Field(description="Signed quantity; negative for a short.")
    avg_cost: float = Field(ge=0, description="Average cost per unit, in price units.")
    realized_pnl: float = Field(default=0.0, description="Gross realized P&L so far.")

    @field_validator("quantity", "avg_cost", "realized_pnl")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class LabTrade(_Strict):
    fill_id: str = Field(min_length=1, max_length=64)
    ts: datetime
    symbol: str
    side: Side
    quantity: float = Field(gt=0)
    price: float = Field(gt=0)
    commission: float = Field(default=0.0, ge=0)
    fees: float = Field(default=0.0, ge=0)
    strategy: str | None = None


class LabCashMovement(_Strict):
    ts: datetime
    amount: float
    kind: Literal["deposit", "withdrawal"]
    note: str = ""


class LabTotals(_Strict):
    commissions: float = Field(default=0.0, ge=0)
    fees: float = Field(default=0.0, ge=0)
    net_deposits: float = 0.0


class LabPortfolio(_Strict):
    """One portfolio in the lab format, version 1."""

    format: Literal["quant-workstation/portfolio"] = FORMAT_NAME
    version: Literal[1] = FORMAT_VERSION
    name: str = Field(min_length=1, max_length=100)
    base_currency: str = Field(default="USD", min_length=3, max_length=3)
    starting_cash: float = Field(ge=0)
    cash: float
    allow_short: bool = False
    allow_margin: bool = False
    description: str = ""
    created_at: datetime
    exported_at: datetime | None = None
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
        return self


def _no_duplicates(values: list[str], where: str) -> None:
    seen: set[str] = set()
    dupes = sorted({v for v in values if v in seen or seen.add(v)})
    if dupes:
        raise ValueError(f"duplicate entries in {where}: {dupes}")


def lab_json_schema() -> dict[str, Any]:
    schema = LabPortfolio.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "quant-workstation/portfolio/v1"
    return schema
