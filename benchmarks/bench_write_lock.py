"""What the write lock costs (issue 10): the same work with the lock and with it switched off.

    python benchmarks/bench_write_lock.py                       # SQLite file in a temp folder
    python benchmarks/bench_write_lock.py --db postgresql+psycopg://USER:PW@127.0.0.1/DB

1. Paper worker: SMA 2/5 on the synthetic equity feed (a fill every ~6 events, each fill its
   own commit), ``PaperWorker.run`` timed as in bench_paper.py.
2. Manual trades: ``PortfolioService.trade`` round trips (ORM path, one transaction each).

Each case alternates lock on / lock off (``take_write_lock`` replaced by a no-op) ``--rounds``
times in one process, so that both see the same machine load; the best round of each is
reported (the least disturbed by other work on a shared machine) with the median beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid

import core.audit._log as audit_log
import core.db._lock as lock
import core.paper._store as paper_store
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.workstation import Workstation


@contextlib.contextmanager
def lock_switched_off():
    original = lock.take_write_lock
    for module in (lock, audit_log, paper_store):
        module.take_write_lock = lambda connection: None
    try:
        yield
    finally:
        for module in (lock, audit_log, paper_store):
            module.take_write_lock = original


def paper_case(ws, events: int) -> float:
    name = f"bench {uuid.uuid4().hex[:8]}"
    config = SessionConfig(
        sleeves=(SleeveConfig(key="sma", strategy="sma_crossover", params={"fast": 2, "slow": 5}),),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=events),
        cash=1_000_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
    )
    ws.paper.create(name, config)
    worker = ws.paper.worker(name)
    t0 = time.perf_counter()
    worker.run()
    return events / (time.perf_counter() - t0)


def trade_case(ws, trades: int) -> float:
    name = f"bench {uuid.uuid4().hex[:8]}"
    ws.portfolios.create(name, 1_000_000.0)
    t0 = time.perf_counter()
    for i in range(trades):
        ws.portfolios.trade(name, "AAPL", "buy" if i % 2 == 0 else "sell", 1, 100.0)
    return trades / (time.perf_counter() - t0)


def measure(ws, case, size: int, rounds: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(rounds):
        figures["on"].append(case(ws, size))
        with lock_switched_off():
            figures["off"].append(case(ws, size))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--trades", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workstation.open(args.db or f"sqlite:///{tmp}/bench.db", seed_demo=False)
        print(f"backend: {ws.engine.dialect.name}, {args.rounds} rounds each")
        print("| case | lock on: best (median) | lock off: best (median) | cost |")
        print("|---|---|---|---|")
        cases = (
            (f"paper worker SMA 2/5, {args.events:,} events", paper_case, args.events, "ev/s"),
            (f"manual trades, {args.trades}", trade_case, args.trades, "trades/s"),
        )
        for label, case, size, unit in cases:
            f = measure(ws, case, size, args.rounds)
            on, off = max(f["on"]), max(f["off"])
            print(
                f"| {label} | **{on:,.0f}** ({statistics.median(f['on']):,.0f}) {unit} | "
                f"{off:,.0f} ({statistics.median(f['off']):,.0f}) {unit} | "
                f"{(off - on) / off:+.1%} |"
            )
        ws.close()


if __name__ == "__main__":
    main()
