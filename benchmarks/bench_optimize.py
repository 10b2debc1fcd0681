"""Optimization benchmark: 10,000 Metropolis–Hastings iterations of an SMA crossover Sharpe
objective on the bundled SPX series 1999–2018 (target < 10 s), serially and with the chains
on a local process pool (two processes: this machine's cores). Both runs give the same chains.

Run from the repository root:  python benchmarks/bench_optimize.py
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig
from core.optimize import BacktestEvaluator, Objective, SearchSpace, metropolis_hastings
from core.optimize._executor import ProcessExecutor
from core.strategies import get_strategy
from core.workstation import Workstation


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workstation.open(f"sqlite:///{tmp}/bench.db", seed_demo=False)
        config = BacktestConfig(
            strategy="sma_crossover",
            symbols=("SPX",),
            execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
        )
        evaluator = BacktestEvaluator.from_service(ws.backtests, config, vectorized=True)
        space = SearchSpace.from_params(
            get_strategy("sma_crossover").Params,
            overrides={"fast": (5, 50, 1), "slow": (20, 200, 1), "long_short": (0, 0)},
        )
        print("| what | figure |\n| --- | --- |")
        runs = {}
        for label, workers in (("serial", 1), ("2 processes", ProcessExecutor(2))):
            start = time.perf_counter()
            result = metropolis_hastings(
                space,
                evaluator,
                objective=Objective(metric="sharpe"),
                n_iter=2500,
                burn_in=500,
                n_chains=4,
                temperature=0.05,
                seed=0,
                workers=workers,
            )
            elapsed = time.perf_counter() - start
            if callable(workers):
                workers.close()
            runs[label] = result
            print(
                f"| MCMC, 4 chains × 2,500 iterations (10,000), SMA crossover Sharpe on SPX "
                f"1999–2018, {label} | {elapsed:.1f} s; {result.n_trials:,} distinct backtests; "
                f"acceptance {result.acceptance.mean():.2f} |"
            )
        same = np.array_equal(runs["serial"].chains, runs["2 processes"].chains)
        print(f"\nsame chains serial and parallel: {same}")
        ws.close()


if __name__ == "__main__":
    main()
