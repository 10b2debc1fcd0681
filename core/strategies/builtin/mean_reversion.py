"""Mean reversion on a rolling z-score.

Rule: z = (close − mean) / std (ddof=1) over the last ``lookback`` closes, the current one
included. Flat: go long when z < −``entry_z`` (short when z > ``entry_z`` with
``long_short``). Long: exit when z ≥ −``exit_z``. Short: exit when z ≤ ``exit_z``.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from core.strategies._base import Strategy
from core.strategies._indicators import RollingZScore
from core.strategies._params import StrategyParams


class MeanReversionParams(StrategyParams):
    """Rolling window (bars) and the z-scores that open and close a mean-reversion trade."""

    lookback: int = Field(20, ge=3, le=500, description="bars in the rolling mean and std")
    entry_z: float = Field(
        2.0, ge=0.1, le=5, description="|z| that opens a position", json_schema_extra={"step": 0.1}
    )
    exit_z: float = Field(
        0.5,
        ge=0,
        le=5,
        description="|z| inside which the position closes",
        json_schema_extra={"step": 0.1},
    )
    long_short: bool = Field(False, description="also sell short above +entry_z")

    @model_validator(mode="after")
    def _exit_inside_entry(self) -> MeanReversionParams:
        if self.exit_z >= self.entry_z:
            raise ValueError(f"exit_z ({self.exit_z}) must be below entry_z ({self.entry_z})")
        return self


def step(state: float, z: float, p: MeanReversionParams) -> float:
    """The next target given the current one (0 flat, ±1) and today's z; NaN: no change."""
    if math.isnan(z):
        return math.nan
    if state == 0:
        if z < -p.entry_z:
            return 1.0
        if p.long_short and z > p.entry_z:
            return -1.0
    elif (state > 0 and z >= -p.exit_z) or (state < 0 and z <= p.exit_z):
        return 0.0
    return math.nan


class MeanReversion(Strategy):
    """Fade stretches away from the rolling mean."""

    name = "mean_reversion"
    label = "Mean reversion (z-score)"
    Params = MeanReversionParams

    def on_start(self, ctx) -> None:
        self._z, self._state = RollingZScore(self.params.lookback), 0.0

    def on_bar(self, ctx) -> None:
        target = step(self._state, self._z.update(ctx.close()), self.params)
        if math.isnan(target):
            return
        self._state = target
        ctx.go_long() if target > 0 else ctx.go_short() if target < 0 else ctx.go_flat()

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray:
        z_of = RollingZScore(self.params.lookback)
        out, state = np.full(len(close), np.nan), 0.0
        for i, c in enumerate(close):
            target = step(state, z_of.update(float(c)), self.params)
            if not math.isnan(target):
                out[i] = state = target
        return out
