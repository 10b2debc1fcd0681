"""ML stock selection (multi-asset): hold the top N of a walk-forward model's scores.

Rule: every ``every`` bars, score every instrument with the model's fold trained only on data
before this bar (the newest fold whose test window starts on or before it; none yet: stay in
cash), from the last bars of history up to this close; hold the ``top`` highest scores,
equally weighted or in proportion to score − lowest score, ``gross`` of equity in all (the rest
absorbs costs and rounding), through :meth:`Context.target_weights`: orders at this close fill
at the next bar (the label's convention: a decision at t trades at t + 1). The model comes from
the model source the runner was built with (the composition root's ``ws.ml``), by
``model_id``: the strategy never opens a file. Each rebalance is appended to ``selections_``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from core.errors import InvalidInputError
from core.strategies._base import Strategy
from core.strategies._models import require_models
from core.strategies._params import StrategyParams


class MLSelectionParams(StrategyParams):
    """The model, how many to hold, how often to rebalance, how to weight."""

    model_id: str = Field("", description="walk-forward model id (ML lab, `ml list`)")
    top: int = Field(5, ge=1, le=500, description="instruments held")
    every: int = Field(5, ge=1, le=252, description="bars between rebalances")
    weighting: Literal["equal", "score"] = Field("equal", description="equal or score weights")
    gross: float = Field(
        0.98,
        ge=0.1,
        le=1.0,
        description="share of equity invested",
        json_schema_extra={"step": 0.01},
    )


def pick_weights(scores: np.ndarray, top: int, weighting: str) -> np.ndarray:
    """Weights summing to 1 over the ``top`` highest finite scores (ties: first listed)."""
    w = np.zeros(len(scores))
    ok = np.flatnonzero(np.isfinite(scores))
    if not len(ok):
        return w
    chosen = ok[np.argsort(-scores[ok], kind="stable")[: min(top, len(ok))]]
    spread = scores[chosen] - scores[ok].min()
    if weighting == "score" and spread.sum() > 0:
        w[chosen] = spread / spread.sum()
    else:
        w[chosen] = 1 / len(chosen)
    return w


class MLSelection(Strategy):
    """Top-N of a walk-forward model's scores, rebalanced every ``every`` bars.

    Attributes
    ----------
    selections_ : list of dict, one per rebalance: bar, time, fold id, weights
    """

    name = "ml_selection"
    label = "ML stock selection (top N)"
    Params = MLSelectionParams
    multi_asset = True
    needs_models = True  # the factory passes the runner's model source

    def on_start(self, ctx) -> None:
        models = require_models(self.models, "ml_selection")
        if not self.params.model_id:
            raise InvalidInputError(
                "ml_selection: model_id: give a model id (ML lab or `python -m core ml list`)",
                field="model_id",
            )
        self._scorer = models.scorer(self.params.model_id)
        self._last: int | None = None
        self.selections_: list[dict] = []

    def on_bar(self, ctx) -> None:
        if self._last is not None and ctx.i - self._last < self.params.every:
            return
        lookback = self._scorer.lookback
        if ctx.i + 1 < lookback:
            return
        symbols = ctx.symbols
        close = np.column_stack([ctx.history(s)[-lookback:] for s in symbols])
        volume = None
        if self._scorer.has_volume:
            volume = np.column_stack([ctx.history(s, "volume")[-lookback:] for s in symbols])
        fold = self._scorer.fold_for(ctx.time)
        scores = self._scorer.score(close, ctx.time, volume)
        if scores is None:
            return  # no fold trained before this bar yet: stay in cash
        weights = pick_weights(np.asarray(scores, float), self.params.top, self.params.weighting)
        held = {s: ctx.position(s) for s in symbols}
        targets = {
            s: float(w * self.params.gross)
            for s, w in zip(symbols, weights, strict=True)
            if w > 0 or held[s]
        }
        ctx.target_weights(dict(sorted(targets.items(), key=lambda kv: kv[1])), tag="ml")
        self._last = ctx.i
        self.selections_.append(
            {"bar": ctx.i, "time": ctx.time, "fold": fold["id"], "weights": targets}
        )
