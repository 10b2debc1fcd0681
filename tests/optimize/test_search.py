"""Grid, random and differential-evolution searches and what they share (cache, stop, progress)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core.optimize import (
    Dimension,
    Objective,
    SearchSpace,
    differential_evolution,
    grid_search,
    random_search,
)
from core.strategies import get_strategy

SMA = get_strategy("sma_crossover").Params


def sma_score(params: dict) -> float:
    """A smooth score with its maximum at fast=15, slow=60, long_short=True."""
    bonus = 0.5 if params["long_short"] else 0.0
    return -((params["fast"] - 15) ** 2) / 10 - (params["slow"] - 60) ** 2 / 100 + bonus


def sma_metrics(params: dict) -> dict:
    return {"sharpe": sma_score(params), "n_trades": params["fast"]}


def bowl(params: dict) -> float:
    """Maximum 0 at x = 7, y = -1.5."""
    return -((params["x"] - 7) ** 2) - (params["y"] + 1.5) ** 2


class Counter:
    def __init__(self, evaluate):
        self.evaluate, self.calls = evaluate, []

    def __call__(self, params):
        self.calls.append(params)
        return self.evaluate(params)


@pytest.fixture
def sma_space() -> SearchSpace:
    return SearchSpace.from_params(SMA, {"fast": (5, 30, 5), "slow": (20, 80, 20)})


@pytest.fixture
def bowl_space() -> SearchSpace:
    return SearchSpace([Dimension("x", "int", -20, 20, 1), Dimension("y", "float", -5, 5)])


def test_grid_scores_equal_single_evaluations(sma_space):
    result = grid_search(sma_space, sma_score)

    feasible = result.trials[result.trials["feasible"]]
    for _, row in feasible.iterrows():
        params = {"fast": row["fast"], "slow": row["slow"], "long_short": row["long_short"]}
        assert row["score"] == sma_score(params)
    assert result.best_params == {"fast": 15, "slow": 60, "long_short": True}
    assert result.best_score == sma_score(result.best_params) == 0.5


def test_grid_reports_infeasible_points_without_evaluating_them(sma_space):
    counter = Counter(sma_score)

    result = grid_search(sma_space, counter)

    infeasible = result.trials[~result.trials["feasible"]]
    assert len(result.trials) == sma_space.size == 48
    assert (infeasible["fast"] >= infeasible["slow"]).all() and len(infeasible) == 6
    assert (infeasible["score"] == -math.inf).all()
    assert infeasible["error"].str.contains("shorter than slow").all()
    assert result.n_trials == len(counter.calls) == 42
    assert all(p["fast"] < p["slow"] for p in counter.calls)


def test_metrics_are_scored_by_the_objective_and_kept_in_the_trials(sma_space):
    objective = Objective("sharpe", constraints={"n_trades": (">=", 20)})

    result = grid_search(sma_space, sma_metrics, objective=objective)

    assert result.best_params["fast"] == 20
    assert {"sharpe", "n_trades"} <= set(result.trials.columns)
    low = result.trials[(result.trials["fast"] < 20) & result.trials["feasible"]]
    assert (low["score"] == -math.inf).all()


def test_metrics_without_an_objective_are_an_error(sma_space):
    with pytest.raises(TypeError, match="objective"):
        grid_search(sma_space, sma_metrics)


def test_random_search_is_seeded_and_evaluates_each_point_once(sma_space):
    counter = Counter(sma_score)

    a = random_search(sma_space, counter, 100, seed=3)
    b = random_search(sma_space, sma_score, 100, seed=3)
    c = random_search(sma_space, sma_score, 100, seed=4)

    assert a.trials.equals(b.trials)
    assert not a.trials.equals(c.trials)
    assert len(counter.calls) == a.n_trials <= 42
    assert len({tuple(sorted(p.items())) for p in counter.calls}) == len(counter.calls)


def test_history_is_the_running_best(sma_space):
    result = random_search(sma_space, sma_score, 30, seed=1)

    history = result.history
    np.testing.assert_array_equal(history["best_score"], np.maximum.accumulate(history["score"]))
    assert history["best_score"].iloc[-1] == result.best_score


def test_differential_evolution_finds_the_optimum_on_an_int_and_float_space(bowl_space):
    result = differential_evolution(bowl_space, bowl, seed=3, maxiter=60)

    assert result.best_params["x"] == 7
    assert isinstance(result.best_params["x"], int)
    assert result.best_params["y"] == pytest.approx(-1.5, abs=1e-3)
    assert result.best_score == pytest.approx(0.0, abs=1e-6)
    assert result.info["generation_best"] == sorted(result.info["generation_best"])


def test_differential_evolution_keeps_to_the_steps():
    space = SearchSpace([Dimension("x", "int", -20, 20, 2), Dimension("y", "float", -5, 5, 0.25)])

    result = differential_evolution(space, bowl, seed=1)

    assert (result.trials["x"] % 2 == 0).all()
    assert np.allclose(result.trials["y"] * 4, np.round(result.trials["y"] * 4))
    assert result.best_params == {"x": 6, "y": -1.5} or result.best_params == {"x": 8, "y": -1.5}


def test_differential_evolution_is_reproducible_and_skips_infeasible_points(sma_space):
    counter = Counter(sma_score)

    a = differential_evolution(sma_space, counter, seed=5, maxiter=20)
    b = differential_evolution(sma_space, sma_score, seed=5, maxiter=20)

    assert a.trials.equals(b.trials)
    assert a.best_params == {"fast": 15, "slow": 60, "long_short": True}
    assert all(p["fast"] < p["slow"] for p in counter.calls)


def test_parallel_workers_give_the_serial_result(bowl_space):
    serial = differential_evolution(bowl_space, bowl, seed=2, maxiter=15)
    parallel = differential_evolution(bowl_space, bowl, seed=2, maxiter=15, workers=2)

    assert parallel.best_params == serial.best_params
    assert parallel.trials.equals(serial.trials)


def test_a_map_function_can_be_given_as_workers(sma_space):
    calls = []

    def mapper(function, items):
        items = list(items)
        calls.append(len(items))
        return map(function, items)

    result = grid_search(sma_space, sma_score, workers=mapper)

    assert result.best_score == 0.5
    assert sum(calls) == result.n_trials == 42


def test_unpicklable_evaluate_falls_back_to_serial_with_a_warning(sma_space):
    with pytest.warns(RuntimeWarning, match="pickled"):
        result = grid_search(sma_space, lambda p: sma_score(p), workers=2)

    assert result.best_score == 0.5


def test_stop_flag_ends_the_search_with_the_trials_so_far(sma_space):
    counter = Counter(sma_score)

    result = grid_search(sma_space, counter, should_stop=lambda: len(counter.calls) >= 5)

    assert result.stopped
    assert result.n_trials == len(counter.calls) == 5


def test_progress_reports_each_evaluation_and_the_best_so_far(sma_space):
    seen = []

    grid_search(sma_space, sma_score, progress=seen.append)

    assert [p.done for p in seen] == list(range(1, 43))
    assert seen[-1].total == 48 and seen[-1].best_score == 0.5
    assert seen[-1].best_params == {"fast": 15, "slow": 60, "long_short": True}
    assert all(a.best_score <= b.best_score for a, b in itertools.pairwise(seen))


def test_evaluation_errors_raise_or_are_recorded(sma_space):
    def fragile(params):
        if params["fast"] == 10:
            raise RuntimeError("boom")
        return sma_score(params)

    with pytest.raises(RuntimeError, match="boom"):
        grid_search(sma_space, fragile)
    result = grid_search(sma_space, fragile, errors="skip")
    failed = result.trials[result.trials["fast"] == 10]
    assert (failed["score"] == -math.inf).all()
    assert failed["error"].str.contains("boom").all()
    assert result.best_score == 0.5


class Batched:
    """A batched evaluator: ``evaluate_batch`` gets the points in lists of ``batch_size``."""

    batched = True

    def __init__(self, batch_size, fail_fast=None):
        self.batch_size, self.fail_fast, self.batches = batch_size, fail_fast, []

    def __call__(self, params):
        raise AssertionError("a batched evaluator is called in batches")

    def evaluate_batch(self, points, checked=False):
        assert checked  # the search has run the space's params model on every point
        self.batches.append(points)
        return [
            ValueError("equity must be positive") if p["fast"] == self.fail_fast else sma_metrics(p)
            for p in points
        ]


def test_a_batched_evaluator_gets_every_feasible_point_once_in_batches(sma_space):
    evaluator = Batched(batch_size=10)
    result = grid_search(sma_space, evaluator, objective=Objective(metric="sharpe"))
    single = grid_search(sma_space, sma_metrics, objective=Objective(metric="sharpe"))
    assert [len(b) for b in evaluator.batches] == [10, 10, 10, 10, 2]  # 42 feasible of 48
    assert len({tuple(p.values()) for b in evaluator.batches for p in b}) == 42
    # infeasible points are recorded first (as with worker processes), then the batches
    by_point = ["fast", "slow", "long_short"]
    a, b = (r.trials.sort_values(by_point, ignore_index=True) for r in (result, single))
    assert a["score"].tolist() == b["score"].tolist()
    assert result.best_params == single.best_params and result.n_trials == 42


def test_a_batched_search_stops_between_batches(sma_space):
    evaluator = Batched(batch_size=10)
    stop = lambda: len(evaluator.batches) >= 2  # noqa: E731
    result = grid_search(
        sma_space, evaluator, objective=Objective(metric="sharpe"), should_stop=stop
    )
    assert result.stopped and result.n_trials == 20


def test_a_batched_evaluation_error_raises_or_is_recorded(sma_space):
    with pytest.raises(ValueError, match="positive"):
        grid_search(sma_space, Batched(10, fail_fast=10), objective=Objective(metric="sharpe"))
    result = grid_search(
        sma_space, Batched(10, fail_fast=10), objective=Objective(metric="sharpe"), errors="skip"
    )
    failed = result.trials[result.trials["fast"] == 10]
    assert len(failed) == 8 and (failed["score"] == -math.inf).all()
    assert failed["error"].eq("ValueError: equity must be positive").all()
    assert result.best_score == 0.5
