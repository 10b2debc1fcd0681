"""Foundation benchmarks: ledger writes, reads, imports, data generation.

Run from the repository root:  python benchmarks/bench_foundation.py
Prints a markdown table; figures are recorded in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from core.marketdata import SyntheticMarket, preset, read_bars_file
from core.marketdata._bundled import _read as _read_file
from core.workstation import Workstation

SYMBOLS = ["AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO",
           "LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM"]  # fmt: skip


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_trades(ws: Workstation, n: int) -> tuple[float, float, float]:
    """Book n fills (each its own committed transaction); return rate, p50, p99 in ms."""
    ws.portfolios.create("bench", 1e12, allow_short=True)
    rng = np.random.default_rng(0)
    t0 = datetime(2022, 1, 3, 10)
    latencies = []
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        side = "buy" if rng.random() < 0.6 else "sell"
        start = time.perf_counter()
        ws.portfolios.trade("bench", symbol, side, 10, 100.0 + i % 7, commission=1.0,
                            ts=t0 + timedelta(seconds=i), snapshot=False)  # fmt: skip
        latencies.append(time.perf_counter() - start)
    total = sum(latencies)
    ms = sorted(x * 1e3 for x in latencies)
    return n / total, statistics.median(ms), ms[int(0.99 * (len(ms) - 1))]


def bench_reads(ws: Workstation) -> float:
    def refresh():
        ws.portfolios.summary("bench")
        ws.portfolios.positions("bench")
        ws.portfolios.trades("bench")

    return timed(refresh, repeat=5)


def synthetic_csv(rows: int) -> bytes:
    bars = SyntheticMarket(preset("crypto"), seed=1).bars("2020-01-01", rows, "1min")
    buffer = io.StringIO()
    bars.to_csv(buffer, index_label="Date")
    return buffer.getvalue().encode()


def main() -> None:
    n_fills = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workstation.open(f"sqlite:///{Path(tmp) / 'bench.db'}", seed_demo=False)
        rate, p50, p99 = bench_trades(ws, n_fills)
        rows.append((f"book {n_fills:,} fills (SQLite file, one commit each)",
                     f"{rate:,.0f} fills/s; p50 {p50:.2f} ms, p99 {p99:.2f} ms"))  # fmt: skip
        read = bench_reads(ws)
        rows.append((f"summary + positions + trades, 20 positions, {n_fills:,} fills",
                     f"{read * 1e3:.0f} ms"))  # fmt: skip
        raw = synthetic_csv(100_000)
        parse = timed(lambda: read_bars_file(raw, filename="bars.csv"), repeat=3)
        rows.append(("validate a 100,000-row OHLCV CSV", f"{parse * 1e3:.0f} ms"))
        bars = read_bars_file(raw, filename="bars.csv")
        store = timed(lambda: ws.market.import_bars("SYN", bars, replace=True))
        rows.append(("store 100,000 bars in the database", f"{store * 1e3:.0f} ms"))
        ws.close()
    _read_file.cache_clear()
    cold = timed(lambda: _read_file("sp500_stocks_close.csv.gz"))
    rows.append(("cold read of the 20-stock close file (8,313 rows)", f"{cold * 1e3:.0f} ms"))
    market = SyntheticMarket(preset("crypto"), seed=3)
    ticks = timed(lambda: market.ticks("2024-01-01", 1_000_000), repeat=3)
    rows.append(("generate 1,000,000 synthetic ticks", f"{ticks * 1e3:.0f} ms"))
    print("| what | figure |\n| --- | --- |")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
