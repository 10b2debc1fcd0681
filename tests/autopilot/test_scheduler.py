"""The cron worker: standard weekdays, missed slots caught up once, status row and stop flag."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from core.autopilot import ScheduleStore, ScheduleWorker, cron_trigger, missed_slots
from core.errors import ConflictError, InvalidInputError

pytestmark = pytest.mark.both_backends  # the status row on SQLite and PostgreSQL

NY = "America/New_York"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_weekdays_1_to_5_are_monday_to_friday():
    trigger = cron_trigger("30 16 * * 1-5", NY)
    # from Friday 2026-11-27 evening: the next slots are Monday 30th, Tuesday 1st (not Saturday)
    first = trigger.get_next_fire_time(None, datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert [first.strftime("%a %d %H:%M"), second.strftime("%a %d %H:%M")] == [
        "Mon 30 16:30",
        "Tue 01 16:30",
    ]
    sunday = cron_trigger("0 9 * * 0", NY).get_next_fire_time(None, first)
    assert sunday.strftime("%a") == "Sun"


@pytest.mark.parametrize("bad", ["30 16 * *", "61 16 * * 1-5", "30 16 * * 9"])
def test_a_bad_cron_is_refused(bad):
    with pytest.raises(InvalidInputError, match="cron"):
        cron_trigger(bad, NY)


def test_missed_slots_between_the_last_run_and_now():
    trigger = cron_trigger("30 16 * * 1-5", NY)
    last = datetime(2026, 11, 23, 21, 31, tzinfo=UTC)  # Monday, just after 16:30 New York
    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday morning
    slots = missed_slots(trigger, last, now)
    assert [s.strftime("%a") for s in slots] == ["Tue", "Wed", "Thu"]
    assert missed_slots(trigger, None, now) == []
    assert missed_slots(trigger, now, now + timedelta(hours=1)) == []


@pytest.fixture
def schedules(ws):
    clock = Clock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    return ScheduleStore(ws.sessions, clock), clock


def test_catch_up_runs_once_for_several_missed_slots(schedules):
    store, clock = schedules
    runs = []
    worker = ScheduleWorker(
        store, lambda: runs.append(clock()) or {"status": "dry_run", "as_of": "x"},
        account="ap", mode="dry-run", cron="30 16 * * 1-5", timezone=NY, clock=clock,
    )  # fmt: skip
    store.register("ap", "dry-run", "30 16 * * 1-5", NY, os.getpid())
    store.record_run("ap", datetime(2026, 11, 23, 21, 31, tzinfo=UTC), "dry_run (x)")
    assert worker.catch_up() is not None
    assert runs == [clock.now]  # three slots missed, one run
    assert store.last_run("ap") == clock.now
    assert worker.catch_up() is None and len(runs) == 1  # nothing missed since
    clock.now += timedelta(days=3, hours=12)  # Monday 30th 22:00 UTC: Friday's and Monday's slots
    worker.catch_up()
    assert len(runs) == 2


def test_a_refused_run_is_recorded_and_the_worker_goes_on(schedules):
    store, clock = schedules

    def refuse():
        raise InvalidInputError("as_of: stale")

    worker = ScheduleWorker(store, refuse, account="ap", mode="paper", cron="* * * * *",
                            timezone=NY, clock=clock)  # fmt: skip
    store.register("ap", "paper", "* * * * *", NY, os.getpid())
    assert worker.fire()["status"] == "failed"
    assert store.status("ap")["last_status"] == "failed: as_of: stale"


def test_the_status_row_shows_the_worker_and_takes_a_stop_request(schedules):
    store, clock = schedules
    store.register("ap", "paper", "30 16 * * 1-5", NY, os.getpid())
    next_run = datetime(2026, 11, 27, 21, 30, tzinfo=UTC)
    assert store.beat("ap", next_run) is False
    status = store.status("ap")
    assert (status["status"], status["pid"], status["alive"]) == ("running", os.getpid(), True)
    assert status["next_run"] == next_run.replace(tzinfo=None)
    with pytest.raises(ConflictError):
        store.register("ap", "paper", "30 16 * * 1-5", NY, os.getpid() + 1)  # one worker only
    assert store.request_stop("ap") is True
    assert store.beat("ap", next_run) is True  # the worker reads the flag and stops
    store.finish("ap", "stopped")
    assert store.status("ap")["status"] == "stopped" and store.request_stop("ap") is False


def test_serve_stops_when_the_flag_is_set(ws):
    store = ScheduleStore(ws.sessions, lambda: datetime.now(UTC))
    worker = ScheduleWorker(store, lambda: {"status": "dry_run", "as_of": "x"}, account="ap",
                            mode="dry-run", cron="0 3 1 1 *", timezone=NY, poll=0.2)  # fmt: skip
    seen = []

    def stop_when_running():
        while not (store.status("ap") or {}).get("next_run"):
            time.sleep(0.05)
        seen.append(store.status("ap"))
        store.request_stop("ap")  # as the page's Stop button does

    stopper = threading.Thread(target=stop_when_running)
    stopper.start()
    worker.serve()  # returns once the flag is read
    stopper.join(5)
    assert seen[0]["status"] == "running" and seen[0]["pid"] == os.getpid()
    assert seen[0]["next_run"].month == 1 and seen[0]["next_run"].day == 1  # 1 January 03:00
    status = store.status("ap")
    assert status["status"] == "stopped" and status["next_run"] is None
