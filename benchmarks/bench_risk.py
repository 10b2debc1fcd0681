"""Risk benchmarks: pre-trade check latency, the drawdown controller, VaR and the report.

Run from the repository root:  python benchmarks/bench_risk.py [repeats]
Prints markdown rows. Pre-trade latency is per order on a 50-position portfolio with every
rule configured (trading hours included); the target is under 100 µs per order so the
paper engine can check every order inline.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime

import numpy as np

from core.risk import (
    DrawdownController,
    OrderIntent,
    PortfolioState,
    RiskLimits,
    check_order,
    drawdown_series,
    var_cvar,
)


def best_of(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def state(n_positions: int) -> PortfolioState:
    symbols = [f"S{i:03d}" for i in range(n_positions)]
    return PortfolioState(
        equity=10_000_000.0,
        cash=1_000_000.0,
        positions=dict.fromkeys(symbols, 1000.0),
        prices=dict.fromkeys(symbols, 100.0),
        peak_equity=10_500_000.0,
        day_start_equity=10_100_000.0,
        day_turnover=500_000.0,
        adv=dict.fromkeys(symbols, 2_000_000.0),
        asset_class=dict.fromkeys(symbols, "stock"),
        now=datetime(2024, 1, 3, 11, 0),
    )


def check_latency(n_positions: int, repeats: int) -> float:
    """Seconds per ``check_order`` call: mean over 2,000 calls, best of ``repeats``."""
    st = state(n_positions)
    limits = RiskLimits(min_adv=100_000, trading_hours={"stock": "09:30-16:00"})
    intent = OrderIntent("S001", "buy", 10, 100.0)
    calls = 2000
    return best_of(lambda: [check_order(intent, st, limits) for _ in range(calls)], repeats) / calls


def main(repeats: int = 3) -> None:
    rows = []
    for n in (10, 50, 200):
        t = check_latency(n, max(repeats, 5))
        rows.append(
            (f"check_order, {n} positions, all 9 rules (target < 100 µs)", f"{t * 1e6:.0f} µs")
        )
    controller, equity = DrawdownController(), np.random.default_rng(0).lognormal(0, 0.01, 100_000)
    t = best_of(lambda: [controller.update(x) for x in equity], repeats)
    rows.append(("DrawdownController.update, per call", f"{t / equity.size * 1e6:.2f} µs"))
    t = best_of(lambda: drawdown_series(equity), repeats)
    rows.append(("drawdown_series, 100,000 points", f"{t * 1e3:.1f} ms"))
    returns = np.random.default_rng(1).standard_t(4, 2520) * 0.01
    for method in ("historical", "normal", "student_t", "monte_carlo"):
        t = best_of(lambda m=method: var_cvar(returns, 0.99, 1, m), repeats)
        rows.append((f"VaR/CVaR 99 %, {method}, 2,520 returns", f"{t * 1e3:.2f} ms"))
    with tempfile.TemporaryDirectory() as tmp:
        from core.demo import DEMO_NAME
        from core.risk import portfolio_risk
        from core.workstation import Workstation

        ws = Workstation.open(f"sqlite:///{tmp}/bench.db", seed_demo=True)
        t = best_of(lambda: portfolio_risk(ws, DEMO_NAME), repeats)
        ws.close()
    rows.append(("portfolio_risk on the demo (8 VaR figures, stress, limits)", f"{t:.2f} s"))
    print("| what | figure |\n| --- | --- |")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
