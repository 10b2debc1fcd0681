"""A backtest's full description; its content hash is the run's id."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.execution import ExecutionConfig


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

    def run_id(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
