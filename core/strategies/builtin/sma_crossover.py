"""SMA crossover.

Rule: fast = mean of the last ``fast`` closes, slow = mean of the last ``slow`` closes.
When fast − slow changes sign from negative to positive, go long; from positive to
negative, exit (or go short with ``long_short``). No signal before both averages exist,
so a trend already in place at the start is not entered.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from core.strategies._base import Strategy
from core.strategies._indicators import SMA
from core.strategies._params import StrategyParams
from core.strategies.builtin._signals import Crossover, cross_signs, sma_array


class SmaCrossoverParams(StrategyParams):
    """Window lengths (bars) of the two moving averages, and whether to go short."""

    fast: int = Field(10, ge=2, le=200, description="bars in the fast moving average")
    slow: int = Field(50, ge=3, le=400, description="bars in the slow moving average")
    long_short: bool = Field(False, description="go short on a downward cross instead of exiting")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self


class SmaCrossover(Strategy):
    """Moving-average crossover on one instrument."""

    name = "sma_crossover"
    label = "SMA crossover"
    Params = SmaCrossoverParams

    def on_start(self, ctx) -> None:
        self._fast, self._slow = SMA(self.params.fast), SMA(self.params.slow)
        self._cross = Crossover()
        self._steps = self._fast.update, self._slow.update, self._cross.update

    def on_bar(self, ctx) -> None:
        close = ctx.close()
        fast_update, slow_update, cross_update = self._steps
        fast, slow = fast_update(close), slow_update(close)
        if slow != slow:  # NaN: the slow average does not exist yet
            return
        cross = cross_update(fast, slow)
        if cross > 0:
            ctx.go_long()
        elif cross < 0:
            ctx.go_short() if self.params.long_short else ctx.go_flat()

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray:
        cross = cross_signs(sma_array(close, self.params.fast), sma_array(close, self.params.slow))
        down = -1.0 if self.params.long_short else 0.0
        return np.where(cross > 0, 1.0, np.where(cross < 0, down, np.nan))
