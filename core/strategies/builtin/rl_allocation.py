"""RL allocation: target weights from a trained PPO model at each rebalance (multi-asset).

Rule: every ``every`` bars (0: the model's own rebalance frequency), once each of the
model's instruments has enough history, the model reads the closes up to this bar and the
weights held now and sets target weights; ``ctx.target_weights`` trades to them at this
close (filled at the next bar's open, as in the model's environment). What is not weighted
stays in cash. The model comes from the model registry by ``model_id`` (hash-checked, through the
model source its runner gives it: :class:`core.strategies.StrategyModels`), so
the same code runs in a backtest and in a paper session.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from core.errors import InvalidInputError
from core.rl import policy_from
from core.strategies._base import Strategy
from core.strategies._models import require_models
from core.strategies._params import StrategyParams


class RLAllocationParams(StrategyParams):
    """The trained model and how often it sets weights."""

    model_id: str = Field("", description="id of a trained PPO model (RL lab, `rl list`)")
    every: int = Field(
        0, ge=0, le=504, description="bars between rebalances (0 = the model's own frequency)"
    )


class RLAllocation(Strategy):
    """Weights set by a PPO agent trained in the RL lab.

    Attributes
    ----------
    decisions_ : list of (bar, dict of symbol to weight), one per rebalance
    """

    name = "rl_allocation"
    label = "RL allocation (PPO weights)"
    Params = RLAllocationParams
    multi_asset = True
    needs_models = True  # the factory passes the runner's model source

    def on_start(self, ctx) -> None:
        if not self.params.model_id:
            raise InvalidInputError("rl_allocation: choose a trained model", field="model_id")
        self._policy = policy = policy_from(
            require_models(self.models, "rl_allocation"), self.params.model_id
        )
        missing = sorted(set(policy.symbols) - set(ctx.symbols))
        if missing:
            raise InvalidInputError(
                f"rl_allocation: model {policy.model_id} needs {', '.join(missing)} in the "
                "instruments traded",
                field="model_id",
            )
        self._every = self.params.every or policy.settings.rebalance_every
        self._need = policy.history_needed
        self._last: int | None = None
        self.decisions_: list[tuple[int, dict[str, float]]] = []

    def on_bar(self, ctx) -> None:
        if self._last is not None and ctx.i - self._last < self._every:
            return
        if ctx.i + 1 < self._need:
            return
        symbols = self._policy.symbols
        closes = np.column_stack([ctx.history(s)[-self._need :] for s in symbols])
        if len(closes) < self._need or np.isnan(closes).any():
            return
        target = self._policy.target(closes, self._held(ctx, symbols))
        weights = {s: float(w) for s, w in zip(symbols, target[:-1], strict=True)}
        ctx.target_weights(weights, tag="rl")
        self._last = ctx.i
        self.decisions_.append((ctx.i, weights))

    @staticmethod
    def _held(ctx, symbols) -> np.ndarray:
        equity = ctx.equity
        held = np.zeros(len(symbols) + 1)
        if equity > 0:
            marks = ctx.marks()
            held[:-1] = [ctx.position_value(s, marks[s]) / equity for s in symbols]
        held[-1] = max(0.0, 1.0 - held[:-1].sum())
        return held
