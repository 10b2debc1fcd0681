"""A worker's database URL, which may carry a password, never appears on its command line
(every user of the machine can read that through ps or /proc/PID/cmdline); it travels in
the worker's environment, readable only by its own user."""

from __future__ import annotations

import subprocess

import pytest

from core.optimize import start_worker
from core.paper import FeedConfig, SessionConfig, SleeveConfig

URL = "postgresql+psycopg://trader:s3cret-pw@db.internal:5432/desk"


@pytest.fixture
def launched(monkeypatch) -> list[tuple[list[str], dict]]:
    calls: list[tuple[list[str], dict]] = []

    class Recorder:
        def __init__(self, args, **options):
            calls.append((list(args), options))
            self.pid = 4242

    monkeypatch.setattr(subprocess, "Popen", Recorder)
    return calls


def test_the_paper_worker_gets_the_url_in_its_environment(ws, launched, tmp_path):
    config = SessionConfig(
        sleeves=(SleeveConfig(key="s", strategy="sma_crossover"),),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=100),
    )
    ws.paper.create("desk", config)
    assert ws.paper.start_worker("desk", URL, log_dir=tmp_path) == 4242
    ((args, options),) = launched
    assert args[-6:] == ["-m", "core", "paper", "run", "--session", "desk"]
    assert not any("s3cret" in a or "trader" in a for a in args)
    assert "--db" not in args
    assert options["env"]["WORKSTATION_DATABASE_URL"] == URL


def test_the_optimization_worker_gets_the_url_in_its_environment(launched, tmp_path):
    assert start_worker("job42", URL, log_dir=tmp_path) == 4242
    ((args, options),) = launched
    assert args[-5:] == ["-m", "core", "optimize-worker", "--job", "job42"]
    assert not any("s3cret" in a for a in args) and "--db" not in args
    assert options["env"]["WORKSTATION_DATABASE_URL"] == URL
