"""Metropolis–Hastings: known posteriors are recovered, chains mix, plateaus are measured."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core.optimize import (
    Dimension,
    SearchSpace,
    metropolis_hastings,
    rank_normalized_split_rhat,
    split_rhat,
)
from core.strategies import get_strategy

MU, SIGMA = 1.0, 0.5
K_MU, K_SIGMA = 3, 5.0


def gaussian(params: dict) -> float:
    """log N(x; μ, σ²) + log N(k; 3, 25) up to constants: the score of a known posterior."""
    x, k = params["x"], params["k"]
    return -((x - MU) ** 2) / (2 * SIGMA**2) - (k - K_MU) ** 2 / (2 * K_SIGMA**2)


@pytest.fixture(scope="module")
def gaussian_run():
    space = SearchSpace([Dimension("x", "float", -10, 10), Dimension("k", "int", -30, 30, 1)])
    return metropolis_hastings(space, gaussian, n_iter=4000, burn_in=1000, n_chains=4, seed=1)


def test_recovers_the_mean_and_sd_of_a_gaussian_target(gaussian_run):
    summary = gaussian_run.summary

    # tolerances of about three Monte Carlo standard errors of 4 × 3000 correlated draws
    assert summary.loc["x", "mean"] == pytest.approx(MU, abs=0.15 * SIGMA)
    assert summary.loc["x", "sd"] == pytest.approx(SIGMA, rel=0.1)
    assert summary.loc["k", "mean"] == pytest.approx(K_MU, abs=0.15 * K_SIGMA)
    assert summary.loc["k", "sd"] == pytest.approx(K_SIGMA, rel=0.1)


def test_credible_intervals_are_the_equal_tailed_quantiles(gaussian_run):
    lower, upper = gaussian_run.credible_intervals["x"]
    z = stats.norm.ppf(0.95)

    assert lower == pytest.approx(MU - z * SIGMA, abs=0.1)
    assert upper == pytest.approx(MU + z * SIGMA, abs=0.1)
    k_lower, k_upper = gaussian_run.credible_intervals["k"]
    assert k_lower == int(k_lower) and k_upper == int(k_upper)


def test_well_mixed_chains_have_rhat_below_1_05(gaussian_run):
    assert max(gaussian_run.rhat.values()) < 1.05
    assert gaussian_run.summary["rhat_basic"].max() < 1.05


def test_acceptance_is_adapted_towards_the_target(gaussian_run):
    assert gaussian_run.acceptance.shape == (4,)
    assert np.all((gaussian_run.acceptance > 0.15) & (gaussian_run.acceptance < 0.5))


def test_shapes_and_the_best_point(gaussian_run):
    run = gaussian_run

    assert run.chains.shape == (4, 4000, 2) and run.chain_scores.shape == (4, 4000)
    assert run.samples.shape == (4, 3000, 2)
    assert len(run.posterior) == 12_000
    assert run.best_score == run.trials["score"].max() == pytest.approx(0.0, abs=0.01)
    assert run.best_params["k"] == 3


def test_repeated_points_are_evaluated_once():
    calls = []

    def score(params):
        calls.append(params["k"])
        return -((params["k"] - 3) ** 2) / 8

    space = SearchSpace([Dimension("k", "int", -10, 10, 1)])
    run = metropolis_hastings(space, score, n_iter=500, burn_in=100, seed=0)

    assert len(calls) == len(set(calls)) == run.n_trials <= 21


def test_the_temperature_scales_the_posterior():
    space = SearchSpace([Dimension("x", "float", -10, 10)])

    def score(p):
        return -(p["x"] ** 2) / 2

    hot = metropolis_hastings(space, score, temperature=4.0, n_iter=3000, burn_in=500, seed=3)

    assert hot.summary.loc["x", "sd"] == pytest.approx(2.0, rel=0.12)


def test_poorly_mixed_chains_have_a_large_rhat():
    space = SearchSpace([Dimension("x", "float", -10, 10)])

    def two_peaks(p):
        return -((abs(p["x"]) - 6) ** 2) / (2 * 0.3**2)

    options = {"n_iter": 600, "burn_in": 100, "adapt": False, "proposal_scale": 0.01}
    run = metropolis_hastings(space, two_peaks, seed=4, **options)

    assert max(run.rhat.values()) > 1.5


def test_seeded_runs_are_reproducible():
    space = SearchSpace([Dimension("x", "float", -3, 3)])
    a = metropolis_hastings(space, lambda p: -(p["x"] ** 2), n_iter=200, burn_in=50, seed=9)
    b = metropolis_hastings(space, lambda p: -(p["x"] ** 2), n_iter=200, burn_in=50, seed=9)

    np.testing.assert_array_equal(a.chains, b.chains)


def test_infeasible_points_are_never_evaluated_or_visited():
    space = SearchSpace.from_params(
        get_strategy("sma_crossover").Params, {"fast": (2, 40), "slow": (10, 60)}
    )
    seen = []

    def score(p):
        seen.append(p)
        return -abs(p["slow"] - p["fast"] - 5) / 2

    run = metropolis_hastings(space, score, n_iter=300, burn_in=50, seed=2)

    assert all(p["fast"] < p["slow"] for p in seen)
    chains = run.chains.reshape(-1, 3)
    assert np.all(chains[:, 0] < chains[:, 1])


def test_a_flat_plateau_holds_most_of_the_posterior_mass():
    space = SearchSpace([Dimension("a", "int", 0, 40, 1), Dimension("b", "int", 0, 40, 1)])

    def plateau(p):
        inside = 10 <= p["a"] <= 30 and 10 <= p["b"] <= 30
        return 1.0 if inside else -5.0

    run = metropolis_hastings(space, plateau, n_iter=2000, burn_in=300, seed=5, plateau_eps=0.5)

    assert run.plateau.share > 0.95
    lo, hi = run.plateau.bounds["a"]
    assert 10 <= lo <= 12 and 28 <= hi <= 30
    assert 15 <= run.plateau.centre["a"] <= 25
    cells = run.cells(["a"], bins=4)
    inner = cells[(cells["a_low"] >= 10) & (cells["a_high"] <= 30)]
    assert cells["share"].sum() == pytest.approx(1.0)
    assert inner["share"].sum() > 0.9 and inner["relative"].min() > 0.8


def test_a_lone_peak_has_little_mass_near_the_best():
    space = SearchSpace([Dimension("x", "float", -10, 10)])

    def peak(p):
        return 10.0 if abs(p["x"]) < 0.01 else -abs(p["x"]) / 10

    run = metropolis_hastings(space, peak, n_iter=2000, burn_in=500, seed=6, plateau_eps=1.0)

    assert run.plateau.share < 0.2


def test_stop_flag_and_progress():
    space = SearchSpace([Dimension("x", "float", -3, 3)])
    seen, iterations = [], []

    def stop():
        iterations.append(1)
        return len(iterations) > 100

    run = metropolis_hastings(
        space, lambda p: -(p["x"] ** 2), n_iter=1000, seed=1, progress=seen.append, should_stop=stop
    )

    assert run.stopped and run.chains.shape[1] == 100
    assert [p.done for p in seen] == list(range(4, 404, 4))
    assert seen[-1].total == 4000 and seen[-1].fraction == 0.1
    assert seen[-1].best_score == run.best_score


def test_no_feasible_start_is_an_error():
    space = SearchSpace([Dimension("x", "float", -3, 3)])

    with pytest.raises(ValueError, match="finite score"):
        metropolis_hastings(space, lambda p: -math.inf, n_iter=10, burn_in=0, max_start_tries=5)


def test_split_rhat_matches_a_hand_computation():
    draws = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]])
    # halves: [1,2] [2,3] [3,4] [4,5]; n = 2; W = 0.5; chain means 1.5 2.5 3.5 4.5
    within, between = 0.5, 2 * np.var([1.5, 2.5, 3.5, 4.5], ddof=1)
    expected = math.sqrt(((2 - 1) / 2 * within + between / 2) / within)

    assert split_rhat(draws) == pytest.approx(expected)


def test_rhat_of_iid_draws_is_near_one_and_of_shifted_chains_is_large():
    rng = np.random.default_rng(0)
    iid = rng.standard_normal((4, 1000))
    shifted = iid + np.array([[0.0], [0.0], [0.0], [2.0]])

    assert rank_normalized_split_rhat(iid) < 1.01
    assert split_rhat(iid) < 1.01
    assert rank_normalized_split_rhat(shifted) > 1.1
    assert rank_normalized_split_rhat(np.ones((3, 50))) == 1.0


def test_the_tail_rhat_catches_chains_that_differ_only_in_scale():
    rng = np.random.default_rng(1)
    draws = rng.standard_normal((4, 1000)) * np.array([[1.0], [1.0], [1.0], [4.0]])

    assert split_rhat(draws) > 1.0
    assert rank_normalized_split_rhat(draws) > split_rhat(draws) + 0.05
