"""What-if tools of the backtest lab: Monte Carlo futures and stress scenarios."""

from core.whatif._montecarlo import (
    FAN_LEVELS,
    MonteCarloConfig,
    MonteCarloResult,
    fit_student_t_dof,
    monte_carlo_trades,
    run_monte_carlo,
    simulate_returns,
)
from core.whatif._stress import (
    STRESS_SCENARIOS,
    StressedPath,
    StressScenario,
    stress_equity,
    stress_portfolio,
    stress_returns,
)

__all__ = [
    "FAN_LEVELS",
    "STRESS_SCENARIOS",
    "MonteCarloConfig",
    "MonteCarloResult",
    "StressScenario",
    "StressedPath",
    "fit_student_t_dof",
    "monte_carlo_trades",
    "run_monte_carlo",
    "simulate_returns",
    "stress_equity",
    "stress_portfolio",
    "stress_returns",
]
