"""Optimisation lab: search spaces, objectives, searches, MCMC, walk-forward and overfitting.

Everything here is pure: an ``evaluate(params) -> score | metrics`` callable is the only
link to backtests (:class:`BacktestEvaluator` builds one from a backtest config).
"""

from core.optimize._allocation import Allocation, allocation_weights, optimize_allocation
from core.optimize._backtest import BacktestEvaluator
from core.optimize._bayes import bayesian_search, optuna_storage
from core.optimize._diagnostics import rank_normalized_split_rhat, split_rhat
from core.optimize._executor import DaskExecutor, Executor, ProcessExecutor, make_executor
from core.optimize._information import (
    candidate_features,
    entropy,
    forward_returns,
    mutual_information,
    normalized_mutual_information,
    parameter_relevance,
    rank_features,
)
from core.optimize._job import METHODS, parse_range, run_optimization, run_walk_forward
from core.optimize._jobs import JobStore, OptimizationJob, run_job, start_worker
from core.optimize._mcmc import MCMCResult, metropolis_hastings
from core.optimize._objective import Objective
from core.optimize._overfitting import (
    DeflatedSharpe,
    PBOResult,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from core.optimize._posterior import Plateau, posterior_cells
from core.optimize._requests import make_allocation_request, make_request
from core.optimize._search import differential_evolution, grid_search, random_search
from core.optimize._space import Dimension, GridTooLarge, SearchSpace
from core.optimize._trials import SearchProgress, SearchResult, Trials
from core.optimize._walkforward import (
    WalkForwardResult,
    stitch,
    walk_forward,
    walk_forward_splits,
)

__all__ = [
    "METHODS",
    "Allocation",
    "BacktestEvaluator",
    "DaskExecutor",
    "DeflatedSharpe",
    "Dimension",
    "Executor",
    "GridTooLarge",
    "JobStore",
    "MCMCResult",
    "Objective",
    "OptimizationJob",
    "PBOResult",
    "Plateau",
    "ProcessExecutor",
    "SearchProgress",
    "SearchResult",
    "SearchSpace",
    "Trials",
    "WalkForwardResult",
    "allocation_weights",
    "bayesian_search",
    "candidate_features",
    "deflated_sharpe",
    "deflated_sharpe_ratio",
    "differential_evolution",
    "entropy",
    "expected_max_sharpe",
    "forward_returns",
    "grid_search",
    "make_allocation_request",
    "make_executor",
    "make_request",
    "metropolis_hastings",
    "mutual_information",
    "normalized_mutual_information",
    "optimize_allocation",
    "optuna_storage",
    "parameter_relevance",
    "parse_range",
    "posterior_cells",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "random_search",
    "rank_features",
    "rank_normalized_split_rhat",
    "run_job",
    "run_optimization",
    "run_walk_forward",
    "split_rhat",
    "start_worker",
    "stitch",
    "walk_forward",
    "walk_forward_splits",
]
