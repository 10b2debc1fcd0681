"""Which orders of a sleeve changed since the last event, queued as writes and audit events."""

from __future__ import annotations

from core.execution import Order, OrderStatus
from core.paper._journal import Journal
from core.paper._records import OrderState
from core.paper._sleeve import Sleeve

TERMINAL = {"filled", "cancelled", "expired", "rejected"}
_UNFILLED_END = (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


def _fingerprint(o: Order) -> tuple:
    return (o.status, o.filled, o.quantity, o.limit_price, o.stop_price)


def _order_type(o: Order) -> str:
    return o.type.value if o.target is None else f"target{o.target:+d}"


class OrderTracker:
    """Remembers each sleeve's live orders as last written.

    :meth:`track` queues a write (and the audit of a placement or an unfilled end) for every one
    that changed.
    """

    def __init__(self, session_id: int, journal: Journal):
        self.session_id, self.journal = session_id, journal

    def key(self, sleeve: Sleeve, order_id: int) -> str:
        """The order's id in the database: session:sleeve:broker id."""
        return f"{self.session_id}:{sleeve.key}:{order_id}"

    def baseline(self, sleeve: Sleeve) -> None:
        """From here on only orders that change are written (after a re-run)."""
        engine = sleeve.engine
        sleeve.last_order_id = engine.last_order_id
        sleeve.tracked = {o.id: _fingerprint(o) for o in engine.open_orders}

    def track(self, sleeve: Sleeve) -> None:
        engine = sleeve.engine
        orders = engine.orders
        for oid in range(sleeve.last_order_id + 1, engine.last_order_id + 1):
            sleeve.tracked[oid] = ()
        sleeve.last_order_id = engine.last_order_id
        for oid in list(sleeve.tracked):
            o = orders[oid]
            state = _fingerprint(o)
            previous = sleeve.tracked[oid]
            if state == previous:
                continue
            if _nothing_to_record(o, previous):
                del sleeve.tracked[oid]  # "go flat" when already flat: nothing to record
                continue
            self._queue(sleeve, oid, o, previous)
            if o.status.value in TERMINAL:
                del sleeve.tracked[oid]
            else:
                sleeve.tracked[oid] = state

    def _queue(self, sleeve: Sleeve, oid: int, o: Order, previous: tuple) -> None:
        key, pending = self.key(sleeve, oid), self.journal.pending
        if not previous or o.status in _UNFILLED_END:
            # the audit chain gets each order's placement and how it ended unfilled
            pending.audit.append(
                (
                    "order" if not previous else f"order_{o.status.value}",
                    {
                        "session": self.session_id,
                        "order": key,
                        "symbol": o.symbol,
                        "side": o.side.value,
                        "quantity": o.quantity,
                        "type": _order_type(o),
                        "status": o.status.value,
                        "reason": o.reason,
                        "tag": o.tag,
                    },
                )
            )
        quantity = o.quantity if o.quantity is not None else o.filled
        pending.orders[key] = OrderState(
            key,
            sleeve.key,
            o.symbol,
            o.side.value,
            float(quantity or 0.0),
            _order_type(o),
            o.limit_price,
            o.stop_price,
            o.tif.value,
            o.status.value,
            float(o.filled),
            self.journal.cursor.ts,
        )


def _nothing_to_record(o: Order, previous: tuple) -> bool:
    return (
        not previous
        and o.target is not None
        and o.status.value in TERMINAL
        and not o.filled
        and o.status is not OrderStatus.REJECTED
    )
