"""Risk: measures, the drawdown controller, limits and pre-trade checks."""

from core.risk._drawdown import DrawdownController, DrawdownStatus, drawdown_series
from core.risk._limits import LIMIT_KEYS, RiskLimits, TradingState, TradingWindow
from core.risk._pretrade import (
    OrderIntent,
    PortfolioState,
    PreTradeReport,
    RuleResult,
    check_order,
)

__all__ = [
    "LIMIT_KEYS",
    "DrawdownController",
    "DrawdownStatus",
    "OrderIntent",
    "PortfolioState",
    "PreTradeReport",
    "RiskLimits",
    "RuleResult",
    "TradingState",
    "TradingWindow",
    "check_order",
    "drawdown_series",
]
