"""What the CLI tests share: an isolated environment and ``cli(*argv)`` on the test database.

``isolated_environment`` is not autouse: a module that wants it says so (``pytestmark =
pytest.mark.usefixtures("isolated_environment")``); the other CLI modules keep theirs.
"""

from __future__ import annotations

import json

import pytest

from core.cli import main


@pytest.fixture
def isolated_environment(monkeypatch, tmp_path):
    """Never touch data/workstation.db; no demo unless a test asks for it."""
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/default/never.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")
    monkeypatch.delenv("WORKSTATION_ALLOW_NETWORK", raising=False)


@pytest.fixture
def cli(capsys, db_url):
    """``cli(*argv)`` -> (exit code, parsed JSON stdout) against the test database."""

    def run(*argv: str, db: str | None = db_url, parse: bool = True):
        prefix = ["--db", db] if db else []
        code = main([*prefix, *argv])
        out = capsys.readouterr().out
        return code, (json.loads(out) if parse and out.strip() else out)

    return run
