"""RSI reversal.

Rule: Wilder's RSI over ``period`` closes. Go long when RSI < ``oversold``; exit when RSI
rises above ``exit_level``. With ``long_short``, go short when RSI > ``overbought`` and
cover when it falls below ``exit_level``.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from core.strategies._base import Strategy
from core.strategies._indicators import RSI
from core.strategies._params import StrategyParams


class RsiReversalParams(StrategyParams):
    """RSI period (bars) and the levels that open and close a reversal trade."""

    period: int = Field(14, ge=2, le=200, description="bars in Wilder's RSI")
    oversold: float = Field(30.0, ge=1, le=50, description="RSI below which to buy")
    overbought: float = Field(70.0, ge=50, le=99, description="RSI above which to sell short")
    exit_level: float = Field(50.0, ge=1, le=99, description="RSI at which positions close")
    long_short: bool = Field(False, description="also sell short when overbought")

    @model_validator(mode="after")
    def _ordered(self) -> RsiReversalParams:
        if not self.oversold <= self.exit_level <= self.overbought:
            raise ValueError("need oversold ≤ exit_level ≤ overbought")
        return self


def step(state: float, rsi: float, p: RsiReversalParams) -> float:
    """The next position (1 long, -1 short, 0 flat, NaN before the RSI exists)."""
    if math.isnan(rsi):
        return math.nan
    if state == 0 and rsi < p.oversold:
        return 1.0
    if state == 0 and p.long_short and rsi > p.overbought:
        return -1.0
    if state > 0 and rsi > p.exit_level:
        return 0.0
    if state < 0 and rsi < p.exit_level:
        return 0.0
    return math.nan


class RsiReversal(Strategy):
    """Buy oversold, sell overbought."""

    name = "rsi_reversal"
    label = "RSI reversal"
    Params = RsiReversalParams

    def on_start(self, ctx) -> None:
        self._rsi, self._state = RSI(self.params.period), 0.0

    def on_bar(self, ctx) -> None:
        target = self._advance(ctx.close())
        if not math.isnan(target):
            ctx.go_long() if target > 0 else ctx.go_short() if target < 0 else ctx.go_flat()

    def _advance(self, close: float) -> float:
        target = step(self._state, self._rsi.update(close), self.params)
        if not math.isnan(target):
            self._state = target
        return target

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray:
        self.on_start(None)
        return np.array([self._advance(float(c)) for c in close])
