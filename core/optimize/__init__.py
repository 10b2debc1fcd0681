"""Optimisation lab: search spaces, objectives, searches, MCMC, walk-forward and overfitting.

Every module of the lab is pure: it holds no database session and starts no process; an
``evaluate(params) -> score | metrics`` callable is the only link to backtests
(:class:`BacktestEvaluator` builds one from a backtest config and the backtest service).

The job plumbing (requests, the job store, the runner, the worker process) lives in
:mod:`core.optimize.jobs`; its public names are re-exported here so callers keep importing
them from ``core.optimize``.
"""

from core.optimize._allocation import Allocation, allocation_weights, optimize_allocation
from core.optimize._backtest import BacktestEvaluator
from core.optimize._bayes import bayesian_search
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
from core.optimize._search import differential_evolution, grid_search, random_search
from core.optimize._space import Dimension, GridTooLarge, SearchSpace
from core.optimize._trials import SearchProgress, SearchResult, Trials
from core.optimize._walkforward import (
    WalkForwardResult,
    stitch,
    walk_forward,
    walk_forward_splits,
)
from core.optimize.jobs import (
    METHODS,
    JobRequest,
    JobService,
    JobStatus,
    JobStore,
    OptimizationJob,
    make_allocation_request,
    make_request,
    optuna_storage,
    parse_range,
    run_job,
    run_optimization,
    run_walk_forward,
    start_worker,
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
    "JobRequest",
    "JobService",
    "JobStatus",
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
