"""The simulation as a task (validated at submit, cancellable) and the schedule worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from core.errors import InvalidInputError
from core.tasks import TaskStatus
from tests.conftest import REPO_ROOT


def test_the_backtest_task_runs_the_simulation_and_its_mock(ws, table_counts):
    task_id = ws.tasks.submit(
        "autopilot_backtest", {"start": "2022-10-03", "end": "2022-11-30", "compare": True}
    )
    assert ws.tasks.run(task_id) == TaskStatus.DONE
    result = ws.tasks.get(task_id).result
    assert (result["main"]["mock"], result["mock"]["mock"]) == (False, True)
    # no model is wired here: the "ML" run took every fallback and equals the mock
    assert result["main"]["metrics"]["final_equity"] == result["mock"]["metrics"]["final_equity"]
    before = table_counts(ws)
    with pytest.raises(InvalidInputError, match="backtest: .*after start"):
        ws.tasks.submit("autopilot_backtest", {"start": "2022-10-03", "end": "2022-01-03"})
    assert table_counts(ws) == before  # a refused request writes nothing


def test_a_cancelled_backtest_task_stops(ws):
    task_id = ws.tasks.submit("autopilot_backtest", {"start": "2022-01-03", "end": "2022-12-28"})
    ws.tasks.request_cancel(task_id)
    assert ws.tasks.run(task_id) == TaskStatus.CANCELLED


@pytest.mark.slow
def test_the_schedule_worker_runs_as_a_process_and_stops_on_request(db_url, tmp_path):
    from core.workstation import Workstation

    ws = Workstation.open(db_url, seed_demo=False)
    ws.portfolios.create("ap", 10_000.0)
    env = {**os.environ, "WORKSTATION_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "core", "autopilot", "schedule", "--account", "ap",
               "--cron", "0 3 1 1 *", "--mode", "dry-run", "--poll", "0.2"]  # fmt: skip
    worker = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            status = ws.autopilot.schedule_status("ap")
            if status and status["alive"] and status["next_run"]:
                break
            time.sleep(0.2)
        assert status["pid"] == worker.pid and status["status"] == "running"
        assert (status["next_run"].month, status["next_run"].day) == (1, 1)
        assert ws.autopilot.stop_schedule("ap") is True
        assert worker.wait(timeout=30) == 0
        assert ws.autopilot.schedule_status("ap")["status"] == "stopped"
    finally:
        if worker.poll() is None:
            worker.kill()
        ws.close()
