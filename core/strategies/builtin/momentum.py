"""Momentum (rate of change).

Rule: ROC = close / close ``lookback`` bars ago − 1. Long while ROC > ``threshold``; flat
when ROC < −``threshold`` (short with ``long_short``). A new order only when the target
changes.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from core.strategies._base import Strategy
from core.strategies._indicators import RateOfChange
from core.strategies._params import StrategyParams
from core.strategies.builtin._signals import changes_only


class MomentumParams(StrategyParams):
    """Lookback (bars) and the return threshold of the momentum strategy."""

    lookback: int = Field(60, ge=2, le=500, description="bars between the two closes compared")
    threshold: float = Field(
        0.0,
        ge=0,
        le=1,
        description="ROC beyond which a position is taken",
        json_schema_extra={"step": 0.005},
    )
    long_short: bool = Field(False, description="go short on negative momentum instead of flat")


def _target(roc: float, threshold: float, long_short: bool) -> float:
    if math.isnan(roc):
        return math.nan
    if roc > threshold:
        return 1.0
    if roc < -threshold:
        return -1.0 if long_short else 0.0
    return math.nan


class Momentum(Strategy):
    """Trend following on the rate of change."""

    name = "momentum"
    label = "Momentum (rate of change)"
    Params = MomentumParams

    def on_start(self, ctx) -> None:
        self._roc, self._target = RateOfChange(self.params.lookback), math.nan

    def on_bar(self, ctx) -> None:
        target = _target(
            self._roc.update(ctx.close()), self.params.threshold, self.params.long_short
        )
        if not math.isnan(target) and target != self._target:
            self._target = target
            _order(ctx, target)

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray:
        n = self.params.lookback
        roc = np.full(len(close), np.nan)
        roc[n:] = close[n:] / close[:-n] - 1
        raw = np.array([_target(r, self.params.threshold, self.params.long_short) for r in roc])
        return changes_only(raw)


def _order(ctx, target: float) -> None:
    if target > 0:
        ctx.go_long()
    elif target < 0:
        ctx.go_short()
    else:
        ctx.go_flat()
