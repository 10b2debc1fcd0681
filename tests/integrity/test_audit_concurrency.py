"""The audit chain and the ledger under concurrent writers: four OS processes at once.

A paper worker replays a synthetic feed at full speed (``python -m core paper run``) while
two processes loop manual round trips through the pre-trade checks on one shared portfolio
and a fourth logs pre-trade checks on it. Afterwards the chain verifies, no two events link
to the same previous hash, every event each process wrote is there, and the shared
portfolio's cash and position are what the round trips add up to by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.audit import verify_chain
from core.db import AuditEventRow, FillRow, PaperSessionRow, PortfolioRow
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.workstation import Workstation

ROOT = Path(__file__).resolve().parents[2]
ROUND_TRIPS = 60  # per trade loop: 2 checks + 2 fills each
CHECKS = 120
PAPER_EVENTS = 4_000
START_CASH = 1_000_000.0

pytestmark = [pytest.mark.slow, pytest.mark.both_backends, pytest.mark.timeout(240)]


def paper_config() -> SessionConfig:
    return SessionConfig(
        sleeves=(SleeveConfig(key="sma", strategy="sma_crossover", params={"fast": 2, "slow": 5}),),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=PAPER_EVENTS),
        cash=START_CASH,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
    )


def forks(session) -> int:
    """Events beyond the first that link to an already linked previous hash."""
    counts = (
        select(func.count().label("n"))
        .select_from(AuditEventRow)
        .group_by(AuditEventRow.prev_hash)
        .having(func.count() > 1)
        .subquery()
    )
    return int(session.scalar(select(func.coalesce(func.sum(counts.c.n - 1), 0))))


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(condition, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_four_writers_leave_the_chain_and_the_ledger_intact(db_url, tmp_path):
    ws = Workstation.open(db_url, seed_demo=False)
    try:
        ws.portfolios.create("shared", START_CASH)
        ws.paper.create("race", paper_config(), portfolio="race")
        env = {**os.environ, "WORKSTATION_DATABASE_URL": db_url, "WORKSTATION_SEED_DEMO": "0"}
        go = tmp_path / "go"
        loops = [("trades", ROUND_TRIPS), ("trades", ROUND_TRIPS), ("checks", CHECKS)]
        processes, outs = [], []
        for i, (kind, n) in enumerate(loops):
            ready, out = tmp_path / f"ready{i}", tmp_path / f"out{i}.json"
            args = ["-m", "tests.integrity.writers", kind, "shared", str(n), str(ready), str(go)]
            processes.append(start([*args, str(out)], env, tmp_path / f"writer{i}.log"))
            outs.append(out)
        wait_until(lambda: all((tmp_path / f"ready{i}").exists() for i in range(3)), "writers")
        worker = start(
            ["-m", "core", "paper", "run", "--session", "race", "--speed", "max"],
            env,
            tmp_path / "worker.log",
        )
        processes.append(worker)

        def worker_committing() -> bool:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            with ws.sessions() as s:
                done = s.scalar(
                    select(PaperSessionRow.events).where(PaperSessionRow.name == "race")
                )
            return (done or 0) > 0

        wait_until(worker_committing, "the paper worker")
        go.touch()
        for process in processes:
            process.wait(timeout=180)
        codes = [p.returncode for p in processes]
        logs = {p.name: p.read_text(errors="replace")[-1500:] for p in tmp_path.glob("*.log")}
        with ws.sessions() as s:
            n_forks = forks(s)
            report = verify_chain(s)
            kinds = dict(
                s.execute(
                    select(AuditEventRow.kind, func.count()).group_by(AuditEventRow.kind)
                ).all()
            )
            paper_events = s.scalar(
                select(PaperSessionRow.events).where(PaperSessionRow.name == "race")
            )
            order = s.execute(select(AuditEventRow.kind, AuditEventRow.actor).order_by("id"))
            actors = [actor if kind == "pretrade_check" else kind for kind, actor in order]
            shared_fills = s.scalar(
                select(func.count())
                .select_from(FillRow)
                .where(FillRow.portfolio_id == PortfolioRow.id, PortfolioRow.name == "shared")
            )
        total = sum(kinds.values())
        # a trade refused because a concurrent one booked a later time first was checked
        # (and logged) before it was refused, then checked again: one more pretrade_check
        retries = [json.loads(o.read_text())["retries"] for o in outs if o.exists()]
        print(f"audit events {total}, forks {n_forks}, by kind {kinds}, retries {retries}")
        assert n_forks == 0, f"{n_forks} of {total} events forked the chain (exit codes {codes})"
        assert codes == [0, 0, 0, 0], logs
        assert report.ok, report.reason
        assert report.n_events == total >= 500
        assert kinds["pretrade_check"] == 2 * 2 * ROUND_TRIPS + CHECKS + sum(retries)
        assert paper_events == PAPER_EVENTS
        assert shared_fills == 2 * 2 * ROUND_TRIPS
        # every round trip: buy 1 at 100, sell 1 at 101, no costs → +1 each, nothing held
        ledger = ws.portfolios.ledger("shared")
        assert ledger.cash == pytest.approx(START_CASH + 2 * ROUND_TRIPS * 1.0, abs=1e-6)
        assert ledger.positions.get("AAPL") is None or ledger.positions["AAPL"].quantity == 0
        # the writers really overlapped: paper fills landed between the loops' first and last
        # pre-trade checks, and loop checks between the paper worker's first and last fill
        user = [i for i, actor in enumerate(actors) if actor == "user"]
        paper = [i for i, kind in enumerate(actors) if kind == "order"]
        assert "order" in actors[user[0] : user[-1]] and "user" in actors[paper[0] : paper[-1]]
    finally:
        ws.close()
