"""Donchian channel breakout.

Rule: go long when the close rises above the highest high of the previous ``entry``
bars; exit when it falls below the lowest low of the previous ``exit`` bars. With
``long_short``, go short below the lowest low of the previous ``entry`` bars and cover
above the highest high of the previous ``exit`` bars. Close-only data uses closes as highs
and lows.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from core.strategies._base import Strategy
from core.strategies._indicators import Channel
from core.strategies._params import StrategyParams


class DonchianParams(StrategyParams):
    """Channel lengths (bars) of the Donchian breakout; ``entry`` opens, ``exit`` closes."""

    entry: int = Field(20, ge=2, le=400, description="bars in the breakout channel")
    exit: int = Field(10, ge=2, le=400, description="bars in the exit channel")
    long_short: bool = Field(False, description="also trade downside breakouts")


def step(state: float, close: float, entry_band, exit_band, long_short: bool) -> float:
    """The next position (1 long, -1 short, 0 flat, NaN before the channels exist).

    ``entry_band`` and ``exit_band`` are (upper, lower) of the channels at this bar.
    """
    (upper, lower), (exit_upper, exit_lower) = entry_band, exit_band
    if math.isnan(upper) or math.isnan(exit_upper):
        return math.nan
    if state <= 0 and close > upper:
        return 1.0
    if state >= 0 and long_short and close < lower:
        return -1.0
    if state > 0 and close < exit_lower:
        return 0.0
    if state < 0 and close > exit_upper:
        return 0.0
    return math.nan


class Donchian(Strategy):
    """Turtle-style channel breakout."""

    name = "donchian"
    label = "Donchian breakout"
    Params = DonchianParams

    def on_start(self, ctx) -> None:
        self._entry, self._exit = Channel(self.params.entry), Channel(self.params.exit)
        self._state = 0.0

    def on_bar(self, ctx) -> None:
        _, high, low, close, _ = ctx.bar()
        target = self._advance(close, high, low)
        if not math.isnan(target):
            ctx.go_long() if target > 0 else ctx.go_short() if target < 0 else ctx.go_flat()

    def _advance(self, close: float, high: float, low: float) -> float:
        entry, exit_ = self._entry.update(high, low), self._exit.update(high, low)
        target = step(self._state, close, entry, exit_, self.params.long_short)
        if not math.isnan(target):
            self._state = target
        return target

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray:
        high = close if high is None else high
        low = close if low is None else low
        self.on_start(None)
        return np.array([self._advance(*map(float, x)) for x in zip(close, high, low, strict=True)])
