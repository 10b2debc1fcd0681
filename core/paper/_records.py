"""What a paper worker produces between commits: order states, fills, the pending batch.

Plain records shared by the worker's parts and the session writer (core/paper/_store.py),
and the clock helpers they stamp them with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def naive(ts) -> datetime:
    return pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)


@dataclass
class OrderState:
    """An order as the database knows it (``key`` = session:sleeve:broker id)."""

    key: str
    sleeve: str
    symbol: str
    side: str
    quantity: float
    order_type: str
    limit_price: float | None
    stop_price: float | None
    tif: str
    status: str
    filled: float
    ts: datetime


@dataclass
class FillRecord:
    fill_id: str
    order_key: str
    sleeve: str
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float
    realized: float
    ts: datetime
    seq: int

    def audit_payload(self) -> dict:
        """The fill as its audit event records it (JSON-native)."""
        return {
            "fill_id": self.fill_id,
            "strategy": self.sleeve,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "price": self.price,
            "commission": self.commission,
            "ts": self.ts.isoformat(),
        }


@dataclass
class Pending:
    """What the worker has produced since its last commit."""

    bars: list[dict] = field(default_factory=list)
    equity: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    orders: dict[str, OrderState] = field(default_factory=dict)
    fills: list[FillRecord] = field(default_factory=list)
    audit: list[tuple[str, dict]] = field(default_factory=list)
    commands: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, status, msg

    def __bool__(self) -> bool:
        return bool(
            self.bars or self.equity or self.alerts or self.orders or self.fills or self.commands
        )
