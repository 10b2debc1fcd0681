"""The forward filter against a hand-worked example and brute-force path enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core.regimes import RegimeFilter, RegimeHMM, forward_filter, viterbi_path

# Two states N(-1, 1) and N(1, 1): the likelihood ratio b1(x)/b0(x) is exp(2x), so
# x = 0, ln(2)/2, -ln(3)/2 give ratios 1, 2, 1/3.
HAND = RegimeHMM.from_params(
    means=[-1.0, 1.0], variances=[1.0, 1.0], transmat=[[0.8, 0.2], [0.3, 0.7]]
)
HAND_X = np.array([0.0, math.log(2) / 2, -math.log(3) / 2])


def phi(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def test_hand_worked_two_state_three_step_example():
    # t=1: prior (1/2, 1/2), ratio 1           -> p1 = (1/2, 1/2)
    # t=2: prior p1 @ A = (0.55, 0.45), ratio 2 -> ∝ (0.55, 0.90) = (11/29, 18/29)
    # t=3: prior p2 @ A = (14.2/29, 14.8/29), ratio 1/3 -> ∝ (42.6, 14.8) = (213/287, 74/287)
    expected = np.array([[0.5, 0.5], [11 / 29, 18 / 29], [213 / 287, 74 / 287]])
    np.testing.assert_allclose(HAND.filtered_probabilities(HAND_X), expected, rtol=1e-12)
    # Normalisers: b0(x_t) times (prior_0 + prior_1 · ratio_t).
    loglik = (
        math.log(phi(HAND_X[0] + 1) * 1.0)
        + math.log(phi(HAND_X[1] + 1) * 1.45)
        + math.log(phi(HAND_X[2] + 1) * 57.4 / 87)
    )
    assert HAND.score(HAND_X) == pytest.approx(loglik, rel=1e-12)


def brute_force_filter(model: RegimeHMM, X: np.ndarray) -> np.ndarray:
    """P(state_t | x_1..t) by summing the joint probability of every path up to t."""
    k = model.n_states
    b = np.exp(model.log_emissions(X))
    out = []
    for t in range(len(X)):
        joint = np.zeros(k)
        for path in itertools.product(range(k), repeat=t + 1):
            p = model.startprob_[path[0]] * b[0, path[0]]
            for s in range(1, t + 1):
                p *= model.transmat_[path[s - 1], path[s]] * b[s, path[s]]
            joint[path[-1]] += p
        out.append(joint / joint.sum())
    return np.array(out)


def test_forward_filter_equals_brute_force_enumeration():
    model = RegimeHMM.from_params(
        means=[-0.02, 0.0, 0.01],
        variances=[4e-4, 1e-4, 2e-5],
        transmat=[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]],
        startprob=[0.2, 0.3, 0.5],
    )
    X = np.random.default_rng(3).normal(0.0, 0.012, 6)
    np.testing.assert_allclose(
        model.filtered_probabilities(X), brute_force_filter(model, X), rtol=1e-10
    )


def test_row_t_depends_on_rows_up_to_t_only():
    model = HAND
    X = np.random.default_rng(4).normal(size=50)
    full = model.filtered_probabilities(X)
    for t in (0, 10, 49):
        np.testing.assert_array_equal(model.filtered_probabilities(X[: t + 1])[-1], full[t])


def test_viterbi_equals_brute_force_on_a_tiny_example():
    log_b = HAND.log_emissions(HAND_X)
    scores = {
        path: math.log(HAND.startprob_[path[0]])
        + log_b[0, path[0]]
        + sum(math.log(HAND.transmat_[path[s - 1], path[s]]) + log_b[s, path[s]] for s in (1, 2))
        for path in itertools.product(range(2), repeat=3)
    }
    best = max(scores, key=scores.get)
    np.testing.assert_array_equal(viterbi_path(log_b, HAND.startprob_, HAND.transmat_), best)


def test_a_step_whose_weights_underflow_is_done_in_log_space():
    # The chain cannot leave state 0; x = 40 is ~1e-350 likely there, so the scaled
    # weights underflow to zero and the log-space step must keep state 0.
    model = RegimeHMM.from_params(
        means=[0.0, 40.0], variances=[1.0, 1.0], transmat=[[1.0, 0.0], [0.0, 1.0]],
        startprob=[1.0, 0.0],
    )  # fmt: skip
    X = np.array([0.0, 40.0, 0.5])
    probabilities, loglik = forward_filter(
        model.log_emissions(X), model.startprob_, model.transmat_
    )
    np.testing.assert_array_equal(probabilities, [[1.0, 0.0]] * 3)
    expected = sum(-0.5 * math.log(2 * math.pi) - 0.5 * x * x for x in X)
    assert loglik == pytest.approx(expected, rel=1e-12)
    incremental = RegimeFilter(model)
    assert incremental.update_many(X).tolist() == [[1.0, 0.0]] * 3
    assert incremental.log_likelihood == pytest.approx(expected, rel=1e-12)
