"""Grid throughput benchmark (issue 10): the full SMA crossover grid end to end through the
command line (target < 5 s), and evaluations per second with and without a fast path.

Run from the repository root:

    python benchmarks/bench_optimize_grid.py              # everything, 3 end-to-end runs
    python benchmarks/bench_optimize_grid.py --runs 1 --part rate

1. End to end: ``python -m core optimize --strategy sma_crossover --symbol SPX --method grid
   --range fast=5:50:1 --range slow=20:200:1 --trials 16652 --json`` (fast 5–50 × slow 20–200
   × long_short, 16,652 grid points of which 15,660 feasible, on SPX 1999–2018, 5,031 bars),
   timed from process start to the JSON on stdout (data load, every evaluation, deflated
   Sharpe, PBO, output), on a fresh database; wall and CPU seconds of the child. The same
   with ``--param long_short=false`` (8,326 points, 7,830 feasible). For scale: the time of
   ``python -c "import core.cli"`` (interpreter start and imports alone).
2. Evaluations per second, in this process after a warm-up, each point a full set of
   metrics (``compute_metrics``' keys) of a 5,031-bar backtest:

   * SMA crossover, batched (``BacktestEvaluator.evaluate_batch``, the path a grid takes);
   * SMA crossover, one point at a time through the fast simulator (MCMC's path);
   * SMA crossover, through the broker on the vectorized path (``fast=False``);
   * Donchian breakout (no fast path: its signals come from its incremental indicators),
     a grid search serially and on a pool of 2 processes, through ``run_optimization``
     (so with the report's deflated Sharpe and PBO), and single runs on the event engine.
3. Parity: on 12 sampled grid points the batched metrics against the event engine's
   (largest relative difference over every metric).

Prints markdown rows; figures are recorded in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from core.backtest import BacktestConfig
from core.optimize import BacktestEvaluator, Objective, run_optimization
from core.workstation import Workstation

GRID = ["--range", "fast=5:50:1", "--range", "slow=20:200:1"]
COMMAND = ["optimize", "--strategy", "sma_crossover", "--symbol", "SPX", "--method", "grid"]


def child_seconds(argv: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of a child process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def end_to_end(runs: int) -> None:
    print("| end to end | wall (s) | CPU (s) | search (s) | feasible points | best |")
    print("| --- | --- | --- | --- | --- | --- |")
    walls = [child_seconds([sys.executable, "-c", "import core.cli"])[:2] for _ in range(runs)]
    print(f"| `import core.cli` | {_spread([w for w, _ in walls])} | ", end="")
    print(f"{_spread([c for _, c in walls])} | – | – | – |")
    fixed = ["--param", "long_short=false", "--trials", "8326"]
    cases = [
        ("full grid, `--trials 16652`", [*GRID, "--trials", "16652"]),
        ("`--param long_short=false`, `--trials 8326`", [*GRID, *fixed]),
    ]
    for label, extra in cases:
        walls, cpus, report = [], [], {}
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                argv = [sys.executable, "-m", "core", "--db", f"sqlite:///{tmp}/e2e.db"]
                wall, cpu, out = child_seconds([*argv, *COMMAND, *extra, "--json"])
            walls.append(wall)
            cpus.append(cpu)
            report = json.loads(out)
        best = report["best_params"]
        print(
            f"| {label} | {_spread(walls)} | {_spread(cpus)} | "
            f"{report['elapsed_seconds']:.2f} | {report['n_trials']:,} | "
            f"{best['fast']}/{best['slow']} sharpe {report['best_score']:.4f} |"
        )


def rates(ws: Workstation) -> None:
    config = BacktestConfig(strategy="sma_crossover", symbols=("SPX",))
    batched = BacktestEvaluator.from_service(ws.backtests, config)
    grid = [
        {"fast": f, "slow": s, "long_short": ls}
        for f in range(5, 51)
        for s in range(20, 201)
        for ls in (False, True)
        if f < s
    ]
    batched.evaluate_batch(grid[:100])  # warm-up: moving averages, imports
    print("\n| evaluations | points | seconds | evaluations/s |\n| --- | --- | --- | --- |")
    seconds = _timed(lambda: batched.evaluate_batch(grid))
    _rate("SMA crossover, batched (grid)", len(grid), seconds)
    sample = [grid[i] for i in np.random.default_rng(0).choice(len(grid), 1000, replace=False)]
    one = _timed(lambda: _each(batched, sample))
    _rate("SMA crossover, one at a time (fast simulator)", 1000, one)
    broker = BacktestEvaluator.from_service(ws.backtests, config, fast=False)
    _rate(
        "SMA crossover, vectorized path (broker)", 100, _timed(lambda: _each(broker, sample[:100]))
    )
    event = BacktestEvaluator.from_service(ws.backtests, config, vectorized=False)
    _rate("SMA crossover, event engine", 20, _timed(lambda: _each(event, sample[:20])))
    donchian = BacktestConfig(strategy="donchian", symbols=("SPX",))
    ranges = {"entry": (10, 100, 10), "exit": (5, 50, 5), "long_short": (0, 0)}
    for workers in (1, 2):
        report = run_optimization(
            ws.backtests,
            donchian,
            method="grid",
            objective=Objective(metric="sharpe"),
            ranges=ranges,
            trials=1000,
            workers=workers,
        )
        n, search = report["n_trials"], report["elapsed_seconds"]
        label = f"Donchian, grid search, {'serial' if workers == 1 else '2 processes'}"
        print(f"| {label} | {n} | {search:.2f} | {n / search:.1f} |")
    event = BacktestEvaluator.from_service(ws.backtests, donchian, vectorized=False)
    points = [{"entry": e, "exit": 10} for e in (20, 40, 60, 80, 100)]
    _rate("Donchian, event engine, one at a time", 5, _timed(lambda: _each(event, points)))
    parity(batched, event_of(ws, config), grid)


def event_of(ws, config) -> BacktestEvaluator:
    return BacktestEvaluator.from_service(ws.backtests, config, vectorized=False)


def parity(batched: BacktestEvaluator, event: BacktestEvaluator, grid: list[dict]) -> None:
    picks = [grid[i] for i in np.random.default_rng(1).choice(len(grid), 12, replace=False)]
    worst = 0.0
    for params, got in zip(picks, batched.evaluate_batch(picks), strict=True):
        for key, want in event(params).items():
            value = got[key]
            if want == value or (math.isnan(want) and math.isnan(value)):
                continue
            worst = max(worst, abs(value - want) / max(abs(want), 1e-300))
    print(f"\nbatched vs event engine, 12 sampled grid points: largest relative gap {worst:.1e}")


def _each(evaluator, points) -> None:
    for p in points:
        evaluator(p)


def _timed(job) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def _rate(label: str, n: int, seconds: float) -> None:
    print(f"| {label} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} |")


def _spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="end-to-end runs per case")
    parser.add_argument("--part", choices=["all", "e2e", "rate"], default="all")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    if args.part in ("all", "e2e"):
        end_to_end(args.runs)
    if args.part in ("all", "rate"):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Workstation.open(f"sqlite:///{tmp}/bench.db", seed_demo=False)
            rates(ws)
            ws.close()


if __name__ == "__main__":
    main()
