"""Large lab imports: a seeded, valid document with many trades, imported into a fresh database.

Run from the repository root:  python benchmarks/bench_import.py [N_TRADES] [--seed S] [--profile]
Prints a markdown table; figures are recorded in docs/BENCHMARKS.md.

The document holds ``N_TRADES`` trades (default 100,000) on the 20 bundled stocks, spread
over 2015-2022 trading days at bundled closes, plus a few cash movements; its stated cash,
positions, realized P&L and totals come from replaying the trades on the ledger, so import
accepts it. The timed part is ``Workstation.import_portfolio(bytes)``: parse, validate,
replay, write every row and rebuild the equity curve, all in one transaction.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from core.db import EquitySnapshotRow, FillRow
from core.instruments import bundled_instruments
from core.marketdata._bundled import bundled_close
from core.portfolio import Fill, LabPortfolio, Ledger, Side
from core.workstation import Workstation

SYMBOLS = ["AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO",
           "LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM"]  # fmt: skip
START, END = "2015-01-02", "2022-12-28"


def make_document(n_trades: int, seed: int = 0) -> bytes:
    """A lab JSON document with ``n_trades`` trades whose stated figures replay exactly."""
    rng = np.random.default_rng(seed)
    closes = {s: bundled_close(s).loc[START:END] for s in SYMBOLS}
    days = closes[SYMBOLS[0]].index
    defined = {i.symbol: i for i in bundled_instruments() if i.symbol in SYMBOLS}
    ledger = Ledger(1e9, allow_short=False, allow_margin=False)
    trades, moves = [], []
    per_day = max(1, -(-n_trades // len(days)))
    for i in range(n_trades):
        day = days[min(i // per_day, len(days) - 1)]
        ts = day.to_pydatetime() + timedelta(hours=10, seconds=i % per_day)
        symbol = SYMBOLS[int(rng.integers(len(SYMBOLS)))]
        price = round(float(closes[symbol].loc[day]), 2)
        held = ledger.quantity(symbol)
        side = Side.SELL if held >= 10 and rng.random() < 0.45 else Side.BUY
        quantity = float(rng.integers(1, 10 if side is Side.SELL else 20))
        fill = Fill(symbol, side, quantity, price, 1.0, 0.05, ts)
        realized = ledger.apply_fill(fill, defined[symbol])
        trades.append(
            {
                "fill_id": f"F-{i:07d}",
                "ts": ts.isoformat(),
                "symbol": symbol,
                "side": str(side),
                "quantity": quantity,
                "price": price,
                "commission": 1.0,
                "fees": 0.05,
            }
        )
        del realized
        if i % 25_000 == 24_999:
            ledger.apply_cash(-1_000.0)
            moves.append(
                {
                    "ts": (ts + timedelta(seconds=1)).isoformat(),
                    "amount": -1_000.0,
                    "kind": "withdrawal",
                }
            )
    document = {
        "name": f"bench-{n_trades}",
        "starting_cash": 1e9,
        "cash": ledger.cash,
        "created_at": datetime(2015, 1, 1).isoformat(),
        "instruments": [defined[s].model_dump(mode="json") for s in sorted(defined)],
        "positions": [
            {
                "symbol": p.symbol,
                "quantity": p.quantity,
                "avg_cost": p.avg_cost,
                "realized_pnl": p.realized_pnl,
            }
            for p in sorted(ledger.positions.values(), key=lambda p: p.symbol)
        ],
        "totals": {
            "commissions": ledger.commissions,
            "fees": ledger.fees,
            "net_deposits": ledger.net_deposits,
        },
        "trades": trades,
        "cash_movements": moves,
    }
    LabPortfolio.model_validate(document)  # the generator itself must produce a valid document
    return json.dumps(document).encode()


def run(n_trades: int, seed: int, profile: bool) -> None:
    started = time.perf_counter()
    raw = make_document(n_trades, seed)
    made = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        ws = Workstation.open(f"sqlite:///{Path(folder) / 'bench.db'}", seed_demo=False)
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        ws.import_portfolio(raw)
        if profiler:
            profiler.disable()
        took = time.perf_counter() - start
        with ws.sessions() as session:
            fills = session.scalar(select(func.count()).select_from(FillRow))
            snapshots = session.scalar(select(func.count()).select_from(EquitySnapshotRow))
        ws.close()
    print("| what | figure |\n| --- | --- |")
    print(
        f"| make the document ({n_trades:,} trades, {len(raw) / 1e6:.1f} MB, seed {seed}) "
        f"| {made:.2f} s |"
    )
    print(
        f"| import it (parse, check, replay, write, equity curve) | **{took:.2f} s** "
        f"({n_trades / took:,.0f} trades/s) |"
    )
    print(f"| rows written | {fills:,} fills, {snapshots:,} equity snapshots |")
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_trades", nargs="?", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="cProfile of the import on stderr")
    args = parser.parse_args()
    run(args.n_trades, args.seed, args.profile)


if __name__ == "__main__":
    main()
