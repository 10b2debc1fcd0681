"""Parallel evaluation: a local process pool and a local Dask cluster give the serial
results (MCMC chains, grid scores, a whole optimisation run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig
from core.optimize import Objective, SearchSpace, grid_search, metropolis_hastings, run_optimization
from core.optimize._executor import DaskExecutor, Executor, ProcessExecutor, make_executor
from core.strategies import get_strategy

SPACE = SearchSpace.from_params(
    get_strategy("sma_crossover").Params,
    overrides={"fast": (2, 30, 1), "slow": (10, 80, 1), "long_short": (0, 0)},
)


def bumpy(params: dict) -> float:
    """A score with a ridge at slow = 3 × fast (module level: picklable)."""
    fast, slow = params["fast"], params["slow"]
    return -abs(slow - 3 * fast) / 10 - ((fast - 12) / 8) ** 2


def sampled(workers) -> object:
    return metropolis_hastings(
        SPACE, bumpy, n_iter=300, burn_in=100, n_chains=4, temperature=0.3, seed=5, workers=workers
    )


def same_trials(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["fast", "slow"]
    left = a.drop(columns="trial").sort_values(key, ignore_index=True)
    right = b.drop(columns="trial").sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(left, right)


@pytest.fixture(scope="module")
def serial():
    return sampled(1)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_mcmc_chains_on_a_process_pool_equal_the_serial_chains(serial):
    with ProcessExecutor(2) as pool:
        parallel = sampled(pool)
    np.testing.assert_array_equal(parallel.chains, serial.chains)
    np.testing.assert_array_equal(parallel.accepted, serial.accepted)
    np.testing.assert_array_equal(parallel.scales, serial.scales)
    assert parallel.n_trials == serial.n_trials > 50
    assert parallel.best_score == serial.best_score
    same_trials(parallel.trials, serial.trials)
    pd.testing.assert_frame_equal(parallel.summary, serial.summary)


def test_a_process_count_starts_and_stops_its_own_pool(serial):
    parallel = sampled(2)
    np.testing.assert_array_equal(parallel.chains, serial.chains)


def test_mcmc_on_a_local_dask_cluster_equals_the_serial_run(serial, dask_client):
    executor = DaskExecutor(client=dask_client)
    assert executor.n_workers == 2
    parallel = sampled(executor)
    np.testing.assert_array_equal(parallel.chains, serial.chains)
    same_trials(parallel.trials, serial.trials)


def test_grid_scores_on_dask_equal_the_serial_scores(dask_client):
    serial = grid_search(SPACE, bumpy, max_points=5000)
    parallel = grid_search(SPACE, bumpy, max_points=5000, workers=DaskExecutor(client=dask_client))
    same_trials(parallel.trials, serial.trials)  # infeasible points are recorded first
    assert (
        parallel.best_params == serial.best_params == {"fast": 12, "slow": 36, "long_short": False}
    )


def test_an_optimisation_given_a_scheduler_address_runs_there_and_matches(ws, dask_client):
    config = BacktestConfig(
        strategy="sma_crossover",
        symbols=("SPX",),
        execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
    )
    options = {
        "method": "random",
        "objective": Objective(metric="sharpe"),
        "ranges": {"fast": (5, 40, 5), "slow": (50, 200, 25), "long_short": (0, 0)},
        "trials": 30,
        "seed": 3,
    }
    address = dask_client.scheduler.address
    on_dask = run_optimization(ws.backtests, config, scheduler=address, **options)
    serial = run_optimization(ws.backtests, config, workers=1, **options)
    assert on_dask["executor"].startswith(f"Dask cluster at {address}")
    assert serial["executor"] == "batched (this process)"  # the SMA crossover: in batches
    assert on_dask["best_params"] == serial["best_params"]
    assert on_dask["best_score"] == serial["best_score"]
    same_trials(on_dask["trials"], serial["trials"])


def test_make_executor_picks_the_pool_or_the_cluster(dask_client):
    assert type(make_executor(1)) is Executor
    pool = make_executor()
    assert isinstance(pool, ProcessExecutor) and pool.n_workers >= 1
    assert pool.map(abs, [-1, 2, -3]) == [1, 2, 3]
    pool.close()
    with make_executor(scheduler=dask_client.scheduler.address) as remote:
        assert isinstance(remote, DaskExecutor)
        assert remote.map(abs, [-4, 5]) == [4, 5]
