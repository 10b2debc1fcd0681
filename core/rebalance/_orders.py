"""Orders that bring holdings to target weights, with their estimated transaction costs.

Quantity per symbol: ``floor_step(target × equity / (price × multiplier)) − held`` (toward
zero, in whole quantity steps), traded only when it is at least one step, as the backtest's
``target_weights`` does. Estimated fill price: the slippage model applied to the mark;
estimated cost: commission at that price + ``quantity × |est_price − price| × multiplier``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import InvalidInputError
from core.execution import CommissionModel, SlippageModel, floor_to_step
from core.instruments import Instrument


@dataclass(frozen=True)
class PlannedOrder:
    """One market order of a rebalance.

    side : "buy" or "sell"; quantity > 0 in instrument units
    price : the mark it was sized at; est_price : after slippage
    commission, slippage : estimated, currency; est_cost = commission + slippage
    """

    symbol: str
    side: str
    quantity: float
    price: float
    est_price: float
    commission: float
    slippage: float
    est_cost: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class OrderPlan:
    """The orders of one rebalance and their total estimated cost (currency)."""

    orders: tuple[PlannedOrder, ...]
    total_cost: float

    def to_dicts(self) -> list[dict]:
        return [o.to_dict() for o in self.orders]


floor_step = floor_to_step  # the name core.rebalance has always exported


def rebalance_orders(
    positions: Mapping[str, float],
    prices: Mapping[str, float],
    equity: float,
    targets: Mapping[str, float],
    instruments: Mapping[str, Instrument],
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    *,
    volatilities: Mapping[str, float] | None = None,
) -> OrderPlan:
    """The orders, in target order then held symbols without a target (their target is 0).

    positions : symbol → quantity held; prices : symbol → mark (currency per unit)
    equity : cash + positions at the marks; volatilities : for volatility slippage
    """
    commission, slippage = commission or CommissionModel(), slippage or SlippageModel()
    if not math.isfinite(equity) or equity < 0:
        raise InvalidInputError(f"equity must be a finite amount ≥ 0, got {equity}")
    symbols = list(targets) + [s for s, q in positions.items() if q and s not in targets]
    orders = []
    for symbol in symbols:
        order = _order(
            symbol,
            positions.get(symbol, 0.0),
            _price(prices, symbol),
            equity * targets.get(symbol, 0.0),
            _instrument(instruments, symbol),
            commission,
            slippage,
            (volatilities or {}).get(symbol, math.nan),
        )
        if order is not None:
            orders.append(order)
    return OrderPlan(tuple(orders), sum(o.est_cost for o in orders))


def _order(symbol, held, price, value, instrument, commission, slippage, volatility):
    wanted = floor_to_step(value / (price * instrument.multiplier), instrument.quantity_step)
    delta = wanted - held
    if abs(delta) < instrument.quantity_step:
        return None
    buying = delta > 0
    quantity = abs(delta)
    est_price = slippage.adjust(price, buying, volatility)
    fee = commission.cost(quantity, est_price, instrument.multiplier)
    slip = quantity * abs(est_price - price) * instrument.multiplier
    side = "buy" if buying else "sell"
    return PlannedOrder(symbol, side, quantity, price, est_price, fee, slip, fee + slip)


def _price(prices, symbol) -> float:
    price = prices.get(symbol)
    if price is None or not math.isfinite(price) or price <= 0:
        raise InvalidInputError(f"no usable price for {symbol}: got {price!r}")
    return float(price)


def _instrument(instruments, symbol) -> Instrument:
    try:
        return instruments[symbol]
    except KeyError:
        raise InvalidInputError(
            f"unknown instrument {symbol!r}: no quantity step or multiplier"
        ) from None
