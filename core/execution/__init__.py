"""Simulated execution.

Orders, fills, costs and sizing, shared by backtests and paper trading (only the clock and the feed
differ).
"""

from core.execution._broker import SimulatedBroker
from core.execution._config import ExecutionConfig
from core.execution._costs import MAX_COMMISSION_RATE, CommissionModel, SlippageModel
from core.execution._orders import Execution, Order, OrderStatus, OrderType, TimeInForce
from core.execution._sizing import Sizing

__all__ = [
    "MAX_COMMISSION_RATE",
    "CommissionModel",
    "Execution",
    "ExecutionConfig",
    "Order",
    "OrderStatus",
    "OrderType",
    "SimulatedBroker",
    "Sizing",
    "SlippageModel",
    "TimeInForce",
]
