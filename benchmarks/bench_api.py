"""Read-only API benchmarks (issue 17).

    python benchmarks/bench_api.py                    # build a database, then both parts
    python benchmarks/bench_api.py --db sqlite:////tmp/api-bench.db --requests 1000

1. HTTP latency under load: a database with at least 10,000 fills (a paper session of three
   SMA-crossover sleeves on the synthetic crypto feed, booked by the real worker: each fill
   with its order, position, cash, audit event and an equity snapshot per event), served by
   ``python -m core api`` in its own process. A load generator (httpx + asyncio, CONCURRENCY
   connections kept alive) sends REQUESTS requests per route and times each from send to the
   end of its body; p50/p95/p99 and throughput per route. Timed routes: /portfolio/summary
   and /portfolio/positions (the target: p95 < 50 ms), and /trades/recent and /health for
   scale.
2. WebSocket latency: a client follows ``/ws/live-updates?portfolio=`` of another portfolio;
   this process books a trade through the portfolio service (one committed transaction)
   every 0.3 s; latency = from ``trade()`` returning (committed) to the fill's message
   arriving. Target: < 1 s (the server polls every 200 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, select
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: this tree's core

from core.db import EquitySnapshotRow, FillRow
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.workstation import Workstation

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdefghijkl"
SESSION = "bench"
MIN_FILLS = 10_000


def build(db_url: str, events: int) -> None:
    """A paper session's portfolio with ≥ 10,000 fills (skipped when the database has one)."""
    ws = Workstation.open(db_url, seed_demo=False)
    try:
        if not ws.paper.exists(SESSION):
            sleeves = tuple(
                SleeveConfig(
                    key=f"s{i}",
                    strategy="sma_crossover",
                    params={"fast": 2, "slow": slow},
                    allocation=1 / 3,
                )
                for i, slow in enumerate((5, 6, 7))
            )
            config = SessionConfig(
                sleeves=sleeves,
                feed=FeedConfig(kind="synthetic", preset="crypto", seed=1, events=events),
                cash=1_000_000,
                execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
                regime_states=None,
            )
            ws.paper.create(SESSION, config, portfolio=SESSION)
            started = time.perf_counter()
            ws.paper.worker(SESSION).run()
            print(f"built the session in {time.perf_counter() - started:.1f} s")
        with ws.sessions() as s:
            fills = s.scalar(select(func.count()).select_from(FillRow))
            snapshots = s.scalar(select(func.count()).select_from(EquitySnapshotRow))
        print(f"database: {fills} fills, {snapshots} equity snapshots")
        if fills < MIN_FILLS:
            raise SystemExit(f"only {fills} fills: raise --events")
    finally:
        ws.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "WORKSTATION_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "core", "--db", db_url, "api", "--port", str(port)]
    command += ["--status-file", str(log.with_name("status.json")), "--log-level", "warning"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start: {log.read_text()}")


async def load(url: str, path: str, params: dict, requests: int, concurrency: int) -> dict:
    """``requests`` GETs of ``path`` over ``concurrency`` kept-alive connections."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:
        for _ in range(5):  # warm-up (imports, caches, connections)
            (await client.get(path, params=params)).raise_for_status()
        queue = iter(range(requests))

        async def worker():
            for _ in queue:
                started = time.perf_counter()
                response = await client.get(path, params=params)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "route": path,
        "n": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "req_per_s": len(ms) / elapsed,
    }


def ws_latency(db_url: str, port: int, trades: int) -> dict:
    """Commit-to-message latency of fills on the portfolio stream."""
    ws = Workstation.open(db_url, seed_demo=False)
    name = f"ws-latency-{time.time_ns()}"  # a new portfolio: no fills of an earlier run
    ws.portfolios.create(name, 1_000_000.0)
    url = f"ws://127.0.0.1:{port}/ws/live-updates?portfolio={name}&token={TOKEN}"
    latencies = []
    try:
        with connect(url, open_timeout=30) as socket_:
            json.loads(socket_.recv(timeout=30))  # hello
            for i in range(trades):
                side = "buy" if i % 2 == 0 else "sell"
                ws.portfolios.trade(name, "AAPL", side, 10, 100.0)
                committed = time.perf_counter()
                while True:
                    update = json.loads(socket_.recv(timeout=10))
                    if update.get("type") == "fill":
                        latencies.append(time.perf_counter() - committed)
                        break
                time.sleep(0.3)
    finally:
        ws.close()
    ms = np.asarray(latencies) * 1000
    return {
        "n": len(ms),
        "mean_ms": float(ms.mean()),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": float(ms.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temp folder)")
    parser.add_argument("--events", type=int, default=19_000, help="events of the paper session")
    parser.add_argument("--requests", type=int, default=500, help="requests per route")
    parser.add_argument(
        "--concurrency", default="1,4,8", help="connections, comma-separated (one run each)"
    )
    parser.add_argument("--ws-trades", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    db_url = args.db or f"sqlite:///{folder / 'ws.db'}"
    build(db_url, args.events)
    port = free_port()
    server = start_server(db_url, port, folder / "server.log")
    url = f"http://127.0.0.1:{port}"
    print(f"Python {platform.python_version()} on {os.cpu_count()} cores")
    try:
        cases = [
            ("/portfolio/summary", {"portfolio": SESSION}),
            ("/portfolio/positions", {"portfolio": SESSION}),
            ("/trades/recent", {"portfolio": SESSION, "limit": 50}),
            ("/health", {}),
        ]
        print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            print(f"-- {concurrency} connection(s)")
            for path, params in cases:
                result = asyncio.run(load(url, path, params, args.requests, concurrency))
                print(
                    f"{result['route']:<22} n={result['n']}  p50 {result['p50_ms']:6.1f} ms  "
                    f"p95 {result['p95_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                    f"max {result['max_ms']:6.1f} ms  {result['req_per_s']:6.1f} req/s"
                )
        result = ws_latency(db_url, port, args.ws_trades)
        print(
            f"WS fill latency        n={result['n']}  mean {result['mean_ms']:.0f} ms  "
            f"p50 {result['p50_ms']:.0f} ms  p95 {result['p95_ms']:.0f} ms  "
            f"max {result['max_ms']:.0f} ms"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
