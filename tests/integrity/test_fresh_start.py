"""Several ``python -m core`` processes opening one fresh database at the same moment.

Each process migrates the schema and seeds the demo portfolio on first start; started
together they must do that once between them: the others wait, then proceed as on a
database that was already there. All exit 0, there is one demo portfolio (its cash is the
one a single seeding books) and the audit chain verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import AuditEventRow, FillRow, MetaRow, PortfolioRow, create_db_engine
from core.demo import DEMO_NAME
from core.workstation import Workstation

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4

pytestmark = pytest.mark.both_backends


def start_together(db_url: str, argv: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start every ``python -m core ARGS`` of ``argv`` before waiting for any; the URL goes
    in the environment (it may carry a password)."""
    env = {**os.environ, "WORKSTATION_DATABASE_URL": db_url, "WORKSTATION_SEED_DEMO": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "core", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in argv
    ]
    results = []
    for process, args in zip(processes, argv, strict=True):
        out, err = process.communicate(timeout=150)
        results.append(subprocess.CompletedProcess(args, process.returncode, out, err))
    return results


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_processes_started_together_on_a_fresh_database_migrate_and_seed_once(db_url):
    results = start_together(
        db_url,
        [["portfolio", "list", "--json"]] * (PROCESSES - 1) + [["audit", "verify", "--json"]],
    )

    for result in results:
        assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    for result in results[:-1]:
        names = [p["name"] for p in json.loads(result.stdout)["portfolios"]]
        assert names.count(DEMO_NAME) == 1, names
    assert json.loads(results[-1].stdout)["ok"] is True

    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            demo_rows = connection.scalar(
                select(func.count()).select_from(PortfolioRow).where(PortfolioRow.name == DEMO_NAME)
            )
            creations = connection.scalar(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.kind == "portfolio_created")
            )
            fills = connection.scalar(
                select(func.count())
                .select_from(FillRow)
                .join(PortfolioRow, FillRow.portfolio_id == PortfolioRow.id)
                .where(PortfolioRow.name == DEMO_NAME)
            )
            seeded = connection.scalar(select(MetaRow.value).where(MetaRow.key == "demo_seeded"))
    finally:
        engine.dispose()
    assert demo_rows == 1
    assert creations == 1
    assert fills == 8  # six equal-weight buys, then XOM sold and MSFT bought (core/demo.py)
    assert seeded == "1"
    verify = start_together(db_url, [["audit", "verify", "--json"]])[0]
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True


def test_a_start_after_an_interrupted_seeding_goes_on(db_url):
    """The demo portfolio is there but the flag that says so is not (the seeding start was
    killed before it wrote it): the next start leaves the portfolio as it is and records
    the flag, instead of failing on every start with 'already exists'."""
    first = Workstation.open(db_url, seed_demo=False)
    try:
        first.portfolios.create(DEMO_NAME, 1_000_000.0)  # what seeding does first
    finally:
        first.close()
    again = Workstation.open(db_url, seed_demo=True)
    try:
        assert again.portfolios.names() == [DEMO_NAME]
        assert again.portfolios.summary(DEMO_NAME).cash == 1_000_000.0
        assert again._meta("demo_seeded") == "1"
    finally:
        again.close()
