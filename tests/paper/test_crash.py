"""Crash safety: a worker killed with SIGKILL at arbitrary points, then resumed by running
the same command again, ends with the portfolio of a run that was never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from core.db import FillRow, PaperBarRow, PaperSessionRow
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from tests.paper.test_worker import fills

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 6_000


def config() -> SessionConfig:
    return SessionConfig(
        sleeves=(
            SleeveConfig(
                key="fast", strategy="sma_crossover", params={"fast": 3, "slow": 12}, allocation=0.5
            ),
            SleeveConfig(key="swing", strategy="mean_reversion", allocation=0.5),
        ),
        feed=FeedConfig(kind="synthetic", preset="crypto", seed=3, events=EVENTS),
        cash=25_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
    )


def committed(ws, name: str) -> tuple[int, str]:
    with ws.sessions() as s:
        return s.execute(
            select(PaperSessionRow.events, PaperSessionRow.status).where(
                PaperSessionRow.name == name
            )
        ).one()


@pytest.mark.timeout(300)
def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(ws, db_url):
    ws.paper.create("clean", config(), portfolio="clean")
    ws.paper.worker("clean").run()
    ws.paper.create("crash", config(), portfolio="crash")
    rng = random.Random(20261122)
    kills = []
    # the URL (with PostgreSQL, its password) goes in the environment, as spawn_core does:
    # a command line is readable by every user of the machine
    command = [sys.executable, "-m", "core", "paper", "run", "--session", "crash"]
    env = {**os.environ, "WORKSTATION_DATABASE_URL": db_url}
    for _attempt in range(3):
        done, _ = committed(ws, "crash")
        target = done + rng.randint(300, 1500)
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        cmdline = Path(f"/proc/{process.pid}/cmdline")
        if cmdline.exists():
            assert db_url.encode() not in cmdline.read_bytes()
        deadline = time.monotonic() + 120
        while committed(ws, "crash")[0] < target and process.poll() is None:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(rng.uniform(0.001, 0.02))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills.append(committed(ws, "crash")[0])
    assert kills == sorted(kills) and kills[-1] < EVENTS, kills  # each kill landed mid-run
    status = ws.paper.status("crash")
    assert status["status"] == "interrupted"  # the last worker died without a word
    resumed = subprocess.run(
        [*command, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert resumed.returncode == 0, resumed.stderr
    assert committed(ws, "crash") == (EVENTS, "finished")
    clean, crash = fills(ws, "clean"), fills(ws, "crash")
    assert len(clean) > 100
    pd.testing.assert_frame_equal(
        clean.drop(columns="fill_id"), crash.drop(columns="fill_id"), check_exact=True
    )
    a, b = ws.paper.status("clean"), ws.paper.status("crash")
    assert b["equity"] == a["equity"]
    assert b["cash"] == a["cash"]
    assert b["positions"] == a["positions"]
    with ws.sessions() as s:
        for name in ("clean", "crash"):
            sid = s.scalar(select(PaperSessionRow.id).where(PaperSessionRow.name == name))
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(PaperBarRow)
                    .where(PaperBarRow.session_id == sid)
                )
                == EVENTS
            )
        ids = s.scalars(select(FillRow.fill_id)).all()
    assert len(ids) == len(set(ids))  # no fill written twice
