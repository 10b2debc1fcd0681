"""Optimisation jobs: stored requests, run in-process or by a worker process."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from core._processes import process_alive as worker_alive
from core.backtest import BacktestConfig
from core.optimize import (
    JobStore,
    Objective,
    make_request,
    optuna_storage,
    run_job,
    run_optimization,
    start_worker,
)
from core.strategies import save_strategy_config, strategy_configs

CONFIG = BacktestConfig(
    strategy="sma_crossover", symbols=("SPX",), start="2005-01-03", end="2012-12-31"
)
RANGES = {"fast": (5, 15, 5), "slow": (30, 50, 10), "long_short": (0, 0)}


def tiny_request(**changes):
    options = {"method": "grid", "metric": "sharpe", "ranges": RANGES, "trials": 50, **changes}
    return make_request(CONFIG, **options)


def test_a_job_run_in_process_matches_run_optimization(ws):
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())
    assert store.get(job_id).status == "queued"

    assert run_job(ws.jobs, job_id) == "done"

    job = store.get(job_id)
    direct = run_optimization(
        ws.backtests, CONFIG, method="grid", objective=Objective("sharpe"), ranges=RANGES, trials=50
    )
    assert job.status == "done" and job.finished and job.fraction == 1.0
    assert job.best_params == direct["best_params"]
    assert job.best_score == pytest.approx(direct["best_score"], rel=1e-12)
    assert job.done == direct["n_trials"] == 9
    assert len(job.history) == 9
    assert job.history[-1] == [9, pytest.approx(direct["best_score"], rel=1e-12)]  # [trial, best]
    result = job.result
    assert result["metrics"]["sharpe"] == pytest.approx(direct["metrics"]["sharpe"])
    assert len(result["top_trials"]) == 9
    assert result["top_trials"][0]["score"] == pytest.approx(direct["best_score"])
    assert sorted(result["surface"]["points"])[0][:2] == [5, 30]  # the 3 x 3 grid, for a heatmap
    assert len(result["surface"]["points"]) == 9
    assert [j.id for j in store.list()] == [job_id]


def test_cancel_requested_before_the_start_ends_cancelled(ws):
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())
    assert store.request_cancel(job_id)

    assert run_job(ws.jobs, job_id) == "cancelled"
    job = store.get(job_id)
    assert job.status == "cancelled" and job.best_params is None
    assert not store.request_cancel(job_id)  # finished jobs cannot be cancelled again


def test_cancel_during_the_run_keeps_a_partial_result(ws, monkeypatch):
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())
    original, writes = JobStore.update_progress, []

    def update_then_cancel(self, *args, **kwargs):
        original(self, *args, **kwargs)
        writes.append(args)
        if len(writes) == 3:  # the user presses Cancel after the third progress write
            self.request_cancel(job_id)

    monkeypatch.setattr(JobStore, "update_progress", update_then_cancel)
    # a batched grid reads the cancel flag between batches: one point per batch here
    monkeypatch.setattr("core.optimize._backtest.BATCH_CELLS", 1)
    assert run_job(ws.jobs, job_id, write_every=0.0) == "cancelled"
    job = store.get(job_id)
    assert job.status == "cancelled"
    assert 3 <= job.result["n_trials"] < 9
    assert job.best_params is not None


def test_a_failing_request_ends_failed_with_the_error(ws):
    store = JobStore(ws.sessions)
    request = tiny_request()
    request["config"]["symbols"] = ["NO_SUCH_SYMBOL"]
    job_id = store.submit(request)

    assert run_job(ws.jobs, job_id) == "failed"
    job = store.get(job_id)
    assert job.status == "failed"
    assert "NO_SUCH_SYMBOL" in job.error


def test_bad_requests_are_refused_before_submission():
    with pytest.raises(ValueError, match="unknown method"):
        make_request(CONFIG, method="magic")
    with pytest.raises(ValueError, match="no parameter"):
        make_request(CONFIG, ranges={"nope": (1, 2)})


def test_the_worker_process_runs_a_job_to_completion(ws, db_url, tmp_path):
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())

    pid = start_worker(job_id, db_url, log_dir=tmp_path)
    assert pid > 0
    deadline = time.monotonic() + 60
    while not (job := store.get(job_id)).finished and time.monotonic() < deadline:
        time.sleep(0.25)
    log = (tmp_path / f"optimize-{job_id}.log").read_text()
    assert job.status == "done", log
    assert job.pid == pid
    assert job.best_params["fast"] in (5, 10, 15)


def test_wait_for_worker_returns_once_the_worker_takes_the_job(ws):
    job_id = ws.jobs.submit(tiny_request())
    now, sleeps = [0.0], []

    def sleep(seconds):  # the worker takes the job during the second wait
        sleeps.append(seconds)
        now[0] += seconds
        if len(sleeps) == 2:
            ws.jobs.store.start(job_id, __import__("os").getpid())

    status = ws.jobs.wait_for_worker(job_id, timeout=3, poll=0.1, sleep=sleep, clock=lambda: now[0])
    assert status == "running" and sleeps == [0.1, 0.1]


def test_wait_for_worker_gives_up_after_its_timeout_and_knows_no_other_job(ws):
    job_id = ws.jobs.submit(tiny_request())
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    clock = lambda: now[0]  # noqa: E731
    assert ws.jobs.wait_for_worker(job_id, timeout=1, poll=0.5, sleep=sleep, clock=clock) == (
        "queued"
    )
    assert now[0] == 1.0
    assert ws.jobs.wait_for_worker("nope", timeout=1, sleep=sleep, clock=clock) is None


def test_the_best_params_save_as_a_strategy_configuration(ws):
    row_id = save_strategy_config(ws.sessions, "SMA best", "sma_crossover", {"fast": 5, "slow": 30})
    saved = strategy_configs(ws.sessions)
    assert [s["id"] for s in saved] == [row_id]
    assert saved[0]["params"] == {"fast": 5, "slow": 30, "long_short": False}
    assert len(saved[0]["config_hash"]) == 64
    with pytest.raises(ValueError, match="already exists"):
        save_strategy_config(ws.sessions, "SMA best", "sma_crossover", {"fast": 5, "slow": 30})
    with pytest.raises(ValueError):
        save_strategy_config(ws.sessions, "bad", "sma_crossover", {"fast": 60, "slow": 30})


def running_job(store, pid):
    job_id = store.submit(tiny_request())
    store.start(job_id, pid)
    return job_id


def test_a_job_whose_worker_process_died_shows_failed(ws):
    store = JobStore(ws.sessions)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # exited and reaped: the pid is gone
    job_id = running_job(store, child.pid)

    job = store.get(job_id)
    assert job.status == "failed" and job.finished
    assert job.error == f"worker died: process {child.pid} is gone"
    assert store.list()[0].status == "failed"


def test_an_exited_unreaped_worker_counts_as_dead_and_a_live_one_as_running(ws):
    store = JobStore(ws.sessions)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while worker_alive(zombie.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # not waited for: it stays a zombie
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead_id, live_id = running_job(store, zombie.pid), running_job(store, live.pid)
        assert store.get(dead_id).status == "failed"
        assert store.get(live_id).status == "running"
    finally:
        live.kill()
        live.wait()
        zombie.wait()
    assert store.get(live_id).status == "failed"


def test_a_running_job_without_a_pid_fails_once_its_heartbeat_is_stale(ws):
    store = JobStore(ws.sessions)
    job_id = running_job(store, None)
    job = store.get(job_id)
    assert not store.reap(job, stale_after=60) and store.get(job_id).status == "running"
    assert store.reap(job, stale_after=0)
    assert store.get(job_id).error.startswith("worker died: no progress for")


def test_a_finished_job_is_never_reaped(ws):
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())
    assert run_job(ws.jobs, job_id) == "done"
    store.set_pid(job_id, 2**22 + 12345)  # a pid that does not exist
    assert store.get(job_id).status == "done"


def test_a_walk_forward_job_stores_windows_and_both_equity_curves(ws):
    store = JobStore(ws.sessions)
    request = tiny_request(walk_forward={"train": 500, "test": 250})
    job_id = store.submit(request)
    assert run_job(ws.jobs, job_id) == "done"
    result = store.get(job_id).result
    assert result["walk_forward"] and result["n_windows"] == len(result["windows"]) >= 4
    assert len(result["equity"]) == len(result["in_sample_equity"]) == len(result["dates"])
    first = result["windows"][0]
    assert (first["train_start"], first["train_stop"], first["test_start"]) == (0, 500, 500)
    assert first["params"]["fast"] in (5, 10, 15)
    assert result["in_sample_params"]["slow"] in (30, 40, 50)


def test_a_bayesian_job_keeps_its_optuna_study_beside_the_database(ws, tmp_path):
    optuna = pytest.importorskip("optuna")
    store = JobStore(ws.sessions)
    job_id = store.submit(
        make_request(CONFIG, method="bayes", metric="sharpe", ranges=RANGES, trials=6)
    )
    assert run_job(ws.jobs, job_id) == "done"
    study = store.get(job_id).result["optuna_study"]
    assert study["stored"]
    storage = optuna_storage(ws.settings.database_url)
    loaded = optuna.load_study(study_name=study["name"], storage=storage)
    assert len(loaded.trials) == 6


def test_a_job_with_fixed_parameters_does_not_search_them(ws):
    store = JobStore(ws.sessions)
    ranges = {"fast": (5, 15, 5), "slow": (30, 50, 10)}
    request = make_request(
        CONFIG, method="grid", ranges=ranges, trials=9, fixed={"long_short": True}
    )
    job_id = store.submit(request)
    assert run_job(ws.jobs, job_id) == "done"
    job = store.get(job_id)
    assert job.done == 9  # 3 × 3, long_short not doubled
    assert job.best_params["long_short"] is True
    assert job.result["searched"] == ["fast", "slow"]
    with pytest.raises(ValueError, match="no parameter fats"):
        make_request(CONFIG, fixed={"fats": 3})


def test_a_grid_job_larger_than_its_trials_fails_with_the_reason(ws):
    store = JobStore(ws.sessions)
    request = make_request(CONFIG, method="grid", ranges=RANGES, trials=4)
    job_id = store.submit(request)
    assert run_job(ws.jobs, job_id) == "failed"
    # 3 fasts × 3 slows (long_short pinned by its 0:0 range)
    assert "the grid has 9 points, more than the 4 trials allowed" in store.get(job_id).error


# -- progress that tells the truth -------------------------------------------------------------
def test_a_grid_job_counts_its_feasible_points_from_the_queue_to_the_end(ws):
    # fast 5, 15, 25, 35 × slow 30, 40, 50 = 12 points; fast 35 ≥ slow 30 is infeasible: 11
    ranges = {"fast": (5, 35, 10), "slow": (30, 50, 10), "long_short": (0, 0)}
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request(ranges=ranges, trials=100))
    queued = store.get(job_id)
    assert (queued.done, queued.total) == (0, 11)  # not "0 of 100" (the trials allowed)
    assert queued.progress_text == "0 of 11 evaluations (0%)"

    assert run_job(ws.jobs, job_id) == "done"
    job = store.get(job_id)
    assert (job.done, job.total) == (11, 11)
    assert job.progress_text == "11 of 11 evaluations (100%)"
    assert job.history[-1][0] == 12  # the chart's x runs over every grid point


def test_a_random_job_counts_distinct_points_and_says_so(ws):
    # 3 fast × 2 slow = 6 points, all feasible; 50 draws with seed 0 hit every one of them
    ranges = {"fast": (5, 15, 5), "slow": (30, 40, 10), "long_short": (0, 0)}
    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request(method="random", ranges=ranges, trials=50, seed=0))
    queued = store.get(job_id)
    assert (queued.done, queued.total) == (0, 6)
    assert queued.progress_text == "0 of 6 distinct points (0%); 44 of 50 draws were repeats"

    assert run_job(ws.jobs, job_id) == "done"
    job = store.get(job_id)
    assert job.result["n_rows"] == 6  # a second count: the trials table has one row per point
    assert (job.done, job.total) == (6, 6)
    assert job.progress_text == "6 of 6 distinct points (100%); 44 of 50 draws were repeats"


def test_planned_totals_of_mcmc_and_of_jobs_counted_by_the_worker():
    from core.optimize.jobs._progress import planned_total

    base = {"config": {"strategy": "sma_crossover"}, "ranges": RANGES}
    assert planned_total({**base, "method": "mcmc", "trials": 203}) == 50 * 4  # 4 chains × 50
    assert planned_total({**base, "method": "mcmc", "trials": 10}) == 20 * 4  # at least 20 each
    assert planned_total({**base, "method": "de", "trials": 200}) is None  # may stop early
    assert planned_total({**base, "method": "grid", "trials": 8}) is None  # 9 > 8: refused later
    assert planned_total({**base, "method": "grid", "walk_forward": {"train": 9}}) is None


def test_the_stored_convergence_history_spans_every_trial(ws):
    import pandas as pd

    from core.optimize.jobs._store import HISTORY_CAP

    store = JobStore(ws.sessions)
    job_id = store.submit(tiny_request())
    n = 1372  # more than the cap: thinned, but the last point is still trial 1372
    history = pd.DataFrame(
        {"trial": range(n), "score": 0.0, "best_score": [i / n for i in range(n)]}
    )
    store.finish(job_id, {"method": "random", "n_trials": n, "history": history})
    job = store.get(job_id)
    assert len(job.history) == HISTORY_CAP
    assert job.history[0] == [1, 0.0] and job.history[-1] == [n, (n - 1) / n]
    assert (job.done, job.total) == (n, n)
