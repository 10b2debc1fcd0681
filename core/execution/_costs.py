"""Cost models: commission and slippage, declared as pydantic configs."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# A commission stated as a fraction of notional is at most 10 %: a larger one is a typo (a
# percentage typed as a fraction), not a cost model. Amounts (per share, fixed) are unbounded.
MAX_COMMISSION_RATE = 0.1


class CommissionModel(BaseModel):
    """Commission per fill.

    Per share, a fraction of notional, or a fixed amount per order, never less than ``minimum``
    (when the fill is not free).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["percent", "per_share", "fixed"] = "percent"
    rate: float = Field(
        default=0.0,
        ge=0,
        le=MAX_COMMISSION_RATE,
        description="fraction of notional (0.001 = 10 bp)",
    )
    per_share: float = Field(default=0.0, ge=0, description="money per unit of quantity")
    fixed: float = Field(default=0.0, ge=0, description="money per order")
    minimum: float = Field(default=0.0, ge=0, description="minimum commission per fill")

    def cost(self, quantity: float, price: float, multiplier: float = 1.0) -> float:
        if self.kind == "percent":
            raw = abs(quantity) * price * multiplier * self.rate
        elif self.kind == "per_share":
            raw = abs(quantity) * self.per_share
        else:
            raw = self.fixed
        return max(raw, self.minimum) if quantity else 0.0

    @property
    def notional_rate(self) -> float:
        """The fraction of notional the sizer must keep for commission."""
        return self.rate if self.kind == "percent" else 0.0


class SlippageModel(BaseModel):
    """Adverse price move on market and stop fills.

    Basis points, or a fraction of the recent volatility (standard deviation of simple returns over
    ``lookback`` bars).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["bps", "volatility"] = "bps"
    bps: float = Field(default=0.0, ge=0)
    vol_fraction: float = Field(default=0.0, ge=0)
    lookback: int = Field(default=20, ge=2)

    def adjust(self, price: float, buying: bool, volatility: float = math.nan) -> float:
        if self.kind == "bps":
            move = self.bps / 10_000
        else:
            move = self.vol_fraction * (volatility if math.isfinite(volatility) else 0.0)
        return price * (1 + move) if buying else price * (1 - move)
