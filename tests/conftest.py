"""Shared fixtures: a throw-away SQLite database per test and workstations on it."""

from __future__ import annotations

import bisect
import csv
import gzip
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import Base
from core.workstation import Workstation

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/ws.db"


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
