"""Executors: what happens to the orders a decision let through.

:class:`Executor` is the interface (a broker adapter can implement it later; none is in scope):
``execute(account, orders, ts, key)`` books the orders and returns one record per order.
:class:`DryRunExecutor` books nothing (the plan is logged); :class:`PaperExecutor` books each
order in the account's virtual portfolio through :meth:`core.portfolio.PortfolioService.trade`,
sales first, at the estimated price and commission, with a client order id derived from the
run, so a repeated run never books an order twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from core.rebalance import PlannedOrder

STRATEGY_TAG = "autopilot"


class Executor(Protocol):
    """Books (or not) a run's orders; ``mode`` names it in the log."""

    mode: str

    def execute(
        self, account: str, orders: Sequence[PlannedOrder], ts: datetime, key: str
    ) -> list[dict[str, Any]]:
        """One record per order: the order's fields, ``booked`` and ``fill_id``."""
        ...


class TradeBook(Protocol):
    """What paper execution books through (``PortfolioService`` fits)."""

    def trade(self, name: str, symbol: str, side: str, quantity: float, price, **options): ...


def order_id(key: str, order: PlannedOrder) -> str:
    """A client order id from the run's key and the order (≤ 60 characters)."""
    text = f"{key}|{order.symbol}|{order.side}|{order.quantity!r}"
    return "ap-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class DryRunExecutor:
    """Writes nothing: every order is recorded as planned, none is booked."""

    mode = "dry-run"

    def execute(
        self, account: str, orders: Sequence[PlannedOrder], ts: datetime, key: str
    ) -> list[dict[str, Any]]:
        """The orders, unbooked."""
        return [{**o.to_dict(), "booked": False, "fill_id": None} for o in orders]


class PaperExecutor:
    """Books the orders in the account's virtual portfolio (sales first)."""

    mode = "paper"

    def __init__(self, book: TradeBook):
        self._book = book

    def execute(
        self, account: str, orders: Sequence[PlannedOrder], ts: datetime, key: str
    ) -> list[dict[str, Any]]:
        """Book each order at its estimated price and commission, stamped ``ts``."""
        records = []
        for order in sorted(orders, key=lambda o: o.side != "sell"):
            result = self._book.trade(
                account,
                order.symbol,
                order.side,
                order.quantity,
                order.est_price,
                commission=order.commission,
                ts=ts,
                strategy=STRATEGY_TAG,
                client_order_id=order_id(key, order),
            )
            duplicate = bool(getattr(result, "duplicate", False))
            records.append({**order.to_dict(), "booked": not duplicate, "fill_id": result.fill_id})
        return records
