"""A real API server (``python -m core api``) on a free port over a known portfolio.

The database is built once per test session by a writable workstation: portfolio ``Known`` with
three fills whose numbers are worked out by hand below, daily snapshots from the bundled
closes, and target weights. The server is then started as a subprocess, reading it
read-only; tests talk to it over HTTP and WebSocket as any client would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from core.workstation import Workstation
from tests.conftest import REPO_ROOT

TOKEN = "test-token-0123456789abcdefghij"
KNOWN = "Known"
START_CASH = 100_000.0
# (ts, symbol, side, quantity, price, commission, strategy)
FILLS = (
    (datetime(2022, 6, 1, 16), "AAPL", "buy", 100, 100.0, 1.0, None),
    (datetime(2022, 6, 2, 16), "MSFT", "buy", 50, 200.0, 0.0, "swing"),
    (datetime(2022, 7, 1, 16), "AAPL", "sell", 40, 110.0, 2.0, "swing"),
)
# worked out by hand from FILLS
CASH = START_CASH - 100 * 100.0 - 1.0 - 50 * 200.0 + 40 * 110.0 - 2.0  # 84,397
HELD = {"AAPL": 60.0, "MSFT": 50.0}
AVG_COST = {"AAPL": 100.0, "MSFT": 200.0}
REALIZED = 40 * (110.0 - 100.0)  # 400
TARGETS = {"AAPL": 0.05, "MSFT": 0.10}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_known(db_url: str) -> None:
    """The known portfolio, written through the services (the server only reads)."""
    ws = Workstation.open(db_url, seed_demo=False)
    try:
        ws.portfolios.create(KNOWN, START_CASH, created_at=datetime(2022, 6, 1))
        for ts, symbol, side, qty, price, commission, strategy in FILLS:
            ws.portfolios.trade(
                KNOWN, symbol, side, qty, price, commission=commission, ts=ts, strategy=strategy
            )
        ws.portfolios.revalue_history(KNOWN)
        ws.portfolios.set_target_weights(KNOWN, TARGETS)
        ws.portfolios.create("Empty", 5_000.0)
    finally:
        ws.close()


@dataclass
class Server:
    """A running ``python -m core api`` process."""

    url: str
    port: int
    process: subprocess.Popen
    log: Path
    db_url: str
    status_file: Path

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(db_url: str, log: Path, *, env: dict | None = None) -> Server:
    """Start the API on a free port and wait (≤ 60 s) until ``/health`` answers."""
    port = free_port()
    environment = {**os.environ, "WORKSTATION_API_TOKEN": TOKEN, **(env or {})}
    status = log.with_name("api-status.json")
    command = [sys.executable, "-m", "core", "--db", db_url, "api", "--port", str(port)]
    command += ["--status-file", str(status)]
    handle = log.open("wb")
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url, port, process, log, db_url, status)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the API did not start: {log.read_text()}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def known_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("api") / "ws.db"
    url = f"sqlite:///{path}"
    build_known(url)
    return url


@pytest.fixture(scope="session")
def server(known_db, tmp_path_factory):
    running = start_server(known_db, tmp_path_factory.mktemp("log") / "api.log")
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def api(server):
    with server.client() as client:
        yield client


@pytest.fixture(scope="session")
def reader(known_db):
    """A workstation on the same database, for the values computed through the services."""
    ws = Workstation.open(known_db, seed_demo=False)
    yield ws
    ws.close()
