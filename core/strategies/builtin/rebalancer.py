"""Rebalancer to target weights (multi-asset): on a schedule, on drift, on risk triggers.

Rule: on the first bar on which every weighted instrument has a price, trade each to
``weight × equity`` at the close, in whole units of its quantity step (rounded down). After
that a :class:`~core.rebalance.RebalancePolicy` built from the parameters decides each bar:
every ``every`` bars since the last rebalance (``schedule="bars"``, the default), the first
bar of each month or quarter without one, and, when switched on, an absolute or relative
drift band, a change of drawdown level (targets then × the level's scale) or the portfolio
volatility crossing a bound; ``min_interval`` bars must separate two rebalances. ``weights``
is "SYM:w,SYM:w"; empty means equal weights over all instruments. Weights may sum to less
than 1 (the rest stays in cash). Each rebalance is appended to ``rebalance_history_``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from core.errors import InvalidInputError
from core.rebalance import (
    RebalancePolicy,
    RebalanceRecord,
    check_rebalance,
    rebalance_orders,
    scaled_targets,
)
from core.rebalance import drifts as weight_drifts
from core.risk import DrawdownController
from core.strategies._base import Strategy
from core.strategies._params import StrategyParams

VOL_WINDOW = 20  # bars of equity returns in the volatility trigger
BARS_PER_YEAR = 252
SCHEDULE = {"bars": "every_n_bars", "monthly": "monthly", "quarterly": "quarterly", "none": "none"}


class RebalancerParams(StrategyParams):
    """Target weights, schedule and drift bands of the rebalancer."""

    every: int = Field(21, ge=1, le=504, description="bars between rebalances")
    weights: str = Field("", description="target weights 'SYM:w,SYM:w'; empty = equal weight")
    schedule: Literal["bars", "monthly", "quarterly", "none"] = Field(
        "bars", description="scheduled rebalances: every `every` bars, monthly, quarterly or none"
    )
    abs_drift: float = Field(
        0.0,
        ge=0,
        le=1,
        description="rebalance when |weight − target| ≥ this (0 = off)",
        json_schema_extra={"step": 0.01},
    )
    rel_drift: float = Field(
        0.0,
        ge=0,
        le=10,
        description="rebalance when |weight − target| ≥ this × target (0 = off)",
        json_schema_extra={"step": 0.05},
    )
    min_interval: int = Field(0, ge=0, le=504, description="bars required between rebalances")
    drawdown_trigger: bool = Field(
        False, description="rebalance, scaled, when the drawdown level (10 %, 20 %) changes"
    )
    vol_bound: float = Field(
        0.0,
        ge=0,
        le=5,
        description="rebalance when annualised volatility crosses this (0 = off)",
        json_schema_extra={"step": 0.01},
    )

    @field_validator("weights")
    @classmethod
    def _parse_check(cls, value: str) -> str:
        parse_weights(value)
        return value

    def policy(self) -> RebalancePolicy:
        return RebalancePolicy(
            abs_threshold=self.abs_drift,
            rel_threshold=self.rel_drift,
            schedule=SCHEDULE[self.schedule],
            every_n_bars=self.every,
            min_interval_bars=self.min_interval,
            drawdown_trigger=self.drawdown_trigger,
            vol_bound=self.vol_bound,
        )


def parse_weights(text: str) -> dict[str, float]:
    """``"SYM:w,SYM:w"`` as {symbol: weight}; refuses a malformed part or weights over 1."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        symbol, sep, raw = part.partition(":")
        if not sep:
            raise InvalidInputError(f"weight {part!r} is not SYM:w", field="weights")
        weights[symbol.strip().upper()] = float(raw)
    if any(w < 0 for w in weights.values()) or sum(weights.values()) > 1 + 1e-9:
        raise InvalidInputError("weights must be ≥ 0 and sum to at most 1", field="weights")
    return weights


class Rebalancer(Strategy):
    """Hold target weights, trading back to them when the rebalancing policy says so.

    Attributes
    ----------
    rebalance_history_ : list of RebalanceRecord, one per rebalance, oldest first
    """

    name = "rebalancer"
    label = "Periodic rebalancer"
    Params = RebalancerParams
    multi_asset = True

    def on_start(self, ctx) -> None:
        given = parse_weights(self.params.weights)
        symbols = ctx.symbols
        unknown = set(given) - set(symbols)
        if unknown:
            raise InvalidInputError(
                f"weights name instruments not in the backtest: {sorted(unknown)}", field="weights"
            )
        self._weights = given or {s: 1 / len(symbols) for s in symbols}
        self._policy = policy = self.params.policy()
        self._watch_drift = bool(policy.abs_threshold or policy.rel_threshold)
        self._calendar = policy.schedule in ("monthly", "quarterly")
        self._only_every = (
            policy.schedule == "every_n_bars"
            and not self._watch_drift
            and not policy.drawdown_trigger
            and not policy.vol_bound
        )
        self._controller = DrawdownController() if self.params.drawdown_trigger else None
        self._equity: list[float] = []
        self._first: int | None = None
        self._last: tuple[int, object, str, float | None] | None = None  # bar, ts, level, vol
        self.rebalance_history_: list[RebalanceRecord] = []

    def on_bar(self, ctx) -> None:
        level, scale, vol = self._risk(ctx)
        if self._first is None:
            if not all(ctx.has_bar(s) for s in self._weights):
                return
            self._first = ctx.i
            self._rebalance(ctx, ["initial allocation"], level, scale, vol)
            return
        bar, ts, last_level, last_vol = self._last
        if self._only_every and ctx.i - bar < self.params.every:
            return  # shortcut: only the every-N-bars schedule could fire, and it cannot yet
        weights, targets = {}, {}
        if self._watch_drift:  # weights only when a band needs them (they cost a valuation)
            marks = ctx.marks()
            targets = {s: w for s, w in scaled_targets(self._weights, scale).items() if s in marks}
            weights = _weights_now(ctx, marks, ctx.equity, targets)
        decision = check_rebalance(
            weights,
            targets,
            ctx.i - bar,
            ctx.time if self._calendar else None,
            ts,
            level,
            last_drawdown_level=last_level,
            volatility=vol,
            last_volatility=last_vol,
            policy=self._policy,
        )
        if decision.rebalance:
            self._rebalance(ctx, decision.reasons, level, scale, vol)

    def _risk(self, ctx) -> tuple[str, float, float | None]:
        """Drawdown level and scale, and annualised volatility of the equity (None: off)."""
        level, scale, vol = "normal", 1.0, None
        if self._controller is not None:
            status = self._controller.update(ctx.equity)
            level, scale = status.level, status.scale
        if self.params.vol_bound:
            self._equity.append(ctx.equity)
            window = np.asarray(self._equity[-VOL_WINDOW - 1 :])
            if len(window) >= 3 and (window[:-1] > 0).all():
                returns = np.diff(window) / window[:-1]
                vol = float(returns.std(ddof=1) * math.sqrt(BARS_PER_YEAR))
        return level, scale, vol

    def _rebalance(self, ctx, reasons, level, scale, vol) -> None:
        marks = ctx.marks()
        targets = {s: w for s, w in scaled_targets(self._weights, scale).items() if s in marks}
        equity = ctx.equity
        drifts = weight_drifts(_weights_now(ctx, marks, equity, targets), targets)
        execution = ctx.execution
        volatilities = (
            {s: ctx.volatility(s) for s in targets} if execution.slippage.kind != "bps" else None
        )
        plan = rebalance_orders(
            {s: ctx.position(s) for s in targets},
            marks,
            equity,
            targets,
            ctx.instruments,
            execution.commission,
            execution.slippage,
            volatilities=volatilities,
        )
        for order in plan.orders:
            place = ctx.buy if order.side == "buy" else ctx.sell
            place(order.quantity, order.symbol, tag="rebalance")
        self._last = (ctx.i, ctx.time, level, vol)
        self.rebalance_history_.append(
            RebalanceRecord(
                ts=ctx.time,
                bar=ctx.i,
                reasons=list(reasons),
                drifts=dict(drifts),
                n_orders=len(plan.orders),
                est_cost=plan.total_cost,
                orders=plan.to_dicts(),
            )
        )


def _weights_now(ctx, marks, equity, symbols) -> dict[str, float]:
    if equity <= 0:
        return dict.fromkeys(symbols, 0.0)
    return {s: ctx.position_value(s, marks[s]) / equity for s in symbols}
