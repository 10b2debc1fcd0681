"""Trading K strategies' sleeves as one position, weighted by a policy.

Each sleeve strategy runs on a :class:`SleeveView`: it reads the real context but its
``go_long`` / ``go_short`` / ``go_flat`` only record the direction it wants (+1, −1, 0).
The combined exposure is ``Σ w_k × direction_k`` (a multiple of the sizing rule's
position, as each sleeve alone would trade it); :class:`SleeveMixer` trades the one
instrument to it whenever it changes: a new side through ``go_long`` / ``go_short`` with
``scale = |exposure|`` (sized at the fill, so it is affordable), a change on the same side
by buying or selling the proportional difference (a long grows by at most 98 % of the cash at
this close, so a gap at the next open does not get the order refused: a long at full weight
reached by growing holds about 1 % less than the sleeve alone would). Backtests and paper
sessions run this same code (the ``q_weights`` strategy).
"""

from __future__ import annotations

import math
from typing import Any

from core.errors import InvalidInputError
from core.execution import floor_to_step
from core.qlearning._request import META_STRATEGIES
from core.strategies import build_strategy, get_strategy

TOLERANCE = 1e-9
CASH_BUFFER = 0.98  # a same-side increase spends at most this share of the cash


class SleeveView:
    """A sleeve strategy's context: reads pass through, orders become a wanted direction."""

    def __init__(self, mixer: SleeveMixer):
        self._mixer = mixer
        self.direction = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mixer.ctx, name)

    def position(self, symbol: str | None = None) -> float:
        """The sleeve's own (virtual) position: its wanted direction."""
        return float(self.direction)

    def go_long(self, symbol=None, tag="", scale=1.0):
        self.direction = 1

    def go_short(self, symbol=None, tag="", scale=1.0):
        self.direction = -1

    def go_flat(self, symbol=None, tag=""):
        self.direction = 0

    def _by_quantity(self, *args, **kwargs):
        raise InvalidInputError(
            "q_weights: a sleeve placed an order by quantity; sleeves state a direction "
            "(go_long, go_short, go_flat)"
        )

    buy = sell = bracket = target_weights = cancel = _by_quantity


class SleeveMixer:
    """The sleeves, their directions and the combined position's orders.

    Parameters
    ----------
    strategies : sequence of str
        Sleeve strategy names.
    params : sequence of dict
        Each sleeve's parameters.
    """

    def __init__(self, strategies, params):
        for name in strategies:
            if get_strategy(name).multi_asset or name in META_STRATEGIES:
                raise InvalidInputError(
                    f"q_weights: {name} cannot be a sleeve (single-instrument strategies only)",
                    field="strategies",
                )
        self.sleeves = [build_strategy(n, p) for n, p in zip(strategies, params, strict=True)]
        self.views = [SleeveView(self) for _ in self.sleeves]
        self.ctx = None
        self.exposure = 0.0  # the target last traded to

    def start(self, ctx) -> None:
        self.ctx = ctx
        for sleeve, view in zip(self.sleeves, self.views, strict=True):
            sleeve.on_start(view)

    def step(self, ctx) -> list[int]:
        """Run every sleeve on this bar; their directions."""
        self.ctx = ctx
        for sleeve, view in zip(self.sleeves, self.views, strict=True):
            sleeve.on_bar(view)
        return [v.direction for v in self.views]

    def trade(self, ctx, weights, tag: str = "q_weights") -> float:
        """Orders that bring the position to ``Σ weights × directions``; that exposure."""
        target = sum(w * v.direction for w, v in zip(weights, self.views, strict=True))
        if abs(target - self.exposure) <= TOLERANCE:
            return target
        held = ctx.position()
        if abs(target) <= TOLERANCE:
            ctx.go_flat(tag=tag)
        elif held == 0 or (held > 0) != (target > 0) or self.exposure * target <= 0:
            place = ctx.go_long if target > 0 else ctx.go_short
            place(tag=tag, scale=abs(target))
        else:
            self._resize(ctx, held, target, tag)
        self.exposure = target
        return target

    def _resize(self, ctx, held: float, target: float, tag: str) -> None:
        instrument = ctx.instruments[ctx.symbol]
        step = instrument.quantity_step
        wanted = floor_to_step(held * target / self.exposure, step)
        delta = wanted - held
        if delta * held > 0:  # growing the position: keep within the cash
            price = ctx.close() * instrument.multiplier
            affordable = floor_to_step(max(ctx.cash, 0.0) * CASH_BUFFER / price, step)
            delta = math.copysign(min(abs(delta), affordable), delta) if held > 0 else delta
        if abs(delta) >= step:
            (ctx.buy if delta > 0 else ctx.sell)(abs(delta), tag=tag)
