"""The simulated broker: orders in, fills out, bar by bar.

Trigger rules on a bar (open o, high h, low l, close c):

* market: fills at the open of the first bar after it was placed (or, with
  ``same_close`` timing, at the close of the bar it was placed on);
* limit buy: fills when l ≤ limit, at min(o, limit); limit sell when h ≥ limit, at max(o, limit);
* stop buy: fills when h ≥ stop, at max(o, stop) (a gap through the stop fills at the open);
  stop sell when l ≤ stop, at min(o, stop); slippage applies to market and stop fills;
* stop-limit: once the stop is touched it is a limit order; on the bar that touches the
  stop it fills only if max(o, stop) (buy) is within the limit, at that price;
* take-profit: a limit order that only reduces a position;
* bracket: an entry with a stop-loss and a take-profit that become active on the bar after
  the entry fills; the first of the two to fill cancels the other (one cancels the other).

Time in force ``day`` expires an order after the first bar on which it was eligible.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from core.errors import ConflictError, InvalidInputError
from core.execution._config import ExecutionConfig
from core.execution._orders import (
    Execution,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from core.execution._sizing import floor_to_step
from core.instruments import Instrument
from core.portfolio import Fill, Ledger, LedgerError, Side

BUY, SELL = Side.BUY, Side.SELL

OrderFilter = Callable[[OrderIntent], tuple[OrderIntent, str]]
"""Sits between a strategy and the book (the risk gate): given an intent that passed the
instrument checks, returns the intent to place (maybe scaled down) and why it is refused
("" to accept it)."""


class SimulatedBroker:
    """Keeps the order book and books fills on a :class:`~core.portfolio.Ledger`."""

    def __init__(
        self,
        config: ExecutionConfig,
        ledger: Ledger,
        instruments: dict[str, Instrument],
        market_stats: Callable[[str], tuple[float, float]] | None = None,
        marks: Callable[[], dict[str, float]] | None = None,
    ):
        self.config = config
        self.ledger = ledger
        self.instruments = instruments
        self.orders: dict[int, Order] = {}
        self.active: list[Order] = []
        self.executions: list[Execution] = []
        self._next_id = 1
        self._stats = market_stats or (lambda symbol: (math.nan, math.nan))
        self._rate = config.commission.notional_rate
        self._marks = marks or dict
        # Volatility and mean return are only read by volatility slippage and by the
        # vol-target and Kelly sizers: skip computing them for the other rules.
        self._slip_needs_stats = config.slippage.kind != "bps"
        self._size_needs_stats = config.sizing.method in ("vol_target", "kelly")
        # The risk overlay (a backtest's, or a paper portfolio's) is injected here.
        self.order_filter: OrderFilter | None = None

    # -- order entry ------------------------------------------------------------------
    def place(self, intent: OrderIntent, created_at: int) -> Order:
        """Enter ``intent`` as an order placed on bar ``created_at``.

        It is checked against its instrument, then through the order filter; a refused one is stored
        rejected.
        """
        problem = _check(intent, self.instruments)
        if not problem and self.order_filter is not None:
            intent, problem = self.order_filter(intent)
        return self._enter(intent.order(created_at), problem)

    def submit(self, order: Order) -> Order:
        """Enter an order built by hand (same checks as :meth:`place`)."""
        problem = _check(order, self.instruments)
        if not problem and self.order_filter is not None:
            intent, problem = self.order_filter(OrderIntent.of(order))
            order.quantity, order.scale = intent.quantity, intent.scale
        return self._enter(order, problem)

    def _enter(self, order: Order, problem: str) -> Order:
        order.id = self._next_id
        self._next_id += 1
        self.orders[order.id] = order
        if problem:
            order.status, order.reason = OrderStatus.REJECTED, problem
        elif order.status is not OrderStatus.PENDING:
            self.active.append(order)
        return order

    def cancel(self, order_id: int, reason: str = "cancelled") -> bool:
        order = self.orders.get(order_id)
        if order is None or order.status not in (
            OrderStatus.OPEN,
            OrderStatus.PARTIAL,
            OrderStatus.PENDING,
        ):
            return False
        order.status, order.reason = OrderStatus.CANCELLED, reason
        for child in order.children:
            self.cancel(child, "parent cancelled")
        self.active = [o for o in self.active if o.active]
        return True

    def modify(self, order_id: int, *, quantity=None, limit_price=None, stop_price=None) -> Order:
        order = self.orders[order_id]
        if not order.active and order.status is not OrderStatus.PENDING:
            raise ConflictError(f"order {order_id} is {order.status} and cannot be modified")
        if quantity is not None:
            order.quantity = quantity
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        problem = _check(order, self.instruments)
        if problem:
            raise InvalidInputError(problem)
        return order

    def expire_open(self, reason: str) -> None:
        """Every order still open, partly filled or pending expires (no bar is left)."""
        for order in self.orders.values():
            if order.status in (OrderStatus.OPEN, OrderStatus.PARTIAL, OrderStatus.PENDING):
                order.status, order.reason = OrderStatus.EXPIRED, reason
        self.active = [o for o in self.active if o.active]

    @property
    def last_order_id(self) -> int:
        """The id the last order got (0 before the first)."""
        return self._next_id - 1

    def has_active(self, symbol: str) -> bool:
        return any(o.symbol == symbol for o in self.active)

    # -- matching ---------------------------------------------------------------------------
    def on_bar(
        self,
        bar: int,
        symbol: str,
        o: float,
        h: float,
        l: float,
        c: float,
        v: float,
        side: Side | None = None,
    ) -> None:
        """Match every active order of ``symbol`` placed before ``bar`` against it.

        Only the orders of ``side`` when given: sales go first so they can pay for purchases.
        """
        touched = False
        for order in list(self.active):
            if order.symbol != symbol or order.created_at >= bar or not order.active:
                continue
            if side is not None and order.side is not side:
                continue
            touched = True
            price = self._trigger(order, o, h, l)
            if price is not None:
                self._execute(order, price, bar, v)
            if order.active and order.tif is TimeInForce.DAY:
                if order.filled:
                    order.status, order.reason = OrderStatus.EXPIRED, "rest of day order expired"
                else:
                    self._finish(order, OrderStatus.EXPIRED, "day order not filled")
        if touched:
            self.active = [x for x in self.active if x.active]

    def on_close(self, bar: int, symbol: str, c: float, v: float, side: Side | None = None) -> None:
        """``same_close`` timing: fill the market orders placed on this bar at its close."""
        for order in list(self.active):
            if (
                order.symbol == symbol
                and order.created_at == bar
                and order.type is OrderType.MARKET
                and (side is None or order.side is side)
            ):
                self._execute(order, self._slip(c, order), bar, v)
        self.active = [x for x in self.active if x.active]

    def _trigger(self, order: Order, o: float, h: float, l: float) -> float | None:
        kind, buying = order.type, order.side is BUY
        if kind is OrderType.MARKET:
            return self._slip(o, order)
        if kind is OrderType.LIMIT or kind is OrderType.TAKE_PROFIT:
            return _limit_price(buying, order.limit_price, o, h, l)
        if kind is OrderType.STOP:
            hit = h >= order.stop_price if buying else l <= order.stop_price
            if not hit:
                return None
            return self._slip(
                max(o, order.stop_price) if buying else min(o, order.stop_price), order
            )
        return self._stop_limit(order, o, h, l)

    def _stop_limit(self, order: Order, o: float, h: float, l: float) -> float | None:
        buying = order.side is BUY
        if order.triggered:
            return _limit_price(buying, order.limit_price, o, h, l)
        if not (h >= order.stop_price if buying else l <= order.stop_price):
            return None
        order.triggered = True
        start = max(o, order.stop_price) if buying else min(o, order.stop_price)
        within = start <= order.limit_price if buying else start >= order.limit_price
        return start if within else None

    def _slip(self, price: float, order: Order) -> float:
        volatility = self._stats(order.symbol)[0] if self._slip_needs_stats else math.nan
        return self.config.slippage.adjust(price, order.side is BUY, volatility)

    # -- booking ------------------------------------------------------------------------------
    def _execute(self, order: Order, price: float, bar: int, volume: float) -> None:
        if order.target is not None:
            self._execute_target(order, price, bar)
            return
        quantity = order.remaining
        if order.type is OrderType.TAKE_PROFIT or order.parent is not None:
            quantity = min(quantity, self._reducible(order))
            if quantity <= 0:
                self._finish(order, OrderStatus.CANCELLED, "nothing left to reduce")
                return
        quantity = self._capped(order, quantity, volume)
        if quantity <= 0:
            return  # the bar is too thin for the participation cap: wait for the next one
        if self._book(order, order.side, quantity, price, bar):
            order.filled += quantity
            done = order.filled >= order.quantity - 1e-12
            order.status = OrderStatus.FILLED if done else OrderStatus.PARTIAL
            self._after_fill(order, bar)

    def _execute_target(self, order: Order, price: float, bar: int) -> None:
        """Go flat, long or short: close what opposes the target, then size the new side."""
        held = self.ledger.quantity(order.symbol)
        if held and (order.target == 0 or (held > 0) != (order.target > 0)):
            side = SELL if held > 0 else BUY
            if not self._book(order, side, abs(held), price, bar):
                return
        if order.target != 0 and not (self.ledger.quantity(order.symbol) * order.target > 0):
            units = self.units(order.symbol, price)
            if order.scale != 1.0:
                step = self.instruments[order.symbol].quantity_step
                units = floor_to_step(units * order.scale, step)
            if units > 0:
                self._book(order, BUY if order.target > 0 else SELL, units, price, bar)
        if order.status is not OrderStatus.REJECTED:
            order.status = OrderStatus.FILLED
        order.filled = abs(self.ledger.quantity(order.symbol))

    def units(self, symbol: str, price: float) -> float:
        """What the sizing rule buys of ``symbol`` at ``price`` now (target orders)."""
        volatility, mean = self._stats(symbol) if self._size_needs_stats else (math.nan, math.nan)
        commission = self.config.commission
        multiplier = self.instruments[symbol].multiplier
        return self.config.sizing.units(
            price,
            self.ledger.cash,
            self.ledger.equity({**self._marks(), symbol: price}),
            self.instruments[symbol],
            commission_rate=self._rate,
            commission=lambda q: commission.cost(q, price, multiplier),
            volatility=volatility,
            mean_return=mean,
        )

    def _book(self, order: Order, side: Side, quantity: float, price: float, bar: int) -> bool:
        instrument = self.instruments[order.symbol]
        commission = self.config.commission.cost(quantity, price, instrument.multiplier)
        fill = Fill(order.symbol, side, quantity, price, commission)
        try:
            self.ledger.apply_fill(fill, instrument)
        except LedgerError as exc:
            self._finish(order, OrderStatus.REJECTED, str(exc))
            return False
        self.executions.append(
            Execution(order.id, order.symbol, side, quantity, price, commission, bar, order.tag)
        )
        return True

    def _after_fill(self, order: Order, bar: int) -> None:
        for child_id in order.children:
            child = self.orders[child_id]
            if child.status is OrderStatus.PENDING:
                child.quantity, child.created_at = order.filled, bar
                child.status = OrderStatus.OPEN
                self.active.append(child)
            elif child.active:
                child.quantity = order.filled
        if order.oco is not None and order.status is OrderStatus.FILLED:
            for other in self.active:
                if other.oco == order.oco and other.id != order.id and other.active:
                    other.status, other.reason = (
                        OrderStatus.CANCELLED,
                        f"OCO: order {order.id} filled",
                    )

    def _capped(self, order: Order, quantity: float, volume: float) -> float:
        cap = self.config.participation
        if cap is None or not math.isfinite(volume) or volume <= 0:
            return quantity
        step = self.instruments[order.symbol].quantity_step
        return min(quantity, floor_to_step(cap * volume, step))

    def _reducible(self, order: Order) -> float:
        held = self.ledger.quantity(order.symbol)
        closing = (held > 0 and order.side is SELL) or (held < 0 and order.side is BUY)
        return abs(held) if closing else 0.0

    def _finish(self, order: Order, status: OrderStatus, reason: str) -> None:
        order.status, order.reason = status, reason
        self._drop_children(order)

    def _drop_children(self, order: Order) -> None:
        """A bracket entry that ends unfilled takes its pending exits with it."""
        for child_id in order.children:
            child = self.orders[child_id]
            if child.status is OrderStatus.PENDING:
                child.status, child.reason = (
                    OrderStatus.CANCELLED,
                    f"entry {order.id} {order.status}",
                )


def _limit_price(buying: bool, limit: float, o: float, h: float, l: float) -> float | None:
    if buying:
        return min(o, limit) if l <= limit else None
    return max(o, limit) if h >= limit else None


def _check(order: Order | OrderIntent, instruments: dict[str, Instrument]) -> str:
    """Why an order cannot go to the book at all, "" when it can.

    Unknown instrument, bad quantity or prices: the one structural check of every order.
    """
    instrument = instruments.get(order.symbol)
    if instrument is None:
        return f"unknown instrument {order.symbol!r}"
    if order.quantity is not None and order.target is None:
        try:
            instrument.check_quantity(order.quantity)
        except ValueError as exc:
            return str(exc)
        if order.quantity < 0:
            return "quantity must be positive"
    needs_limit = order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT)
    needs_stop = order.type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for needed, value, label in (
        (needs_limit, order.limit_price, "limit"),
        (needs_stop, order.stop_price, "stop"),
    ):
        if needed and (value is None or not math.isfinite(value) or value <= 0):
            return f"a {order.type} order needs a positive {label} price"
    return ""
