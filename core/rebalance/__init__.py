"""Rebalancing.

When to trade back to target weights, which orders at what cost, and the :class:`RebalanceService`
that plans, books and lists a stored portfolio's rebalances.
"""

from core.rebalance._history import RebalanceRecord
from core.rebalance._orders import OrderPlan, PlannedOrder, floor_step, rebalance_orders
from core.rebalance._policy import (
    Decision,
    RebalancePolicy,
    check_rebalance,
    drifts,
    scaled_targets,
)
from core.rebalance._portfolio import (
    PortfolioPlan,
    RebalanceExecution,
    RebalanceService,
    execute_plan,
    plan_portfolio_rebalance,
    rebalance_history,
)

__all__ = [
    "Decision",
    "OrderPlan",
    "PlannedOrder",
    "PortfolioPlan",
    "RebalanceExecution",
    "RebalancePolicy",
    "RebalanceRecord",
    "RebalanceService",
    "check_rebalance",
    "drifts",
    "execute_plan",
    "floor_step",
    "plan_portfolio_rebalance",
    "rebalance_history",
    "rebalance_orders",
    "scaled_targets",
]
