"""Paper-trading benchmarks (issue 5).

    python benchmarks/bench_paper.py                 # both parts
    python benchmarks/bench_paper.py --part worker --events 50000
    python benchmarks/bench_paper.py --part console

1. Worker throughput: one instrument, the synthetic equity tick feed as fast as possible,
   SMA crossover 5/20 (and 2/5, which trades about three times as often), commission
   0.05 %, regimes filtered on every tick. Every fill is committed in its own transaction
   with its order, position, cash and audit event; events without fills are committed in
   batches (every 500 events or 0.2 s). Timed: ``PaperWorker.run`` (the process start-up
   and the feed's generation are left out). Event-to-commit latency: from the start of an
   event's processing to the end of the commit that made it durable, over every event and
   over the events that filled.
2. Console read: 20 bundled stocks replayed 2000–2022 with the rebalancer every 5 bars
   (>10,000 fills), then ``PaperService.snapshot`` (positions, last fills, open orders,
   sampled equity and prices, fill markers, alerts, commands, per-strategy table) timed
   over 30 reads on a warm connection.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time

import numpy as np

from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.workstation import Workstation


def _worker_case(ws, name: str, fast: int, slow: int, events: int) -> dict:
    config = SessionConfig(
        sleeves=(
            SleeveConfig(key="sma", strategy="sma_crossover", params={"fast": fast, "slow": slow}),
        ),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=events),
        cash=1_000_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
    )
    ws.paper.create(name, config)
    worker = ws.paper.worker(name)
    started: dict[int, float] = {}
    latency: list[float] = []
    filled: set[int] = set()
    process, commit = worker._process, worker.writer.commit

    def timed_process(event):
        started[event.seq] = time.perf_counter()
        before = worker.n_fills
        process(event)
        if worker.n_fills > before:
            filled.add(event.seq)

    def timed_commit(pending, *args, **kwargs):
        seqs = [row["seq"] for row in pending.equity]
        commit(pending, *args, **kwargs)
        end = time.perf_counter()
        for seq in seqs:
            latency.append((seq, end - started.pop(seq)))

    worker._process, worker.writer.commit = timed_process, timed_commit
    t0 = time.perf_counter()
    worker.run()
    elapsed = time.perf_counter() - t0
    all_ms = np.array([x for _, x in latency]) * 1e3
    fill_ms = np.array([x for s, x in latency if s in filled]) * 1e3
    return {
        "case": f"SMA {fast}/{slow}",
        "events": events,
        "fills": worker.n_fills,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "p50_all": float(np.percentile(all_ms, 50)),
        "p99_all": float(np.percentile(all_ms, 99)),
        "p50_fill": float(np.percentile(fill_ms, 50)),
        "p99_fill": float(np.percentile(fill_ms, 99)),
    }


def worker_part(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workstation.open(f"sqlite:///{tmp}/bench.db", seed_demo=False)
        print(
            "| case | events | fills | events/s | event→commit p50 / p99 (all) "
            "| p50 / p99 (events with a fill) |"
        )
        print("|---|---|---|---|---|---|")
        for fast, slow in ((5, 20), (2, 5)):
            r = _worker_case(ws, f"bench {fast}-{slow}", fast, slow, events)
            print(
                f"| {r['case']} | {r['events']:,} | {r['fills']:,} | "
                f"**{r['events_per_s']:,.0f}** ({r['seconds']:.1f} s) | "
                f"{r['p50_all']:.1f} / {r['p99_all']:.1f} ms | "
                f"{r['p50_fill']:.2f} / {r['p99_fill']:.2f} ms |"
            )
        ws.close()


def console_part() -> None:
    from core.marketdata import BUNDLED_SYMBOLS

    stocks = tuple(s for s in BUNDLED_SYMBOLS if s not in ("SP500", "SPX", "IXIC"))[:20]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workstation.open(f"sqlite:///{tmp}/console.db", seed_demo=False)
        config = SessionConfig(
            sleeves=(SleeveConfig(key="rebalance", strategy="rebalancer", params={"every": 5}),),
            feed=FeedConfig(kind="replay", symbols=stocks, start="2000-01-01", end="2022-12-31"),
            cash=10_000_000,
            execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
        )
        ws.paper.create("console", config)
        t0 = time.perf_counter()
        ws.paper.worker("console").run()
        build = time.perf_counter() - t0
        status = ws.paper.status("console")
        ws.paper.snapshot("console")  # warm the connection pool
        times = []
        for _ in range(30):
            t = time.perf_counter()
            snap = ws.paper.snapshot("console")
            times.append(time.perf_counter() - t)
        print(f"| instruments | {len(stocks)} |")
        print(f"| events (daily bars) | {status['events']:,} (replayed in {build:.1f} s) |")
        print(f"| fills in the database | {status['n_fills']:,} |")
        print(f"| positions shown | {len(snap.positions)} |")
        print(
            f"| console snapshot p50 / max of 30 | **{statistics.median(times) * 1e3:.1f} ms**"
            f" / {max(times) * 1e3:.1f} ms |"
        )
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["worker", "console", "all"], default="all")
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    if args.part in ("worker", "all"):
        worker_part(args.events)
    if args.part in ("console", "all"):
        console_part()


if __name__ == "__main__":
    main()
