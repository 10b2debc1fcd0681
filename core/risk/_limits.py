"""A portfolio's risk limits and trading state: the configuration the pre-trade checks read.

Every limit is optional (``None`` turns its rule off). Fractions are of current equity.
``warn_at`` is the fraction of a limit's use at which its rule warns before it blocks.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class TradingState(StrEnum):
    """``active`` trades freely; ``reducing_only`` only shrinks positions; ``halted`` stops all."""

    ACTIVE = "active"
    REDUCING_ONLY = "reducing_only"
    HALTED = "halted"


class TradingWindow(BaseModel):
    """Hours (``start`` ≤ clock time < ``end``) on ``weekdays`` (0 = Monday) when orders may go.

    The clock is whatever :attr:`PortfolioState.now` is in (the exchange's local time for
    stocks). ``"09:30-16:00"`` is accepted as shorthand for Monday to Friday.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            start, sep, end = value.partition("-")
            if not sep:
                raise ValueError(f"trading hours must look like 09:30-16:00, got {value!r}")
            end = end.strip()
            return {"start": start.strip(), "end": "23:59:59.999999" if end == "24:00" else end}
        return value

    @field_validator("weekdays")
    @classmethod
    def _check_days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(d not in range(7) for d in days):
            raise ValueError(f"weekdays must be numbers 0 (Monday) to 6, got {list(days)}")
        return tuple(sorted(set(days)))

    @model_validator(mode="after")
    def _check_order(self) -> TradingWindow:
        if self.end <= self.start:
            raise ValueError(f"trading hours end ({self.end}) must be after start ({self.start})")
        return self

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} days {','.join(map(str, self.weekdays))}"


class RiskLimits(BaseModel):
    """Per-portfolio limits; the defaults are the issue's examples.

    max_position_weight : |value of one position| / equity after the order
    max_top3_weight : sum of the three largest |weights| after the order
    min_cash : cash / equity after the order
    max_daily_turnover : (currency traded today + this order's notional) / equity
    max_drawdown : (peak equity - equity) / peak equity, beyond which no new risk is taken
    daily_loss_limit : (equity at the day's start - equity) / that start, beyond which no new risk
    min_adv : average daily volume of the symbol, shares
    trading_hours : asset class → :class:`TradingWindow`; classes not listed trade any time
    warn_at : fraction of a limit's use at which its rule warns, in (0, 1]
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_position_weight: float | None = Field(default=0.10, gt=0)
    max_top3_weight: float | None = Field(default=0.40, gt=0)
    min_cash: float | None = Field(default=0.02, gt=0, lt=1)
    max_daily_turnover: float | None = Field(default=0.30, gt=0)
    max_drawdown: float | None = Field(default=0.15, gt=0, lt=1)
    daily_loss_limit: float | None = Field(default=0.02, gt=0, lt=1)
    min_adv: float | None = Field(default=None, gt=0)
    trading_hours: dict[str, TradingWindow] | None = None
    warn_at: float = Field(default=0.8, gt=0, le=1)

    @field_validator("trading_hours")
    @classmethod
    def _lower_classes(cls, hours: dict[str, TradingWindow] | None):
        if hours is None:
            return None
        return {str(k).strip().lower(): v for k, v in hours.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ``HH:MM:SS``)."""
        return self.model_dump(mode="json")


LIMIT_KEYS: tuple[str, ...] = tuple(RiskLimits.model_fields)
