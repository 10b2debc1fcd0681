"""A backtest's full description; its content hash is the run's id.

:class:`RiskOverlay` is the one risk-overlay configuration (drawdown controller and
pre-trade checks) that a backtest and a paper session share, off by default in both.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.execution import ExecutionConfig
from core.risk import RiskLimits


class RiskOverlay(BaseModel):
    """What vets every new order, in a backtest and in a paper session alike.

    ``drawdown``: the drawdown controller scales orders that grow a position by
    ``critical_scale`` once equity is ``drawdown_critical`` (a fraction) below its peak;
    ``drawdown_warning`` only raises an alert. ``pre_trade``: the pre-trade checks
    (docs/RISK.md) run against ``limits`` (None: the defaults; a paper session reads its
    portfolio's own limits first). Both are off by default, so a run with the overlay
    off trades exactly as the strategy says.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    drawdown: bool = Field(default=False, description="drawdown controller on")
    drawdown_warning: float = Field(default=0.10, gt=0, lt=1)
    drawdown_critical: float = Field(default=0.20, gt=0, lt=1)
    critical_scale: float = Field(default=0.5, ge=0, le=1)
    pre_trade: bool = Field(default=False, description="pre-trade checks on")
    limits: RiskLimits | None = None

    @model_validator(mode="after")
    def _bands(self) -> RiskOverlay:
        if self.drawdown_warning >= self.drawdown_critical:
            raise ValueError(
                f"the drawdown warning ({self.drawdown_warning:g}) must be below the "
                f"critical level ({self.drawdown_critical:g})"
            )
        return self

    @property
    def active(self) -> bool:
        return self.drawdown or self.pre_trade

    def describe(self) -> str:
        """One line for consoles and reports: what is on, with its numbers."""
        parts = []
        if self.drawdown:
            parts.append(
                f"drawdown controller: warning at {self.drawdown_warning:.0%}, critical at "
                f"{self.drawdown_critical:.0%} → new positions × {self.critical_scale:g}"
            )
        if self.pre_trade:
            parts.append(
                "pre-trade checks: " + ("custom limits" if self.limits else "default limits")
            )
        return "; ".join(parts) or "risk overlay off"


class BacktestConfig(BaseModel):
    """Everything that determines a run: same config, same result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    symbols: tuple[str, ...] = ()
    data_file: str | None = None
    start: date | None = None
    end: date | None = None
    cash: float = Field(default=100_000.0, gt=0)
    execution: ExecutionConfig = ExecutionConfig()
    periods_per_year: float | None = Field(default=None, gt=0)
    risk_free: float = 0.0
    risk: RiskOverlay = RiskOverlay()

    def run_id(self) -> str:
        dump = self.model_dump(mode="json")
        if self.risk == RiskOverlay():
            del dump["risk"]  # runs without the overlay keep the ids they had before it
        canonical = json.dumps(dump, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
