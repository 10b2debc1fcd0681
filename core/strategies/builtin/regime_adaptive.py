"""Regime-adaptive wrapper.

Rule: a Gaussian HMM of log returns is fitted on the returns *before* bar ``min_train``
and refitted every ``refit_every`` bars on all returns before the refit bar; a forward
filter updated with each new return gives the regime at every bar (data up to that bar
only). One copy of ``strategy`` runs per regime named in ``regime_params`` (that
regime's parameter overrides on the defaults) plus one with the defaults; all copies see
every bar, only the copy of the current regime trades. On a regime change the position
moves to what the new regime's copy wants. ``size_scale`` scales the sizing rule's
quantity per regime (e.g. {"bear": 0.5}).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from core.errors import InvalidInputError
from core.strategies._base import Strategy
from core.strategies._params import StrategyParams


class RegimeAdaptiveParams(StrategyParams):
    """The inner strategy, its parameters per regime label and the regime model's settings."""

    strategy: str = Field(
        "sma_crossover", description="single-instrument strategy run in every regime"
    )
    regime_params: str = Field(
        '{"bull": {"fast": 20, "slow": 100}, "bear": {"fast": 5, "slow": 20}}',
        description="JSON: regime label → parameter overrides",
    )
    size_scale: str = Field('{"bear": 0.5}', description="JSON: regime label → position size scale")
    n_states: int = Field(2, ge=2, le=4, description="hidden states of the regime model")
    min_train: int = Field(500, ge=100, le=5000, description="bars before the first fit")
    refit_every: int = Field(252, ge=20, le=2520, description="bars between refits")
    seed: int = Field(0, ge=0, le=10_000, description="seed of the model's random starts")

    @field_validator("regime_params", "size_scale")
    @classmethod
    def _json_object(cls, value: str) -> str:
        parsed = json.loads(value or "{}")
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object keyed by regime label")
        return value


class _Gate:
    """A strategy copy's view of the context.

    Reads pass through; its targets are recorded and reach the market only while its regime is the
    active one.
    """

    def __init__(self, owner: RegimeAdaptive, key: str):
        self._owner, self._key, self.wanted = owner, key, None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.ctx, name)

    def go_long(self, symbol=None, tag=""):
        return self._want(1, tag)

    def go_short(self, symbol=None, tag=""):
        return self._want(-1, tag)

    def go_flat(self, symbol=None, tag=""):
        return self._want(0, tag)

    def _want(self, target: int, tag: str):
        self.wanted = target
        if self._owner.active == self._key:
            return self._owner.send(target, tag)
        return None


class RegimeAdaptive(Strategy):
    """Switch a strategy's parameters and size with the filtered market regime."""

    name = "regime_adaptive"
    label = "Regime-adaptive (HMM)"
    Params = RegimeAdaptiveParams

    def on_start(self, ctx) -> None:
        from core.strategies._factory import build_strategy
        from core.strategies._registry import get_strategy

        p = self.params
        inner = get_strategy(p.strategy)
        if inner.multi_asset or inner is RegimeAdaptive:
            raise InvalidInputError(
                f"{p.strategy} cannot run inside regime_adaptive", field="strategy"
            )
        self.ctx, self.active, self._regime = ctx, "default", None
        self._scales = {k: float(v) for k, v in json.loads(p.size_scale or "{}").items()}
        overrides = json.loads(p.regime_params or "{}")
        self._copies = {"default": inner()} | {
            k: build_strategy(p.strategy, v) for k, v in overrides.items()
        }
        self._gates = {k: _Gate(self, k) for k in self._copies}
        for key, copy in self._copies.items():
            copy.on_start(self._gates[key])
        self._returns: list[float] = []
        self._prev, self._filter, self._labels = math.nan, None, ()

    def on_bar(self, ctx) -> None:
        self.ctx = ctx
        self._observe(ctx.close(), ctx.i)
        for key, copy in self._copies.items():
            copy.on_bar(self._gates[key])
        active = self._regime if self._regime in self._copies else "default"
        if active != self.active:
            self.active = active
            wanted = self._gates[active].wanted
            if wanted is not None and _direction(ctx.position()) != wanted:
                self.send(wanted, f"regime {self._regime}")

    def send(self, target: int, tag: str):
        scale = self._scales.get(self._regime or "", 1.0)
        if target > 0:
            return self.ctx.go_long(tag=tag, scale=scale)
        if target < 0:
            return self.ctx.go_short(tag=tag, scale=scale)
        return self.ctx.go_flat(tag=tag)

    @property
    def regime(self) -> str | None:
        return self._regime

    def _observe(self, close: float, i: int) -> None:
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return
        r = math.log(close / prev)
        p = self.params
        n = len(self._returns)  # returns before this bar
        if n + 1 >= p.min_train and (n + 1 - p.min_train) % p.refit_every == 0:
            self._refit()
        self._returns.append(r)
        if self._filter is not None:
            probs = self._filter.update(r)
            self._regime = self._labels[int(np.argmax(probs))]

    def _refit(self) -> None:
        from core.regimes import RegimeFilter, RegimeHMM

        history = np.asarray(self._returns).reshape(-1, 1)
        try:
            model = RegimeHMM(self.params.n_states, n_starts=3, seed=self.params.seed).fit(history)
        except ValueError:
            return  # keep the model in force
        self._filter, self._labels = RegimeFilter(model), tuple(model.labels_)
        self._filter.update_many(history)


def _direction(quantity: float) -> int:
    return 0 if quantity == 0 else (1 if quantity > 0 else -1)
