"""Risk.

Measures, the drawdown controller, limits, pre-trade checks, and the :class:`RiskService` (a stored
portfolio's state and report, given portfolios, market, sessions and the stress use case).
"""

from core.risk._drawdown import DrawdownController, DrawdownStatus, drawdown_series
from core.risk._errors import RiskConflict, RiskError, RiskInputError, RiskNotFound
from core.risk._limits import LIMIT_KEYS, RiskLimits, TradingState, TradingWindow
from core.risk._measures import (
    METHODS,
    atr,
    atr_stop_distance,
    beta_correlation,
    empirical_var_cvar,
    historical_var_cvar,
    kelly_continuous,
    kelly_discrete,
    monte_carlo_var_cvar,
    normal_var_cvar,
    risk_contributions,
    student_t_var_cvar,
    var_cvar,
    volatility,
    volatility_stop_distance,
)
from core.risk._pretrade import (
    OrderIntent,
    PortfolioState,
    PreTradeReport,
    RuleResult,
    check_order,
)
from core.risk._report import RiskReport, portfolio_risk, portfolio_state
from core.risk._service import RiskService
from core.risk._store import (
    load_limits,
    load_trading_state,
    parse_limit_updates,
    record_check,
    save_limits,
    set_trading_state,
)
from core.risk._ticket import OrderBlocked, check_manual_order, checked_trade
from core.risk._usage import limit_usage

__all__ = [
    "LIMIT_KEYS",
    "METHODS",
    "DrawdownController",
    "DrawdownStatus",
    "OrderBlocked",
    "OrderIntent",
    "PortfolioState",
    "PreTradeReport",
    "RiskConflict",
    "RiskError",
    "RiskInputError",
    "RiskLimits",
    "RiskNotFound",
    "RiskReport",
    "RiskService",
    "RuleResult",
    "TradingState",
    "TradingWindow",
    "atr",
    "atr_stop_distance",
    "beta_correlation",
    "check_manual_order",
    "check_order",
    "checked_trade",
    "drawdown_series",
    "empirical_var_cvar",
    "historical_var_cvar",
    "kelly_continuous",
    "kelly_discrete",
    "limit_usage",
    "load_limits",
    "load_trading_state",
    "monte_carlo_var_cvar",
    "normal_var_cvar",
    "parse_limit_updates",
    "portfolio_risk",
    "portfolio_state",
    "record_check",
    "risk_contributions",
    "save_limits",
    "set_trading_state",
    "student_t_var_cvar",
    "var_cvar",
    "volatility",
    "volatility_stop_distance",
]
