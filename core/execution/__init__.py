"""Simulated execution.

Orders, fills, costs and sizing, shared by backtests and paper trading (only the clock and the feed
differ).
"""

from core.execution._broker import OrderFilter, SimulatedBroker
from core.execution._config import ExecutionConfig, ExecutionConfigError, execution_config
from core.execution._costs import MAX_COMMISSION_RATE, CommissionModel, SlippageModel
from core.execution._orders import (
    Execution,
    Order,
    OrderIntent,
    OrderSource,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from core.execution._sizing import Sizing, floor_to_step

__all__ = [
    "MAX_COMMISSION_RATE",
    "CommissionModel",
    "Execution",
    "ExecutionConfig",
    "ExecutionConfigError",
    "Order",
    "OrderFilter",
    "OrderIntent",
    "OrderSource",
    "OrderStatus",
    "OrderType",
    "SimulatedBroker",
    "Sizing",
    "SlippageModel",
    "TimeInForce",
    "execution_config",
    "floor_to_step",
]
