"""Typed job requests (a union told apart by method), job states as an enum, ``ws.jobs``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from core.backtest import BacktestConfig
from core.optimize import JobService, JobStatus, make_allocation_request, make_request, run_job
from core.optimize.jobs import (
    AllocationRequest,
    BayesRequest,
    DERequest,
    GridRequest,
    InvalidRequest,
    JobRunner,
    MCMCRequest,
    RandomRequest,
    parse_request,
)

CONFIG = BacktestConfig(strategy="sma_crossover", symbols=("SPX",), start="2010-01-04")
RANGES = {"fast": (5, 15, 5), "slow": (30, 50, 10), "long_short": (0, 0)}


@pytest.mark.parametrize(
    ("method", "model"),
    [
        ("grid", GridRequest),
        ("random", RandomRequest),
        ("mcmc", MCMCRequest),
        ("de", DERequest),
        ("bayes", BayesRequest),
    ],
)
def test_a_request_reads_back_as_the_model_of_its_method(method, model):
    raw = make_request(CONFIG, method=method, ranges=RANGES, trials=20, seed=4)
    request = parse_request(raw)
    assert type(request) is model
    assert (request.method, request.trials, request.seed) == (method, 20, 4)
    assert request.config == CONFIG
    assert request.ranges == {k: [float(v) for v in r] for k, r in RANGES.items()}
    assert request.model_dump(mode="json") == raw  # the stored JSON, unchanged


def test_an_allocation_request_is_told_apart_by_its_allocation():
    raw = make_allocation_request(CONFIG, ["sma_crossover", "donchian"], ["SPX", "XOM"])
    request = parse_request(raw)
    assert type(request) is AllocationRequest and request.method == "random"
    assert request.allocation.strategies == ("sma_crossover", "donchian")
    assert raw["allocation"] == {
        "strategies": ["sma_crossover", "donchian"],
        "symbols": ["SPX", "XOM"],
        "train_fraction": 0.7,
        "risk_aversion": 1.0,
        "diversification": 0.1,
    }


def test_the_stored_json_keeps_its_keys_and_order():
    raw = make_request(CONFIG, walk_forward={"train": 500, "test": 250.0})
    assert list(raw) == [
        "config",
        "method",
        "objective",
        "ranges",
        "trials",
        "seed",
        "scheduler",
        "walk_forward",
        "fixed",
    ]
    assert raw["walk_forward"] == {"train": 500, "test": 250, "anchored": False}
    assert raw["objective"] == {"metric": "sharpe", "constraints": {}}


def test_a_stored_request_missing_optional_keys_takes_the_old_defaults():
    request = parse_request({"config": CONFIG.model_dump(mode="json"), "method": "random"})
    assert (request.trials, request.seed, request.objective.metric) == (200, 0, "sharpe")
    assert request.ranges == {} and request.fixed == {} and request.walk_forward is None


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "magic"},
        {"trials": 0},
        {"surprise": 1},
        {"walk_forward": {"train": 1, "test": 5}},
    ],
)
def test_a_malformed_stored_request_is_refused_by_the_union(changes):
    raw = {**make_request(CONFIG), **changes}
    with pytest.raises(ValidationError):
        parse_request(raw)


def test_refusals_before_submission_are_workstation_errors():
    with pytest.raises(InvalidRequest, match="unknown method 'magic'"):
        make_request(CONFIG, method="magic")
    with pytest.raises(InvalidRequest, match="trials must be at least 1"):
        make_request(CONFIG, trials=0)
    with pytest.raises(InvalidRequest, match="need 0 < train fraction < 1"):
        make_allocation_request(CONFIG, ["sma_crossover"], ["SPX"], train_fraction=1.0)


def test_job_states_are_an_enum_stored_as_the_old_strings(ws):
    assert [s.value for s in JobStatus] == ["queued", "running", "done", "failed", "cancelled"]
    assert [s.finished for s in JobStatus] == [False, False, True, True, True]
    job_id = ws.jobs.submit(make_request(CONFIG, ranges=RANGES, trials=9))
    job = ws.jobs.get(job_id)
    assert job.status is JobStatus.QUEUED and job.status == "queued"
    status = run_job(ws.jobs, job_id)
    assert status is JobStatus.DONE
    with ws.sessions() as session:
        stored = session.execute(
            text("SELECT status FROM optimization_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert stored == "done" and type(stored) is str


def test_the_workstation_wires_the_jobs_service(ws):
    assert isinstance(ws.jobs, JobService)
    assert ws.jobs.runner.backtests is ws.backtests
    assert ws.jobs.runner.store is ws.jobs.store
    assert ws.jobs.database_url == ws.settings.database_url


def test_a_runner_built_from_its_collaborators_runs_a_job(ws):
    runner = JobRunner(ws.jobs.store, ws.backtests)  # no workstation, no database url
    job_id = ws.jobs.submit(make_request(CONFIG, ranges=RANGES, trials=9))
    assert runner.run(job_id) == "done"
    job = ws.jobs.get(job_id)
    assert job.done == 9 and job.result["searched"] == ["fast", "slow"]  # long_short pinned by 0:0
    with pytest.raises(LookupError, match="no optimisation job 'nope'"):
        runner.run("nope")
