"""Execution settings shared by backtests and paper trading."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.execution._costs import CommissionModel, SlippageModel
from core.execution._sizing import Sizing


class ExecutionConfig(BaseModel):
    """How orders become fills.

    ``fill_timing``: a market order placed on a bar's close fills at the next bar's open
    (``next_open``, default) or at the same bar's close (``same_close``).
    ``participation``: the largest share of a bar's volume one order may take (partial
    fills); None for no cap.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fill_timing: Literal["next_open", "same_close"] = "next_open"
    commission: CommissionModel = CommissionModel()
    slippage: SlippageModel = SlippageModel()
    sizing: Sizing = Sizing()
    participation: float | None = Field(default=None, gt=0, le=1)
    allow_short: bool = True
    allow_margin: bool = False
