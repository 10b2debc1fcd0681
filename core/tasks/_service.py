"""Long work run by a worker process: a model's training, a schedule's run, a simulation.

A task is a row of ``tasks``: its kind, its request, its progress, a curve (a learning curve,
the information coefficient so far), the cancel flag and its outcome. A page submits a task
and starts its worker (``python -m core task-worker --task ID``, which owns the work and
writes to the database), then only reads snapshots and writes the cancel flag. What a kind
does is a *handler*, ``handler(request, ctx) -> result``, registered by the composition root
(``core/workstation.py``) with an optional ``validate`` that refuses a bad request before
anything is written.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core._json import plain
from core._processes import process_alive, spawn_core
from core.db import TaskRow
from core.errors import InvalidInputError, NotFoundError, WorkstationError, failure_message

WRITE_EVERY = 0.5
"""Seconds between progress writes (and between reads of the cancel flag)."""
CURVE_CAP = 500
"""Points a task's curve keeps (thinned by halves beyond it)."""


class Stopped(WorkstationError):
    """Raised by a handler that ends early because Cancel was requested."""


class TaskStatus(StrEnum):
    """Where a task is: queued, running, then done, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the task will not change again."""
        return self in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@dataclass(frozen=True)
class TaskSnapshot:
    """A task as read from the database at one moment."""

    id: str
    kind: str
    status: TaskStatus
    request: dict[str, Any]
    done: float
    total: float | None
    unit: str
    message: str
    curve: list[dict[str, Any]]
    result: dict[str, Any] | None
    error: str | None
    pid: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    cancel_requested: bool

    @property
    def finished(self) -> bool:
        """True once the task is done, failed or cancelled."""
        return self.status.finished

    @property
    def fraction(self) -> float | None:
        """Done over total in [0, 1] (1 when done), None while the total is unknown."""
        if self.status is TaskStatus.DONE:
            return 1.0
        if not self.total:
            return None
        return min(max(self.done / self.total, 0.0), 1.0)

    @property
    def progress_text(self) -> str:
        """What the task has done, e.g. ``3 of 10 folds · fold 3/10: tree 120/300``."""
        if self.status is TaskStatus.QUEUED:
            text = "queued"
        elif self.total:
            text = f"{_number(self.done)} of {_number(self.total)} {self.unit}".rstrip()
        elif self.done:
            text = f"{_number(self.done)} {self.unit}".rstrip()
        else:
            text = "starting"
        return f"{text} · {self.message}" if self.message else text


def _snapshot(row: TaskRow) -> TaskSnapshot:
    return TaskSnapshot(
        id=row.id,
        kind=row.kind,
        status=TaskStatus(row.status),
        request=dict(row.request or {}),
        done=float(row.done or 0.0),
        total=row.total,
        unit=row.unit or "",
        message=row.message or "",
        curve=list(row.curve or []),
        result=None if row.result is None else dict(row.result),
        error=row.error,
        pid=row.pid,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        cancel_requested=bool(row.cancel_requested),
    )


def _thin(points: list[Any], cap: int = CURVE_CAP) -> list[Any]:
    """Every other point until at most ``cap`` remain (the last one always kept)."""
    while len(points) > cap:
        points = points[:-1:2] + points[-1:]
    return points


class TaskContext:
    """What a handler reports through: progress, curve points and the cancel flag.

    Writes touch the database at most every ``every`` seconds (the last state is flushed when
    the handler returns); :meth:`should_stop` reads the flag as often.
    """

    def __init__(self, service: TaskService, task_id: str, every: float = WRITE_EVERY):
        self._service, self.task_id, self.every = service, task_id, every
        self.done, self.total, self.unit, self.message = 0.0, None, "", ""
        self.curve: list[dict[str, Any]] = []
        self._written = self._read = -math.inf
        self._stop = False
        self._dirty = False

    def progress(
        self, done: float, total: float | None = None, *, unit: str = "", message: str = ""
    ) -> None:
        """Report ``done`` of ``total`` ``unit`` (a total or unit given once is kept)."""
        self.done = float(done)
        if total is not None:
            self.total = float(total)
        if unit:
            self.unit = unit
        self.message = message
        self._dirty = True
        self._maybe_write()

    def point(self, **values: float) -> None:
        """Append one point (named values) to the task's curve."""
        self.curve.append(plain(values))
        if len(self.curve) > 2 * CURVE_CAP:
            self.curve = _thin(self.curve)
        self._dirty = True
        self._maybe_write()

    def should_stop(self) -> bool:
        """True once Cancel was requested for this task."""
        now = time.monotonic()
        if not self._stop and now - self._read >= self.every:
            self._read = now
            self._stop = self._service.cancel_requested(self.task_id)
        return self._stop

    def _maybe_write(self) -> None:
        now = time.monotonic()
        if now - self._written >= self.every:
            self.flush()

    def flush(self) -> None:
        """Write the current progress and curve now."""
        if not self._dirty:
            return
        self._written = time.monotonic()
        self._dirty = False
        self._service._update(
            self.task_id,
            done=self.done,
            total=self.total,
            unit=self.unit[:32],
            message=self.message,
            curve=_thin(list(self.curve)),
        )


TaskHandler = Callable[[dict[str, Any], TaskContext], Mapping[str, Any]]
Validator = Callable[[dict[str, Any]], Mapping[str, Any]]


class TaskService:
    """Tasks on one database: submit, start a worker, run, read, cancel.

    Parameters
    ----------
    sessions : sessionmaker
        The database's sessions (rows in ``tasks``).
    database_url : str
        The database's address, handed to a worker through its environment.
    env : mapping, optional
        More environment for a worker (the models directory, say).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        database_url: str,
        *,
        env: Mapping[str, str] | None = None,
    ):
        self.sessions, self.database_url = sessions, database_url
        self.env = dict(env or {})
        self._handlers: dict[str, tuple[TaskHandler, Validator | None]] = {}

    # -- kinds -----------------------------------------------------------------------------------
    def register(self, kind: str, handler: TaskHandler, *, validate: Validator | None = None):
        """Say what tasks of ``kind`` do (the composition root calls this)."""
        self._handlers[kind] = (handler, validate)

    @property
    def kinds(self) -> list[str]:
        """The registered kinds."""
        return sorted(self._handlers)

    def _handler(self, kind: str) -> tuple[TaskHandler, Validator | None]:
        try:
            return self._handlers[kind]
        except KeyError:
            known = ", ".join(self.kinds) or "none"
            raise InvalidInputError(
                f"unknown kind {kind!r} (known: {known})", field="kind", where="task"
            ) from None

    # -- writing ---------------------------------------------------------------------------------
    def submit(self, kind: str, request: Mapping[str, Any]) -> str:
        """Store a queued task of ``kind``; its id.

        Raises
        ------
        InvalidInputError
            When the kind is unknown or its validator refuses the request (nothing written).
        """
        _, validate = self._handler(kind)
        checked = dict(request)
        if validate is not None:
            checked = dict(validate(checked))
        now = _now()
        task_id = uuid.uuid4().hex[:16]
        with self.sessions.begin() as session:
            session.add(
                TaskRow(
                    id=task_id,
                    kind=kind,
                    status=TaskStatus.QUEUED.value,
                    request=plain(checked),
                    done=0.0,
                    unit="",
                    message="",
                    curve=[],
                    cancel_requested=False,
                    created_at=now,
                    updated_at=now,
                )
            )
        return task_id

    def start_worker(self, task_id: str, *, log_dir: Path | str | None = None) -> int:
        """Launch the worker process of ``task_id`` (detached); its pid."""
        log = None if log_dir is None else Path(log_dir) / f"task-{task_id}.log"
        pid = spawn_core(
            ["task-worker", "--task", task_id], log, database_url=self.database_url, env=self.env
        )
        self._update(task_id, pid=pid, only_unfinished=True)
        return pid

    def request_cancel(self, task_id: str) -> bool:
        """Ask the task to stop; a queued one is cancelled at once. False when finished."""
        with self.sessions.begin() as session:
            row = session.get(TaskRow, task_id)
            if row is None or TaskStatus(row.status).finished:
                return False
            row.cancel_requested = True
            row.updated_at = _now()
            if row.status == TaskStatus.QUEUED.value and row.pid is None:
                row.status = TaskStatus.CANCELLED.value
                row.finished_at = row.updated_at
                row.result = {"stopped": True}
            return True

    def run(self, task_id: str, *, every: float = WRITE_EVERY) -> TaskStatus:
        """Run ``task_id`` in this process and store its outcome (a failure as one line).

        Raises
        ------
        NotFoundError
            When there is no such task.
        """
        task = self.get(task_id, reap=False)
        if task is None:
            raise NotFoundError(f"no task {task_id!r}", field="task_id", where="task")
        if task.finished:
            return task.status
        if task.cancel_requested:
            self._finish(task_id, TaskStatus.CANCELLED, result={"stopped": True})
            return TaskStatus.CANCELLED
        self._update(task_id, status=TaskStatus.RUNNING.value, pid=os.getpid(), started_at=_now())
        ctx = TaskContext(self, task_id, every)
        try:
            handler, _ = self._handler(task.kind)
            result = dict(handler(dict(task.request), ctx))
        except Stopped:
            ctx.flush()
            self._finish(task_id, TaskStatus.CANCELLED, result={"stopped": True})
            return TaskStatus.CANCELLED
        except Exception as exc:  # the worker records every failure, as one line
            ctx.flush()
            self._finish(task_id, TaskStatus.FAILED, error=failure_message(exc))
            return TaskStatus.FAILED
        ctx.flush()
        stopped = bool(result.get("stopped"))
        status = TaskStatus.CANCELLED if stopped else TaskStatus.DONE
        self._finish(task_id, status, result=result)
        return status

    def _finish(self, task_id: str, status: TaskStatus, **values: Any) -> None:
        if "result" in values:
            values["result"] = plain(values["result"])
        self._update(task_id, status=status.value, finished_at=_now(), **values)

    def _update(self, task_id: str, *, only_unfinished: bool = False, **values: Any) -> None:
        query = update(TaskRow).where(TaskRow.id == task_id)
        if only_unfinished:
            done = [s.value for s in TaskStatus if s.finished]
            query = query.where(TaskRow.status.not_in(done))
        with self.sessions.begin() as session:
            session.execute(query.values(updated_at=_now(), **values))

    # -- reading ---------------------------------------------------------------------------------
    def cancel_requested(self, task_id: str) -> bool:
        """True once Cancel was requested for ``task_id``."""
        with self.sessions() as session:
            query = select(TaskRow.cancel_requested).where(TaskRow.id == task_id)
            return bool(session.scalar(query))

    def get(self, task_id: str, *, reap: bool = True) -> TaskSnapshot | None:
        """A snapshot of ``task_id`` (a task whose worker died reads as failed), or None."""
        with self.sessions() as session:
            row = session.get(TaskRow, task_id)
            task = None if row is None else _snapshot(row)
        if task is not None and reap and self._reap(task):
            return self.get(task_id, reap=False)
        return task

    def list(self, kind: str | None = None, limit: int = 20) -> list[TaskSnapshot]:
        """The newest ``limit`` tasks first (only ``kind``'s when given)."""
        query = select(TaskRow).order_by(TaskRow.created_at.desc()).limit(limit)
        if kind is not None:
            query = query.where(TaskRow.kind == kind)
        with self.sessions() as session:
            tasks = [_snapshot(row) for row in session.scalars(query)]
        if any([self._reap(t) for t in tasks]):
            return self.list(kind, limit)
        return tasks

    def _reap(self, task: TaskSnapshot) -> bool:
        """Mark an unfinished task whose worker process is gone as failed; True if changed."""
        if task.finished or task.pid is None or process_alive(task.pid):
            return False
        if task.pid == os.getpid():
            return False
        error = f"worker died: process {task.pid} is gone"
        with self.sessions.begin() as session:
            changed = session.execute(
                update(TaskRow)
                .where(
                    TaskRow.id == task.id,
                    TaskRow.status == task.status.value,
                    TaskRow.updated_at == task.updated_at,
                )
                .values(
                    status=TaskStatus.FAILED.value,
                    error=error,
                    finished_at=_now(),
                    updated_at=_now(),
                )
            ).rowcount
        return bool(changed)
