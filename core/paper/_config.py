"""A paper session's configuration: pydantic at the edge, stored as JSON with the session."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.backtest import RiskOverlay
from core.errors import InvalidInputError
from core.execution import ExecutionConfig
from core.strategies import get_strategy, validate_params

SESSION_NAME = re.compile(r"^[\w .:@()+-]{1,100}$")
LEGACY_RISK = {"risk_checks", "drawdown_warning", "drawdown_critical", "critical_scale"}
SYNTHETIC_COMMISSION = 0.0001
"""The paper page's default commission for a synthetic feed: 1 bp of notional, what an active
trader pays on a liquid equity venue (0.05 % on one-second ticks cost 99.5 % of the loss)."""
SYNTHETIC_PARAMS: dict[str, dict[str, Any]] = {"sma_crossover": {"fast": 100, "slow": 400}}
"""The paper page's default parameters on a synthetic (one tick a second) feed: windows of
minutes, not seconds (SMA 10/50 made 532 fills in 20,000 ticks; 100/400, the slowest its
model allows, makes 58)."""


class SleeveConfig(BaseModel):
    """One strategy in a session and the share of the starting cash it trades with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=40, description="unique name in the session")
    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    allocation: float = Field(default=1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _known_strategy(self) -> SleeveConfig:
        cls = get_strategy(self.strategy)  # KeyError names the unknown strategy
        cls.Params.model_validate(self.params)
        return self

    def validated_params(self) -> dict[str, Any]:
        return validate_params(self.strategy, self.params).model_dump(mode="json")


class FeedConfig(BaseModel):
    """Where events come from.

    ``replay``: bars of bundled or imported symbols (or a file) between ``start`` and
    ``end``, in order. ``synthetic``: ``events`` ticks of the seeded regime-switching
    market (preset ``equity``, ``crypto`` or ``forex``), each an event with
    open = high = low = close = the trade price and volume = its size. ``yahoo``: live
    bars of ``interval`` polled from Yahoo Finance every ``poll_seconds`` (optional: needs
    the network setting and the yfinance package); each completed bar is an event.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["replay", "synthetic", "yahoo"] = "replay"
    symbols: tuple[str, ...] = ()
    data_file: str | None = None
    start: date | None = None
    end: date | None = None
    preset: Literal["equity", "crypto", "forex"] = "equity"
    seed: int = 7
    events: int = Field(default=20_000, ge=2, le=5_000_000)
    tick_rate: float = Field(default=1.0, gt=0, description="synthetic ticks per second")
    interval: Literal["1m", "2m", "5m", "15m", "30m", "60m", "1d"] = "1m"
    poll_seconds: float = Field(
        default=30.0, ge=1.0, description="live feed: seconds between polls"
    )

    @model_validator(mode="after")
    def _source(self) -> FeedConfig:
        if self.kind == "replay" and not (self.symbols or self.data_file):
            raise ValueError("a replay feed needs --symbol or --data")
        if self.kind == "yahoo" and not self.symbols:
            raise ValueError("a live Yahoo feed needs --symbol")
        return self


class SessionConfig(BaseModel):
    """Everything a worker needs to run (and re-run after a crash) a session."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sleeves: tuple[SleeveConfig, ...] = Field(min_length=1)
    feed: FeedConfig
    cash: float = Field(default=100_000.0, gt=0)
    execution: ExecutionConfig = ExecutionConfig()
    speed: float | None = Field(
        default=None, gt=0, description="× real time between event timestamps; None: max"
    )
    risk: RiskOverlay = Field(
        default=RiskOverlay(), description="drawdown controller and pre-trade checks (off)"
    )
    regime_states: int | None = Field(default=2, ge=2, le=4)
    regime_warmup: int = Field(default=250, ge=50)

    @field_validator("sleeves")
    @classmethod
    def _sleeves(cls, sleeves: tuple[SleeveConfig, ...]) -> tuple[SleeveConfig, ...]:
        keys = [s.key for s in sleeves]
        if len(set(keys)) != len(keys):
            raise ValueError(f"strategy keys must be unique, got {keys}")
        total = sum(s.allocation for s in sleeves)
        if total > 1 + 1e-9:
            raise ValueError(f"allocations add up to {total:.4g}; they must not exceed 1")
        return sleeves

    @model_validator(mode="before")
    @classmethod
    def _legacy_risk(cls, value: Any) -> Any:
        """Sessions stored before the shared overlay resume as they ran.

        They kept its settings at the top level, and their drawdown controller was always on.
        """
        if not isinstance(value, dict) or not (LEGACY_RISK & set(value)):
            return value
        value = dict(value)
        risk = dict(value.pop("risk", None) or {})
        risk.setdefault("drawdown", True)
        if "risk_checks" in value:
            risk.setdefault("pre_trade", value.pop("risk_checks"))
        for key in ("drawdown_warning", "drawdown_critical", "critical_scale"):
            if key in value:
                risk.setdefault(key, value.pop(key))
        value["risk"] = risk
        return value

    @model_validator(mode="after")
    def _bands(self) -> SessionConfig:
        if self.speed is not None and not math.isfinite(self.speed):
            raise ValueError("speed must be finite (or None for as fast as possible)")
        return self


def parse_speed(text: str | float | None) -> float | None:
    """``max`` (or None) → as fast as possible; a number → that many × real time."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("max", "")):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise InvalidInputError(
            f"speed must be 'max' or a positive number, got {text!r}", field="speed"
        )
    return value
