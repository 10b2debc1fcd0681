"""The autopilot on a schedule: an APScheduler cron worker with a status row and a stop flag.

``python -m core autopilot schedule --account A --cron "30 16 * * 1-5"`` runs
:meth:`ScheduleWorker.serve`: an APScheduler scheduler with one
:class:`~apscheduler.triggers.cron.CronTrigger` job (``coalesce=True``, a misfire grace of
six hours, one instance at a time), while the process's main thread writes the status row
(pid, heartbeat, next run) every ``poll`` seconds and shuts the scheduler down once the row's
``stop_requested`` flag is set (the page's Stop button sets it). A ``BackgroundScheduler``
rather than a ``BlockingScheduler``: APScheduler 3's shutdown must come from the thread that
started it, which a blocking scheduler leaves only to its own jobs (a shutdown from a job
thread hung in testing).

Missed runs: the time of the last run is kept in the status row. On start, the slots the
cron had between that time and now are counted (:func:`missed_slots`); if there are any, the
loop runs **once** (caught up, not once per missed slot). Within a running worker a late job
is coalesced by APScheduler the same way. Each run is idempotent per account and date, so a
catch-up on a day already settled books nothing.

Cron fields are standard crontab (``minute hour day month day-of-week``, Sunday = 0 or 7);
:func:`cron_trigger` translates the day-of-week field, which APScheduler 3 numbers from
Monday = 0, into day names.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from core._processes import process_alive
from core.autopilot import _store as store
from core.db import AutopilotScheduleRow
from core.errors import ConflictError, InvalidInputError, WorkstationError, failure_message

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
GRACE = timedelta(hours=6)
STALE_HEARTBEAT = timedelta(seconds=30)
_NUMBER = re.compile(r"\d+")


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (``America/New_York``), refused when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"timezone: unknown time zone {name!r}", "timezone") from None


def cron_trigger(expr: str, timezone: str = "America/New_York") -> CronTrigger:
    """A trigger for a standard 5-field crontab line in ``timezone``.

    Day-of-week numbers (0–7, Sunday = 0 or 7) become APScheduler's day names, so
    ``"30 16 * * 1-5"`` fires Monday to Friday at 16:30.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidInputError(
            f"cron: expected 5 fields (minute hour day month weekday), got {expr!r}", "cron"
        )
    fields[4] = _NUMBER.sub(lambda m: _day(m.group(), expr), fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone(timezone))
    except ValueError as exc:
        raise InvalidInputError(f"cron: {expr!r}: {exc}", "cron") from None


def _day(number: str, expr: str) -> str:
    value = int(number)
    if value > 7:
        raise InvalidInputError(f"cron: day of week {value} in {expr!r} is not 0-7", "cron")
    return DAY_NAMES[value]


def missed_slots(
    trigger: CronTrigger, last_run: datetime | None, now: datetime, limit: int = 10_000
) -> list[datetime]:
    """The trigger's fire times after ``last_run`` and at or before ``now`` (aware, UTC)."""
    if last_run is None:
        return []
    slots: list[datetime] = []
    tick = timedelta(microseconds=1)
    fire = trigger.get_next_fire_time(None, _aware(last_run) + tick)
    while fire is not None and fire <= _aware(now) and len(slots) < limit:
        slots.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + tick)
    return slots


class ScheduleStore:
    """The ``autopilot_schedules`` status rows."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self._sessions = sessions
        self._clock = clock  # aware UTC now

    def register(self, account: str, mode: str, cron: str, timezone: str, pid: int) -> None:
        """Mark the account's worker running (refused while another live worker runs)."""
        now = _naive(self._clock())
        with self._sessions.begin() as session:
            row = store.schedule_row(session, account)
            if row is not None and row.status == "running" and row.pid != pid and _live(row, now):
                raise ConflictError(
                    f"schedule: {account!r} already has a running worker (pid {row.pid})",
                    "account",
                )
            if row is None:
                row = AutopilotScheduleRow(account=account, stop_requested=False)
                session.add(row)
            row.mode, row.cron, row.timezone, row.status = mode, cron, timezone, "running"
            row.pid, row.heartbeat, row.stop_requested, row.error = pid, now, False, None
            row.updated_at = now

    def beat(self, account: str, next_run: datetime | None) -> bool:
        """Write the heartbeat and next run; whether a stop was requested."""
        now = _naive(self._clock())
        with self._sessions.begin() as session:
            row = store.schedule_row(session, account)
            if row is None:
                return True
            row.heartbeat, row.updated_at = now, now
            row.next_run = None if next_run is None else _naive(next_run)
            return bool(row.stop_requested)

    def last_run(self, account: str) -> datetime | None:
        """When the account's schedule last ran the loop (aware UTC), or None."""
        with self._sessions() as session:
            row = store.schedule_row(session, account)
            return None if row is None or row.last_run is None else _aware(row.last_run)

    def record_run(self, account: str, when: datetime, status: str) -> None:
        """Keep the time and outcome of a run."""
        with self._sessions.begin() as session:
            row = store.schedule_row(session, account)
            if row is not None:
                row.last_run, row.last_status = _naive(when), status
                row.updated_at = _naive(self._clock())

    def finish(self, account: str, status: str, error: str | None = None) -> None:
        """The worker ended (``stopped`` or ``failed``)."""
        with self._sessions.begin() as session:
            row = store.schedule_row(session, account)
            if row is not None:
                row.status, row.error, row.next_run = status, error, None
                row.updated_at = _naive(self._clock())

    def request_stop(self, account: str) -> bool:
        """Ask the account's worker to stop; whether one was running."""
        with self._sessions.begin() as session:
            row = store.schedule_row(session, account)
            if row is None or row.status != "running":
                return False
            row.stop_requested = True
            return True

    def status(self, account: str) -> dict[str, Any] | None:
        """The status row, with ``alive`` (a fresh heartbeat from a live pid)."""
        with self._sessions() as session:
            row = store.schedule_row(session, account)
            info = store.schedule_dict(row)
            if info is not None:
                info["alive"] = row.status == "running" and _live(row, _naive(self._clock()))
            return info


def _live(row: AutopilotScheduleRow, now: datetime) -> bool:
    """A heartbeat within :data:`STALE_HEARTBEAT` from a pid that still runs here."""
    fresh = row.heartbeat is not None and now - row.heartbeat <= STALE_HEARTBEAT
    return fresh and (row.pid is None or process_alive(row.pid))


class ScheduleWorker:
    """Runs ``run_once`` on a cron schedule (see the module doc)."""

    def __init__(
        self,
        schedules: ScheduleStore,
        run_once: Callable[[], dict[str, Any]],
        *,
        account: str,
        mode: str,
        cron: str,
        timezone: str = "America/New_York",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll: float = 2.0,
    ):
        self.trigger = cron_trigger(cron, timezone)
        self._schedules, self._run_once = schedules, run_once
        self.account, self.mode, self.cron, self.timezone = account, mode, cron, timezone
        self._clock, self._poll = clock, poll

    def catch_up(self) -> dict[str, Any] | None:
        """Run once if the cron had slots since the last run (None when none was missed)."""
        missed = missed_slots(self.trigger, self._schedules.last_run(self.account), self._clock())
        return self.fire() if missed else None

    def fire(self) -> dict[str, Any]:
        """Run the loop now and record when and how it went (a refusal is recorded, kept)."""
        when = self._clock()
        try:
            result = self._run_once()
            status = f"{result.get('status')} ({result.get('as_of')})"
        except WorkstationError as exc:
            result, status = {"status": "failed", "error": str(exc)}, f"failed: {exc}"
        self._schedules.record_run(self.account, when, status)
        return result

    def serve(self) -> None:
        """Register, catch up, then run the schedule until a stop is requested.

        The scheduler runs the cron job in its own thread; this (main) thread writes the
        heartbeat every ``poll`` seconds and, once the stop flag is set, shuts the scheduler
        down (APScheduler's shutdown belongs to the thread that started it).
        """
        scheduler = BackgroundScheduler(timezone=self.trigger.timezone)
        job = scheduler.add_job(
            self.fire,
            self.trigger,
            id="autopilot",
            coalesce=True,
            misfire_grace_time=int(GRACE.total_seconds()),
            max_instances=1,
        )
        self._schedules.register(self.account, self.mode, self.cron, self.timezone, os.getpid())
        try:
            self.catch_up()
            scheduler.start()
            while not self._schedules.beat(self.account, job.next_run_time):
                time.sleep(self._poll)
            scheduler.shutdown(wait=True)
            self._schedules.finish(self.account, "stopped")
        except BaseException as exc:  # the worker's last word goes to its status row
            if scheduler.running:
                scheduler.shutdown(wait=False)
            self._schedules.finish(self.account, "failed", failure_message(exc))
            raise
