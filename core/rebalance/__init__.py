"""Rebalancing: when to trade back to target weights, and which orders at what cost."""

from core.rebalance._history import RebalanceRecord
from core.rebalance._orders import OrderPlan, PlannedOrder, floor_step, rebalance_orders
from core.rebalance._policy import (
    Decision,
    RebalancePolicy,
    check_rebalance,
    drifts,
    scaled_targets,
)

__all__ = [
    "Decision",
    "OrderPlan",
    "PlannedOrder",
    "RebalancePolicy",
    "RebalanceRecord",
    "check_rebalance",
    "drifts",
    "floor_step",
    "rebalance_orders",
    "scaled_targets",
]
