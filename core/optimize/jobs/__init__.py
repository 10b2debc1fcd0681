"""Optimisation jobs: the plumbing around the lab.

A job is a typed request (:data:`JobRequest`, stored as plain JSON) in the
``optimization_jobs`` table (:class:`JobStore`), run by a separate worker process
(:func:`start_worker`, ``python -m core optimize-worker --job ID``) through a
:class:`JobRunner`, which is handed the store and the backtest service. The workstation wires
them as ``ws.jobs`` (:class:`JobService`). :func:`run_optimization` and
:func:`run_walk_forward` are one search end to end on the backtest service.
"""

from core.optimize.jobs._requests import (
    AllocationRequest,
    BayesRequest,
    DERequest,
    GridRequest,
    InvalidRequest,
    JobRequest,
    MCMCRequest,
    RandomRequest,
    make_allocation_request,
    make_request,
    parse_request,
)
from core.optimize.jobs._run import METHODS, parse_range, run_optimization, run_walk_forward
from core.optimize.jobs._runner import WRITE_EVERY, JobRunner, run_job
from core.optimize.jobs._service import JobService
from core.optimize.jobs._storage import optuna_storage
from core.optimize.jobs._store import FINISHED, JobStatus, JobStore, OptimizationJob
from core.optimize.jobs._worker import start_worker

__all__ = [
    "FINISHED",
    "METHODS",
    "WRITE_EVERY",
    "AllocationRequest",
    "BayesRequest",
    "DERequest",
    "GridRequest",
    "InvalidRequest",
    "JobRequest",
    "JobRunner",
    "JobService",
    "JobStatus",
    "JobStore",
    "MCMCRequest",
    "OptimizationJob",
    "RandomRequest",
    "make_allocation_request",
    "make_request",
    "optuna_storage",
    "parse_range",
    "parse_request",
    "run_job",
    "run_optimization",
    "run_walk_forward",
    "start_worker",
]
