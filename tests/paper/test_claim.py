"""One worker per session: the claim is a compare-and-set committed before anything is
replayed; a second worker exits at once, a dead worker's claim is taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from core.db import FillRow, PaperSessionRow
from core.paper import FeedConfig, PaperError, SessionConfig, SleeveConfig
from core.paper._records import utcnow
from tests.paper.test_worker import fills

ROOT = Path(__file__).resolve().parents[2]


def paced(events: int = 1500) -> SessionConfig:
    # 1 tick/s of feed time at 400 × real time: a run of about 4 s
    return SessionConfig(
        sleeves=(
            SleeveConfig(key="fast", strategy="sma_crossover", params={"fast": 3, "slow": 9}),
        ),
        feed=FeedConfig(kind="synthetic", preset="crypto", seed=4, events=events),
        cash=10_000,
        speed=400.0,
    )


def hold(ws, name: str, pid: int, host: str | None = None) -> None:
    with ws.sessions.begin() as s:
        s.execute(
            update(PaperSessionRow)
            .where(PaperSessionRow.name == name)
            .values(status="running", pid=pid, host=host or socket.gethostname())
        )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_workers_resuming_together_one_runs_the_other_exits_at_once(ws, db_url):
    # a resume re-runs its committed events first: before the claim came first, both
    # workers passed the liveness check during that time and then both traded
    ws.paper.create("twice", paced(16_000).model_copy(update={"speed": None}))
    ws.paper.worker("twice").run(max_events=8_000)
    command = [sys.executable, "-m", "core", "--db", db_url, "paper", "run", "--session", "twice"]
    env = {**os.environ, "WORKSTATION_SEED_DEMO": "0"}  # (seeding has its own race)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    ended = {}
    while len(ended) < 2:
        for k, p in enumerate(procs):
            if k not in ended and p.poll() is not None:
                ended[k] = time.monotonic() - started
        time.sleep(0.02)
    results = [(p.returncode, *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(k for k, r in enumerate(results) if r[0] != 0)
    winner = 1 - loser
    message = results[loser][2]
    pid = procs[winner].pid
    assert f"paper run: session 'twice' is already running (pid {pid}" in message, message
    assert "Traceback" not in message
    assert ended[loser] < ended[winner] - 1.0  # it did not trade alongside
    status = ws.paper.status("twice")
    assert (status["status"], status["events"], status["pid"]) == ("finished", 16_000, pid)
    # what is stored is one worker's run: the backtest of the recorded bars, fill for fill
    report = ws.paper.reconcile("twice")
    assert report["match"] and report["strategies"]["fast"]["matched"] == status["n_fills"] > 50
    with ws.sessions() as s:
        ids = s.scalars(select(FillRow.fill_id)).all()
    assert len(ids) == len(set(ids)) == status["n_fills"]


def test_a_live_worker_in_another_process_keeps_its_session(ws, table_counts):
    ws.paper.create("held", paced(300))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hold(ws, "held", other.pid)
        before = table_counts(ws)
        with pytest.raises(PaperError, match=rf"already running \(pid {other.pid} on "):
            ws.paper.worker("held").run()
        assert table_counts(ws) == before  # nothing replayed, nothing written
        assert ws.paper.status("held")["pid"] == other.pid
    finally:
        other.kill()
        other.wait()


def test_a_dead_workers_claim_is_taken_over(ws):
    ws.paper.create("orphan", paced(300).model_copy(update={"speed": None}))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    hold(ws, "orphan", dead.pid)
    assert ws.paper.status("orphan")["status"] == "interrupted"
    summary = ws.paper.worker("orphan").run()
    assert summary["status"] == "finished" and summary["events"] == 300
    assert ws.paper.status("orphan")["pid"] == os.getpid()


def test_another_hosts_worker_is_taken_over_only_once_its_heartbeat_is_stale(ws):
    ws.paper.create("remote", paced(300).model_copy(update={"speed": None}))
    hold(ws, "remote", 1, host="elsewhere")
    with ws.sessions.begin() as s:
        row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == "remote"))
        row.heartbeat = utcnow()
    with pytest.raises(PaperError, match=r"already running \(pid 1 on elsewhere\)"):
        ws.paper.worker("remote").run()
    with ws.sessions.begin() as s:
        row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == "remote"))
        row.heartbeat = row.heartbeat - pd.Timedelta(seconds=60)
    assert ws.paper.worker("remote").run()["status"] == "finished"


def test_a_worker_whose_claim_was_taken_over_writes_nothing_more(ws):
    ws.paper.create("fenced", paced(600).model_copy(update={"speed": None}))
    worker = ws.paper.worker("fenced")
    worker.run(max_events=100)
    worker = ws.paper.worker("fenced")
    worker.writer.claim("fenced")
    worker._catch_up()
    worker.live = True
    hold(ws, "fenced", 1, host="elsewhere")  # someone else holds it now
    events = worker.feed.events(worker.next_seq)
    worker._process(next(events))
    with pytest.raises(PaperError, match="another worker took this session over"):
        worker._commit()
    with ws.sessions() as s:
        row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == "fenced"))
        assert (row.pid, row.host, row.events) == (1, "elsewhere", 100)
        assert s.scalar(select(func.count()).select_from(FillRow)) == len(fills(ws, "fenced"))


def test_a_worker_built_before_the_session_finished_does_not_run_it_again(ws, table_counts):
    ws.paper.create("done", paced(300).model_copy(update={"speed": None}))
    late = ws.paper.worker("done")  # read the session while it had not run yet
    ws.paper.worker("done").run()
    before = table_counts(ws)
    assert late.run()["status"] == "finished"
    assert table_counts(ws) == before  # no second replay, no audit events, no writes
