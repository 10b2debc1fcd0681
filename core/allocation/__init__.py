"""Portfolio allocation.

Equal weight, inverse volatility, minimum variance, mean-variance, maximum Sharpe, risk parity,
minimum CVaR and hierarchical risk parity, long-only with per-asset and group caps. Conventions and
formulations in ``docs/ALLOCATION.md``. :class:`AllocationService` reads closes from the market and
writes target weights to the portfolios.
"""

from core.allocation._allocate import (
    Moments,
    allocate,
    efficient_frontier,
    estimate,
    evaluate,
    solve,
)
from core.allocation._constraints import Bounds, bounds_for
from core.allocation._hrp import correlation_distance, hrp_weights, quasi_diagonal_order
from core.allocation._market import AllocationService, apply_to_portfolio, load_prices
from core.allocation._measures import (
    historical_cvar,
    portfolio_volatility,
    risk_contributions,
    sharpe_ratio,
)
from core.allocation._moments import (
    PERIODS_PER_YEAR,
    covariance,
    expected_returns,
    ledoit_wolf,
    returns_from_prices,
)
from core.allocation._spec import (
    METHODS,
    AllocationError,
    AllocationResult,
    AllocationSpec,
    FrontierPoint,
    GroupCap,
    Method,
)

__all__ = [
    "METHODS",
    "PERIODS_PER_YEAR",
    "AllocationError",
    "AllocationResult",
    "AllocationService",
    "AllocationSpec",
    "Bounds",
    "FrontierPoint",
    "GroupCap",
    "Method",
    "Moments",
    "allocate",
    "apply_to_portfolio",
    "bounds_for",
    "correlation_distance",
    "covariance",
    "efficient_frontier",
    "estimate",
    "evaluate",
    "expected_returns",
    "historical_cvar",
    "hrp_weights",
    "ledoit_wolf",
    "load_prices",
    "portfolio_volatility",
    "quasi_diagonal_order",
    "returns_from_prices",
    "risk_contributions",
    "sharpe_ratio",
    "solve",
]
