"""One rebalance as recorded in a strategy's history or the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RebalanceRecord:
    """ts .

    When it was decided (the bar's close); bar : bar number (None outside a run) reasons : the
    triggers; drifts : symbol → weight − target before trading n_orders : orders placed; est_cost :
    their estimated cost, currency
    """

    ts: datetime | None
    bar: int | None
    reasons: list[str]
    drifts: dict[str, float]
    n_orders: int
    est_cost: float
    orders: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
