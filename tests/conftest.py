"""Shared fixtures: a throw-away database per test and workstations on it.

The database is a SQLite file in the test's temporary folder. Tests marked
``both_backends`` (and the files in :data:`BOTH_BACKENDS`) run a second time on a fresh
PostgreSQL database when ``WORKSTATION_TEST_POSTGRES_URL`` names a server (``.ci/run`` sets
it); without it those runs are skipped with the reason.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from core.db import Base
from core.workstation import Workstation

REPO_ROOT = Path(__file__).resolve().parents[1]
# AppTests open the app's workstation in this process: no warm-worker helper for each test
# process (tests/test_warm.py turns it on where it is the subject; the browser tests' servers
# run with it, as users do)
os.environ.setdefault("WORKSTATION_WARM_WORKERS", "0")


POSTGRES_ENV = "WORKSTATION_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "").strip()
# Other areas' tests that must hold on PostgreSQL too (by file, relative to the repo root).
BOTH_BACKENDS = (
    "tests/portfolio/test_service.py",  # the ledger's rules and properties through the service
    "tests/paper/test_crash.py",  # a paper worker killed and resumed
)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        f"both_backends: run on SQLite and again on PostgreSQL (when ${POSTGRES_ENV} is set)",
    )


def pytest_generate_tests(metafunc) -> None:
    """Tests on both backends get ``db_backend`` = sqlite, postgresql (others: sqlite only)."""
    if "db_backend" not in metafunc.fixturenames:
        return
    path = Path(metafunc.definition.path).resolve().relative_to(REPO_ROOT).as_posix()
    if (
        path not in BOTH_BACKENDS
        and metafunc.definition.get_closest_marker("both_backends") is None
    ):
        return
    skip = pytest.mark.skipif(not POSTGRES_URL, reason=f"${POSTGRES_ENV} is not set")
    metafunc.parametrize(
        "db_backend", ["sqlite", pytest.param("postgresql", marks=skip)], indirect=True
    )


@pytest.fixture
def db_backend(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_admin():
    """An autocommit engine on the server of ``$WORKSTATION_TEST_POSTGRES_URL``."""
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _models_dir(tmp_path, monkeypatch) -> None:
    """Every test's trained models go to its own folder, never the repository's data/models."""
    monkeypatch.setenv("WORKSTATION_MODELS_DIR", str(tmp_path / "models"))


@pytest.fixture
def db_url(db_backend, tmp_path, request) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a PostgreSQL database made for this
    test and dropped after it."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path}/ws.db"
        return
    admin = request.getfixturevalue("postgres_admin")
    name = f"ws_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)


def _drop_database(admin, name: str, attempts: int = 5) -> None:
    """Drop a test's database; a backend the role may not terminate (seen once in CI: a
    server process holding it for a moment) gets a few retries, then a warning, never a
    failed test: a stray throw-away database harms nothing."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except Exception as exc:  # teardown of a throw-away database
            if attempt == attempts - 1:
                warnings.warn(f"test database {name} not dropped: {exc}", stacklevel=2)
                return
            time.sleep(0.5 * (attempt + 1))


@pytest.fixture
def ws(db_url) -> Iterator[Workstation]:
    """A migrated workstation with the bundled instruments and no demo portfolio."""
    workstation = Workstation.open(db_url, seed_demo=False)
    yield workstation
    workstation.close()


@pytest.fixture
def demo_ws(db_url) -> Iterator[Workstation]:
    """A migrated workstation with the demo portfolio seeded."""
    workstation = Workstation.open(db_url, seed_demo=True)
    yield workstation
    workstation.close()


def count_rows(workstation: Workstation) -> dict[str, int]:
    """Row count of every table in the schema."""
    with workstation.engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }


@pytest.fixture
def table_counts() -> Callable[[Workstation], dict[str, int]]:
    """``table_counts(ws)``: row count of every table, to prove a failure wrote nothing."""
    return count_rows


class RawCloses:
    """The bundled stock closes read straight from the CSV file (no workstation code)."""

    def __init__(self, path: Path):
        with gzip.open(path, "rt", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
        self.symbols = header[1:]
        self.dates = [date.fromisoformat(r[0]) for r in rows]
        self._closes = {
            symbol: [float(r[i]) for r in rows] for i, symbol in enumerate(header[1:], start=1)
        }

    def on(self, symbol: str, day: date | str) -> float:
        """The close on ``day`` exactly (KeyError when it is not a trading day)."""
        day = date.fromisoformat(day) if isinstance(day, str) else day
        return self._closes[symbol][self.dates.index(day)]

    def last_on_or_before(self, symbol: str, day: date | str) -> float:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        index = bisect.bisect_right(self.dates, day) - 1
        return self._closes[symbol][index]

    def days_between(self, first: date | str, last: date | str) -> list[date]:
        first = date.fromisoformat(first) if isinstance(first, str) else first
        last = date.fromisoformat(last) if isinstance(last, str) else last
        return [d for d in self.dates if first <= d <= last]


@pytest.fixture(scope="session")
def raw_closes() -> RawCloses:
    return RawCloses(REPO_ROOT / "data" / "market" / "sp500_stocks_close.csv.gz")
