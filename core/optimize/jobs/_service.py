"""The jobs service the workstation exposes as ``ws.jobs``: submit, read, cancel, run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core._processes import poll_until
from core.backtest import BacktestService
from core.optimize.jobs._runner import WRITE_EVERY, JobRunner
from core.optimize.jobs._store import JobStatus, JobStore, OptimizationJob
from core.optimize.jobs._worker import start_worker


class JobService:
    """Optimisation jobs on one database: the store, the runner and the worker start.

    Parameters
    ----------
    sessions : sessionmaker
        The database's sessions (jobs live in ``optimization_jobs``).
    backtests : BacktestService
        What a job's search runs its backtests on.
    database_url : str
        The database's address, handed to a worker process and to Optuna.
    """

    def __init__(
        self, sessions: sessionmaker[Session], backtests: BacktestService, database_url: str
    ):
        self.store = JobStore(sessions)
        self.runner = JobRunner(self.store, backtests, database_url=database_url)
        self.database_url = database_url

    def submit(self, request: Mapping[str, Any]) -> str:
        """Store ``request`` (see :func:`~core.optimize.make_request`) as a queued job; its id."""
        return self.store.submit(request)

    def get(self, job_id: str) -> OptimizationJob | None:
        """A snapshot of job ``job_id`` (None when there is none)."""
        return self.store.get(job_id)

    def list(self, limit: int = 20) -> list[OptimizationJob]:
        """The newest ``limit`` jobs first, without their results."""
        return self.store.list(limit)

    def request_cancel(self, job_id: str) -> bool:
        """Ask the job's worker to stop; False when the job has finished."""
        return self.store.request_cancel(job_id)

    def run(self, job_id: str, *, write_every: float = WRITE_EVERY) -> JobStatus:
        """Run job ``job_id`` in this process (see :meth:`JobRunner.run`); its final state."""
        return self.runner.run(job_id, write_every=write_every)

    def start_worker(self, job_id: str, *, log_dir: Path | str | None = None) -> int:
        """Launch the worker process of job ``job_id`` on this database; its pid."""
        return start_worker(job_id, self.database_url, log_dir=log_dir)

    def wait_for_worker(
        self,
        job_id: str,
        *,
        timeout: float = 3.0,
        poll: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> JobStatus | None:
        """The job's status once its worker has taken it (no longer ``queued``).

        Still ``queued`` when ``timeout`` seconds passed first; None when there is no such
        job. Polls the job's row every ``poll`` seconds. Reads only.
        """
        job = poll_until(
            lambda: self.store.get(job_id),
            lambda job: job is None or job.status != JobStatus.QUEUED,
            timeout=timeout,
            poll=poll,
            sleep=sleep,
            clock=clock,
        )
        return None if job is None else job.status
