"""Orders as plain dataclasses (they live in hot loops), and the intents they are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.portfolio import Side


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT = "take_profit"  # a limit order that only reduces a position


class TimeInForce(StrEnum):
    DAY = "day"  # expires after the first bar on which it could fill
    GTC = "gtc"


class OrderStatus(StrEnum):
    PENDING = "pending"  # a bracket child waiting for its entry to fill
    OPEN = "open"
    PARTIAL = "partial"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"


@dataclass(slots=True)
class Order:
    """An instruction to the simulated broker.

    ``quantity`` None means "size it at the fill with the sizer" (the strategy said
    which direction, the sizing rule says how much). ``oco`` links orders of which the
    first to fill cancels the others (a bracket's stop-loss and take-profit).
    """

    id: int
    symbol: str
    side: Side
    quantity: float | None
    target: int | None = None  # −1, 0, +1: size at the fill to be short, flat or long
    scale: float = 1.0  # share of the sizing rule's quantity a target order takes
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    created_at: int = 0  # bar index
    status: OrderStatus = OrderStatus.OPEN
    filled: float = 0.0
    parent: int | None = None
    oco: int | None = None
    triggered: bool = False  # a stop-limit whose stop has been touched
    reason: str = ""
    tag: str = ""
    children: list[int] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in (OrderStatus.OPEN, OrderStatus.PARTIAL)

    @property
    def remaining(self) -> float | None:
        return None if self.quantity is None else self.quantity - self.filled


class OrderSource(StrEnum):
    STRATEGY = "strategy"  # placed by a strategy through its context
    MANUAL = "manual"  # placed by a user (a paper session's order command)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy or a user asks the broker for, before it is an order.

    The one input of the order filter (:attr:`SimulatedBroker.order_filter`, the risk gate)
    and of :meth:`SimulatedBroker.place`: the broker checks it against the instrument once,
    the filter may scale it down or refuse it, and only then is it an :class:`Order`.
    ``strategy`` names the strategy (a paper session's sleeve key; "" in a backtest).
    """

    symbol: str
    side: Side
    quantity: float | None
    target: int | None = None
    scale: float = 1.0
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    tag: str = ""
    strategy: str = ""
    source: OrderSource = OrderSource.STRATEGY
    parent: int | None = None  # a bracket's exit: pending until its entry fills
    oco: int | None = None

    @classmethod
    def of(cls, order: Order, strategy: str = "") -> OrderIntent:
        """The intent an existing order stands for (orders built by hand)."""
        return cls(
            order.symbol,
            order.side,
            order.quantity,
            order.target,
            order.scale,
            order.type,
            order.limit_price,
            order.stop_price,
            order.tif,
            order.tag,
            strategy,
            OrderSource.MANUAL if order.tag == "manual" else OrderSource.STRATEGY,
            order.parent,
            order.oco,
        )

    def order(self, created_at: int) -> Order:
        """A new order for this intent, placed on bar ``created_at`` (its id comes later)."""
        return Order(
            0,
            self.symbol,
            self.side,
            self.quantity,
            target=self.target,
            scale=self.scale,
            type=self.type,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            tif=self.tif,
            created_at=created_at,
            status=OrderStatus.OPEN if self.parent is None else OrderStatus.PENDING,
            parent=self.parent,
            oco=self.oco,
            tag=self.tag,
        )


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill produced by the broker."""

    order_id: int
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    bar: int
    tag: str = ""
