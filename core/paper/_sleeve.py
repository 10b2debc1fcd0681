"""A session's strategies (sleeves) and the errors a session raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.backtest import BacktestEngine
from core.errors import WorkstationError


class PaperError(WorkstationError, RuntimeError):
    """A session cannot run (unknown, already running elsewhere, diverged on resume)."""


class PaperServiceError(WorkstationError, ValueError):
    """A request the paper service refuses; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Sleeve:
    """One strategy of the session, trading its share of the cash on its own engine."""

    key: str
    strategy: str
    allocation: float
    engine: BacktestEngine
    booked: int = 0  # executions already booked
    n_fills: int = 0
    last_order_id: int = 0
    tracked: dict[int, tuple] = field(default_factory=dict)  # live orders' last state
