"""Periodic rebalancer to target weights (multi-asset).

Rule: every ``every`` bars (from the first bar on which every instrument has a price),
trade each instrument to ``weight × equity`` at the close, in whole units of its quantity
step. ``weights`` is "SYM:w,SYM:w"; empty means equal weights over all instruments. Weights
may sum to less than 1 (the rest stays in cash).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from core.strategies._base import Strategy
from core.strategies._params import StrategyParams


class RebalancerParams(StrategyParams):
    every: int = Field(21, ge=1, le=504, description="bars between rebalances")
    weights: str = Field("", description="target weights 'SYM:w,SYM:w'; empty = equal weight")

    @field_validator("weights")
    @classmethod
    def _parse_check(cls, value: str) -> str:
        parse_weights(value)
        return value


def parse_weights(text: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        symbol, sep, raw = part.partition(":")
        if not sep:
            raise ValueError(f"weight {part!r} is not SYM:w")
        weights[symbol.strip().upper()] = float(raw)
    if any(w < 0 for w in weights.values()) or sum(weights.values()) > 1 + 1e-9:
        raise ValueError("weights must be ≥ 0 and sum to at most 1")
    return weights


class Rebalancer(Strategy):
    """Hold fixed weights, trading back to them on a schedule."""

    name = "rebalancer"
    label = "Periodic rebalancer"
    Params = RebalancerParams
    multi_asset = True

    def on_start(self, ctx) -> None:
        given = parse_weights(self.params.weights)
        symbols = ctx.symbols
        unknown = set(given) - set(symbols)
        if unknown:
            raise ValueError(f"weights name instruments not in the backtest: {sorted(unknown)}")
        self._weights = given or {s: 1 / len(symbols) for s in symbols}
        self._first: int | None = None

    def on_bar(self, ctx) -> None:
        if self._first is None:
            if not all(ctx.has_bar(s) for s in self._weights):
                return
            self._first = ctx.i
        if (ctx.i - self._first) % self.params.every == 0:
            ctx.target_weights(self._weights, tag="rebalance")
