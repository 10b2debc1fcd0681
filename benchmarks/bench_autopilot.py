"""Autopilot: one run's time and the historical simulation on the bundled universe.

Usage: ``python benchmarks/bench_autopilot.py [START END] [--ml]`` (default 2010-01-04 ..
2022-12-28, mock). Prints the time of one dry run and of the simulation, then the metrics of
the autopilot, the equal-weight loop (same costs, limits and cadence) and the index.
``--ml`` runs the ML/RL variant through the workstation's model resolver (models must be in
the registry, or a trainer wired).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

from core.workstation import Workstation


def main(argv: list[str]) -> None:
    ml = "--ml" in argv
    args = [a for a in argv if not a.startswith("--")]
    start, end = (args + ["2010-01-04", "2022-12-28"][len(args) :])[:2]
    folder = tempfile.mkdtemp()
    ws = Workstation.open(f"sqlite:///{folder}/bench.db", seed_demo=False)
    ws.portfolios.create("bench", 100_000.0)
    began = time.perf_counter()
    ws.autopilot.run("bench", "dry-run", end)
    run_s = time.perf_counter() - began
    began = time.perf_counter()
    result = ws.autopilot.backtest(start, end, mock=not ml)
    sim_s = time.perf_counter() - began
    rows = {"autopilot" + ("" if ml else " (mock)"): result["metrics"], **result["baselines"]}
    keys = ("total_return", "cagr", "volatility", "sharpe", "max_drawdown", "costs", "n_fallbacks")
    span = f"{start}..{end}"
    print(f"one dry run: {run_s:.2f} s; simulation {span} (autopilot, equal weight): {sim_s:.1f} s")
    for name, m in rows.items():
        print(name, json.dumps({k: round(m.get(k, 0), 4) for k in keys}))
    print("strategies:", result["metrics"]["strategies"])
    ws.close()


if __name__ == "__main__":
    main(sys.argv[1:])
