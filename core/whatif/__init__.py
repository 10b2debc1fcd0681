"""What-if tools.

Monte Carlo futures, stress scenarios, spot × volatility stress of options, and the stress
use case on a stored portfolio (:class:`WhatIfService`, given the portfolios and the market).
"""

from core.whatif._montecarlo import (
    FAN_LEVELS,
    MonteCarloConfig,
    MonteCarloResult,
    fit_student_t_dof,
    monte_carlo_trades,
    run_monte_carlo,
    simulate_returns,
)
from core.whatif._service import WhatIfService
from core.whatif._spotvol import DEFAULT_SPOT_SHOCKS, DEFAULT_VOL_SHOCKS, spot_vol_grid
from core.whatif._stress import (
    STRESS_SCENARIOS,
    StressedPath,
    StressedPosition,
    StressResult,
    StressScenario,
    stress_equity,
    stress_portfolio,
    stress_returns,
)

__all__ = [
    "DEFAULT_SPOT_SHOCKS",
    "DEFAULT_VOL_SHOCKS",
    "FAN_LEVELS",
    "STRESS_SCENARIOS",
    "MonteCarloConfig",
    "MonteCarloResult",
    "StressResult",
    "StressScenario",
    "StressedPath",
    "StressedPosition",
    "WhatIfService",
    "fit_student_t_dof",
    "monte_carlo_trades",
    "run_monte_carlo",
    "simulate_returns",
    "spot_vol_grid",
    "stress_equity",
    "stress_portfolio",
    "stress_returns",
]
