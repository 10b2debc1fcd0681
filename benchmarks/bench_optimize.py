"""Optimization benchmark: 10,000 Metropolis–Hastings iterations of an SMA crossover Sharpe
objective on the bundled SPX series 1999–2018 (target < 10 s).

Run from the repository root:  python benchmarks/bench_optimize.py
"""

from __future__ import annotations

import tempfile
import time

from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig
from core.optimize import BacktestEvaluator, Objective, SearchSpace, metropolis_hastings
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
        )
        elapsed = time.perf_counter() - start
        print("| what | figure |\n| --- | --- |")
        print(
            f"| MCMC, 4 chains × 2,500 iterations (10,000), SMA crossover Sharpe on SPX 1999–2018 "
            f"| {elapsed:.1f} s; {result.n_trials:,} distinct backtests; acceptance "
            f"{result.acceptance.mean():.2f} |"
        )
        ws.close()


if __name__ == "__main__":
    main()
