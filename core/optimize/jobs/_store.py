"""The job store: ``optimization_jobs`` rows, one short transaction per method.

A job is a request (plain JSON, :mod:`core.optimize.jobs._requests`) stored with its state
(:class:`JobStatus`), progress, best-so-far and finally its result. The page and the command
line submit jobs and read snapshots (:class:`OptimizationJob`); the worker
(:class:`~core.optimize.jobs.JobRunner`) writes progress and the outcome; Cancel writes a flag
the worker polls.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from core._json import plain
from core._processes import process_alive
from core.db import OptimizationJobRow
from core.optimize.jobs._progress import planned_total, progress_text


class JobStatus(StrEnum):
    """The state of a job, stored as its value (``"queued"``, ``"running"``, ...)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True for the states a job never leaves (done, failed, cancelled)."""
        return self in FINISHED


STATUSES = tuple(JobStatus)
FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})
HISTORY_CAP = 1000
"""At most this many best-so-far points are kept for the convergence plot."""
TOP_TRIALS = 50
SURFACE_CAP = 2500
STALE_AFTER = 600.0
"""A running job with no known pid and no write for this many seconds has lost its worker."""


@dataclass(frozen=True)
class OptimizationJob:
    """A snapshot of one job row."""

    id: str
    status: JobStatus
    request: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    done: int = 0
    total: int | None = None
    best_score: float | None = None
    best_params: dict[str, Any] | None = None
    history: list[Any] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_requested: bool = False
    pid: int | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def fraction(self) -> float:
        """Share done in ``[0, 1]`` (1 once finished, 0 when the total is unknown)."""
        if self.status == JobStatus.DONE:
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.done / self.total)

    @property
    def progress_text(self) -> str:
        """``"12 of 30 evaluations (40 %)"``: what ``done`` and ``total`` count, in words."""
        return progress_text(self.done, self.total, self.request)

    @property
    def strategy(self) -> str:
        return self.request.get("config", {}).get("strategy", "")

    @property
    def method(self) -> str:
        if self.request.get("allocation"):
            return "allocation"
        if self.request.get("walk_forward"):
            return f"walk-forward {self.request.get('method', '')}"
        return self.request.get("method", "")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class JobStore:
    """Reads and writes ``optimization_jobs`` rows; every method is one short transaction."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def submit(self, request: Mapping[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        now = _now()
        with self.sessions.begin() as session:
            session.add(
                OptimizationJobRow(
                    id=job_id,
                    created_at=now,
                    updated_at=now,
                    status=JobStatus.QUEUED.value,
                    request=plain(dict(request)),
                    progress_done=0,
                    progress_total=planned_total(request),
                    history=[],
                    cancel_requested=False,
                )
            )
        return job_id

    def get(self, job_id: str) -> OptimizationJob | None:
        """A snapshot of the job; an unfinished job whose worker died is marked failed."""
        with self.sessions() as session:
            row = session.get(OptimizationJobRow, job_id)
            job = None if row is None else _snapshot(row)
        if job is not None and self.reap(job):
            return self.get(job_id)
        return job

    def list(self, limit: int = 20) -> list[OptimizationJob]:
        """The newest jobs first (without their results, to keep the list light)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(OptimizationJobRow)
                .order_by(OptimizationJobRow.created_at.desc())
                .limit(limit)
            ).all()
            jobs = [_snapshot(r, light=True) for r in rows]
        if any([self.reap(j) for j in jobs]):
            return self.list(limit)
        return jobs

    def reap(self, job: OptimizationJob, *, stale_after: float = STALE_AFTER) -> bool:
        """Mark ``job`` failed ("worker died") when it is unfinished and its worker is gone.

        Gone: the process ``pid`` no longer runs, or (no pid known) it has been running without a
        word for ``stale_after`` seconds. True when the row was changed.

        The change only applies if the row is still as read (a worker that finished in
        between keeps its outcome).
        """
        if job.finished:
            return False
        if job.pid is not None:
            if process_alive(job.pid):
                return False
            error = f"worker died: process {job.pid} is gone"
        else:
            age = (_now() - job.updated_at).total_seconds()
            if job.status != JobStatus.RUNNING or age < stale_after:
                return False
            error = f"worker died: no progress for {age:.0f} s"
        with self.sessions.begin() as session:
            changed = session.execute(
                update(OptimizationJobRow)
                .where(
                    OptimizationJobRow.id == job.id,
                    OptimizationJobRow.status == job.status,
                    OptimizationJobRow.updated_at == job.updated_at,
                )
                .values(status=JobStatus.FAILED.value, error=error, updated_at=_now())
            ).rowcount
        return bool(changed)

    def request_cancel(self, job_id: str) -> bool:
        """Ask the worker to stop; a queued job is cancelled at once. False when finished."""
        with self.sessions.begin() as session:
            row = session.get(OptimizationJobRow, job_id)
            if row is None or row.status in FINISHED:
                return False
            row.cancel_requested = True
            row.updated_at = _now()
            return True

    def cancel_requested(self, job_id: str) -> bool:
        with self.sessions() as session:
            return bool(
                session.scalar(
                    select(OptimizationJobRow.cancel_requested).where(
                        OptimizationJobRow.id == job_id
                    )
                )
            )

    def start(self, job_id: str, pid: int | None = None) -> None:
        self._update(job_id, status=JobStatus.RUNNING.value, pid=pid)

    def set_pid(self, job_id: str, pid: int) -> None:
        self._update(job_id, pid=pid)

    def update_progress(
        self,
        job_id: str,
        done: int,
        total: int | None,
        best_score: float | None,
        best_params: dict[str, Any] | None,
        history: list[Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "progress_done": int(done),
            "progress_total": None if total is None else int(total),
            "best_score": _finite(best_score),
            "best_params": plain(best_params),
        }
        if history is not None:
            values["history"] = plain(_thin(list(history)))
        self._update(job_id, **values)

    def finish(self, job_id: str, report: Mapping[str, Any], *, cancelled: bool = False) -> None:
        """Store a report of :func:`run_optimization` (``trials``/``history`` frames allowed)."""
        report = dict(report)
        trials = report.pop("trials", None)
        history = report.pop("history", None)
        stored = plain(report)
        if isinstance(trials, pd.DataFrame) and not trials.empty:
            ranked = trials.sort_values("score", ascending=False, kind="stable")
            stored["top_trials"] = plain(ranked.head(TOP_TRIALS).to_dict("records"))
            stored["n_rows"] = len(trials)
        values: dict[str, Any] = {
            "status": (JobStatus.CANCELLED if cancelled else JobStatus.DONE).value,
            "result": stored,
            "best_score": _finite(report.get("best_score")),
            "best_params": plain(report.get("best_params")),
        }
        if isinstance(history, pd.DataFrame) and len(history):
            trial = history["trial"].to_numpy(int) + 1 if "trial" in history else None
            if trial is None:
                trial = range(1, len(history) + 1)
            values["history"] = plain(
                _thin(
                    [
                        [int(t), _finite(b)]
                        for t, b in zip(trial, history["best_score"], strict=True)
                    ]
                )
            )
        done = report.get("progress_done", report.get("n_trials"))
        if done is not None:
            values["progress_done"] = int(done)
            if not cancelled:  # all the planned work is done: done is the true total
                values["progress_total"] = int(done)
        if trials is not None and report.get("method") == "grid":
            surface = _surface(trials, stored.get("searched", []))
            if surface is not None:
                stored["surface"] = surface
        self._update(job_id, **values)

    def fail(self, job_id: str, error: str) -> None:
        self._update(job_id, status=JobStatus.FAILED.value, error=error)

    def _update(self, job_id: str, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(OptimizationJobRow)
                .where(OptimizationJobRow.id == job_id)
                .values(updated_at=_now(), **values)
            )


# -- helpers -----------------------------------------------------------------------------------
def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _thin(values: list[Any], cap: int = HISTORY_CAP) -> list[Any]:
    """At most ``cap`` of ``values``, evenly spaced, the first and the last kept."""
    if len(values) <= cap:
        return values
    keep = np.unique(np.linspace(0, len(values) - 1, cap).round().astype(int))
    return [values[i] for i in keep]


def _surface(trials: pd.DataFrame, searched: list[str]) -> dict[str, Any] | None:
    """For a two-parameter grid: the score of every point, for a heatmap."""
    if len(searched) != 2 or len(trials) > SURFACE_CAP:
        return None
    x, y = searched
    rows = trials[trials["feasible"].astype(bool)] if "feasible" in trials else trials
    return {
        "x": x,
        "y": y,
        "points": [[plain(a), plain(b), _finite(s)] for a, b, s in rows[[x, y, "score"]].values],
    }


def _snapshot(row: OptimizationJobRow, *, light: bool = False) -> OptimizationJob:
    return OptimizationJob(
        id=row.id,
        status=JobStatus(row.status),
        request=dict(row.request or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        done=row.progress_done or 0,
        total=row.progress_total,
        best_score=row.best_score,
        best_params=None if row.best_params is None else dict(row.best_params),
        history=[] if light else list(row.history or []),
        result=None if light or row.result is None else dict(row.result),
        error=row.error,
        cancel_requested=bool(row.cancel_requested),
        pid=row.pid,
    )
