"""The job runner: what the worker process does with one stored job.

:class:`JobRunner` is given the collaborators a job reads (the job store, the backtest
service and the database address an Optuna study is kept beside) and runs a job: it reads
the request (:data:`~core.optimize.jobs.JobRequest`), runs the search, writes progress at
most every :data:`WRITE_EVERY` seconds, reads the cancel flag as often, and stores the
outcome, a failure included (as one line, never a traceback).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Protocol

from core.backtest import BacktestService
from core.errors import NotFoundError, failure_message
from core.optimize._allocation import optimize_allocation
from core.optimize._objective import Objective
from core.optimize._space import SearchSpace
from core.optimize._trials import SearchProgress
from core.optimize.jobs._requests import AllocationRequest, parse_request
from core.optimize.jobs._run import run_optimization, run_walk_forward
from core.optimize.jobs._storage import optuna_storage
from core.optimize.jobs._store import HISTORY_CAP, JobStatus, JobStore, _finite, _thin
from core.strategies import get_strategy

WRITE_EVERY = 0.5
"""Seconds between progress writes (and between reads of the cancel flag)."""


class JobRunner:
    """Runs stored jobs in this process.

    Parameters
    ----------
    store : JobStore
        Where the jobs are read and their progress and outcome written.
    backtests : BacktestService
        Loads the bars and runs the backtests a search evaluates.
    database_url : str, optional
        The database a Bayesian search keeps its Optuna study beside (none: in memory).
    """

    def __init__(
        self, store: JobStore, backtests: BacktestService, *, database_url: str | None = None
    ):
        self.store, self.backtests, self.database_url = store, backtests, database_url

    def run(self, job_id: str, *, write_every: float = WRITE_EVERY) -> JobStatus:
        """Run job ``job_id`` and store its outcome.

        Parameters
        ----------
        job_id : str
            The job's id (from :meth:`JobStore.submit`).
        write_every : float, default :data:`WRITE_EVERY`
            Seconds between progress writes and between reads of the cancel flag.

        Returns
        -------
        JobStatus
            The final state: done, cancelled or failed (a finished job keeps its own).

        Raises
        ------
        LookupError
            When there is no job ``job_id``.
        """
        store = self.store
        job = store.get(job_id)
        if job is None:
            raise NotFoundError(f"no optimisation job {job_id!r}", field="job_id")
        if job.finished:
            return job.status
        if job.cancel_requested:
            stopped = {"stopped": True, "best_params": None, "n_trials": 0}
            store.finish(job_id, stopped, cancelled=True)
            return JobStatus.CANCELLED
        store.start(job_id, os.getpid())
        reporter = _Reporter(store, job_id, write_every, planned=job.total)
        try:
            report, searched = self._search(job.request, reporter)
        except Exception as exc:  # the worker must record every failure
            store.fail(job_id, failure_message(exc))  # no pydantic dump, no internals
            return JobStatus.FAILED
        report["searched"] = searched
        report["total"] = reporter.total
        report["progress_done"] = max(reporter.done, int(report.get("n_trials") or 0))
        cancelled = bool(report.get("stopped"))
        store.finish(job_id, report, cancelled=cancelled)
        return JobStatus.CANCELLED if cancelled else JobStatus.DONE

    def _search(self, raw: dict[str, Any], reporter: _Reporter) -> tuple[dict[str, Any], list]:
        """The report of the search ``raw`` asks for, and the names it searched."""
        request = parse_request(raw)
        config = request.config
        ranges = {k: tuple(v) for k, v in request.ranges.items()}
        fixed = dict(request.fixed)
        space = SearchSpace.from_params(
            get_strategy(config.strategy).Params, overrides=ranges, fixed=fixed
        )
        options = {
            "method": request.method,
            "objective": Objective(
                metric=request.objective.metric, constraints=request.objective.constraints
            ),
            "trials": request.trials,
            "seed": request.seed,
            "should_stop": reporter.should_stop,
            "scheduler": request.scheduler,
        }
        if isinstance(request, AllocationRequest):
            spec = request.allocation
            report = optimize_allocation(
                self.backtests,
                config,
                list(spec.strategies),
                list(spec.symbols),
                train_fraction=spec.train_fraction,
                risk_aversion=spec.risk_aversion,
                diversification=spec.diversification,
                progress=reporter.progress,
                **options,
            )
            report["allocation"] = True
        elif request.walk_forward:
            windows = request.walk_forward
            report = run_walk_forward(
                self.backtests,
                config,
                train=windows.train,
                test=windows.test,
                anchored=windows.anchored,
                progress=reporter.windows,
                ranges=ranges,
                fixed=fixed,
                **options,
            )
            report["walk_forward"] = True
        else:
            storage = None
            if request.method == "bayes" and self.database_url:
                storage = optuna_storage(self.database_url)
            report = run_optimization(
                self.backtests,
                config,
                progress=reporter.progress,
                storage=storage,
                ranges=ranges,
                fixed=fixed,
                **options,
            )
        return report, list(space.names)


class Runs(Protocol):
    """Anything that runs a stored job (a :class:`JobRunner`, the workstation's ``jobs``)."""

    def run(self, job_id: str, *, write_every: float = WRITE_EVERY) -> JobStatus: ...


def run_job(jobs: Runs, job_id: str, *, write_every: float = WRITE_EVERY) -> JobStatus:
    """Run job ``job_id`` in this process and store its outcome.

    Parameters
    ----------
    jobs : JobRunner or JobService
        Runs the job (``ws.jobs`` on a workstation).
    job_id : str
        The job's id.
    write_every : float, default :data:`WRITE_EVERY`
        Seconds between progress writes and between reads of the cancel flag.

    Returns
    -------
    JobStatus
        The final state.
    """
    return jobs.run(job_id, write_every=write_every)


class _Reporter:
    """Progress and stop callbacks that touch the database at most every ``every`` s."""

    def __init__(self, store: JobStore, job_id: str, every: float, planned: int | None = None):
        self.store, self.job_id, self.every = store, job_id, every
        self.history: list[list] = []  # [done, best so far] pairs
        self.planned = planned  # the job's planned total (distinct points), when known
        self.total: int | None = planned
        self.done = 0
        self._written = self._read = -math.inf
        self._cancel = False

    def progress(self, p: SearchProgress) -> None:
        self.total = self.planned or p.total
        self.done = p.done
        self.history.append([p.done, _finite(p.best_score)])
        if len(self.history) > 2 * HISTORY_CAP:
            self.history = _thin(self.history)
        now = time.monotonic()
        if now - self._written >= self.every:
            self._written = now
            self.store.update_progress(
                self.job_id, p.done, self.total, p.best_score, p.best_params, self.history
            )

    def windows(self, done: int, total: int) -> None:
        """Walk-forward progress: windows done of ``total``."""
        self.progress(SearchProgress(done, total, math.nan, None))

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._cancel and now - self._read >= self.every:
            self._read = now
            self._cancel = self.store.cancel_requested(self.job_id)
        return self._cancel
