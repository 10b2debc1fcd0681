"""The Q-learner's parts: the action grid, the update rule by hand, the model's bytes, the state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.errors import InvalidInputError
from core.qlearning import (
    Experience,
    QModel,
    StateTracker,
    action_labels,
    epsilon_schedule,
    fit_encoder,
    learn,
    simplex_grid,
)
from tests.rl._qlearning_parts import two_regime_closes


def test_simplex_grid_of_two_sleeves_step_quarter_is_the_five_splits():
    grid = simplex_grid(2, 0.25)
    np.testing.assert_allclose(grid, [[1, 0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0, 1]])
    assert action_labels(grid.tolist()) == ["1/0", "0.75/0.25", "0.5/0.5", "0.25/0.75", "0/1"]


@pytest.mark.parametrize(("k", "step"), [(2, 0.5), (3, 0.25), (4, 0.25), (3, 0.1)])
def test_simplex_grid_counts_compositions_and_sums_to_one(k, step):
    n = round(1 / step)
    grid = simplex_grid(k, step)
    assert len(grid) == math.comb(n + k - 1, k - 1)  # stars and bars
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert len({tuple(r) for r in grid.tolist()}) == len(grid)
    assert (grid >= 0).all()


def _one_state(rewards: list[float], n: int) -> Experience:
    """One phase of ``n`` decisions in state 0; every action's period return is fixed."""
    k = len(rewards)
    returns = np.tile(np.array(rewards), (n, 1))  # sleeve k returns rewards[k]
    return Experience([np.zeros(n, dtype=int)], [returns], [np.zeros((n, k))])


def test_q_values_follow_the_update_rule_worked_by_hand():
    # one state, two pure actions (sleeve 0 only, sleeve 1 only), discount 0, lr 0.5:
    # after m updates with reward r, Q = r (1 − 0.5^m)
    actions = np.eye(2)
    q, visits, curve = learn(
        _one_state([0.02, -0.01], 40),
        actions,
        1,
        episodes=3,
        learning_rate=0.5,
        discount=0.0,
        epsilon=lambda e: 1.0,  # always explore: both actions get visits
        risk_aversion=0.0,
        cost_rate=0.0,
        seed=4,
    )
    assert visits.sum() == 120
    for a, r in enumerate([0.02, -0.01]):
        assert q[0, a] == pytest.approx(r * (1 - 0.5 ** visits[0, a]), rel=1e-12)
    assert len(curve) == 3


def test_risk_aversion_and_switching_cost_enter_the_reward_as_written():
    # two decisions, lr 1 and discount 0 so Q = the last reward; greedy from zeros picks
    # action 0 (first of equal values) at decision 0, then action 0 again (its Q > 0)
    actions = np.array([[1.0, 0.0], [0.0, 1.0]])
    exp = Experience(
        [np.array([0, 1])],
        [np.array([[0.04, 0.0], [0.05, 0.0]])],
        [np.array([[1.0, 1.0], [0.5, 1.0]])],
    )
    q, _, _ = learn(
        exp,
        actions,
        2,
        episodes=1,
        learning_rate=1.0,
        discount=0.0,
        epsilon=lambda e: 0.0,
        risk_aversion=2.0,
        cost_rate=0.001,
        seed=0,
    )
    assert q[0, 0] == pytest.approx(0.04 - 2.0 * 0.04**2)  # no previous action: no cost
    assert q[1, 0] == pytest.approx(0.05 - 2.0 * 0.05**2)  # same action again: no cost

    # episode 1 learns Q[1, 0] < 0, so episode 2 switches to action 1 at decision 1 and pays
    # 0.001 × Σ|Δw| × |exposure| = 0.001 × (1 × 0.5 + 1 × 1.0)
    exp.returns[0][1] = [-0.02, 0.05]
    q, _, _ = learn(
        exp,
        actions,
        2,
        episodes=2,
        learning_rate=1.0,
        discount=0.0,
        epsilon=lambda e: 0.0,
        risk_aversion=0.0,
        cost_rate=0.001,
        seed=0,
    )
    assert q[1, 0] == pytest.approx(-0.02)
    assert q[1, 1] == pytest.approx(0.05 - 0.0015)


def test_bootstrapping_uses_the_next_states_best_value():
    # lr 1: Q[s0, a] = r + γ max Q[s1] where s1's values were learned in an earlier episode
    actions = np.eye(2)
    exp = Experience([np.array([0, 1])], [np.array([[0.01, 0.0], [0.03, 0.0]])], [np.zeros((2, 2))])
    q, _, _ = learn(
        exp,
        actions,
        2,
        episodes=2,
        learning_rate=1.0,
        discount=0.5,
        epsilon=lambda e: 0.0,
        risk_aversion=0.0,
        cost_rate=0.0,
        seed=0,
    )
    # episode 1: Q[0,0] = 0.01 + 0.5·0 ; Q[1,0] = 0.03 ; episode 2: Q[0,0] = 0.01 + 0.5·0.03
    assert q[0, 0] == pytest.approx(0.01 + 0.5 * 0.03)
    assert q[1, 0] == pytest.approx(0.03)


def test_same_seed_same_table_other_seed_other_exploration():
    exp = _one_state([0.01, 0.02, -0.01], 50)
    run = lambda seed: learn(  # noqa: E731
        exp,
        np.eye(3),
        1,
        episodes=5,
        learning_rate=0.3,
        discount=0.9,
        epsilon=epsilon_schedule(1.0, 0.1, 0.5),
        risk_aversion=0.0,
        cost_rate=0.0,
        seed=seed,
    )
    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_epsilon_decays_per_episode_to_its_floor():
    eps = epsilon_schedule(1.0, 0.05, 0.5)
    assert [eps(e) for e in range(6)] == [1.0, 0.5, 0.25, 0.125, 0.0625, 0.05]


# -- the state ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def encoder():
    closes, _ = two_regime_closes(800)
    return fit_encoder(
        closes[:600],
        regime_states=2,
        vol_buckets=2,
        return_buckets=3,
        vol_window=20,
        return_window=10,
        seed=0,
    )


def test_encoder_is_fitted_on_the_training_closes_only(encoder):
    closes, _ = two_regime_closes(800)
    altered = closes.copy()
    altered[600:] *= np.linspace(1, 3, 200)  # a different future
    again = fit_encoder(
        altered[:600],
        regime_states=2,
        vol_buckets=2,
        return_buckets=3,
        vol_window=20,
        return_window=10,
        seed=0,
    )
    assert again == encoder
    assert encoder.labels == ["bear", "bull"]  # means sorted: the falling regime first
    assert len(encoder.vol_edges) == 1 and len(encoder.return_edges) == 2
    assert len(encoder.states) == 2 * 2 * 3


def test_state_at_t_is_unchanged_when_the_future_is_cut_or_altered(encoder):
    closes, _ = two_regime_closes(800)
    tracker = StateTracker(encoder)
    full = [tracker.update(c) for c in closes]
    assert full[:20] == [None] * 20 and full[20] is not None  # 20 returns need 21 closes
    for t in (50, 333, 700):
        tracker = StateTracker(encoder)
        cut = [tracker.update(c) for c in closes[: t + 1]]
        assert cut == full[: t + 1]
        other = np.concatenate([closes[: t + 1], closes[t + 1 :] * 0.5])
        tracker = StateTracker(encoder)
        assert [tracker.update(c) for c in other][: t + 1] == full[: t + 1]


def test_state_buckets_are_the_training_quantiles(encoder):
    # by hand at one bar: std of the last 20 log returns, sum of the last 10, against the edges
    closes, _ = two_regime_closes(800)
    t = 400
    r = np.diff(np.log(closes[: t + 1]))
    vol, ret = r[-20:].std(ddof=1), r[-10:].sum()
    vol_name = ("low", "high")[int(vol > encoder.vol_edges[0])]
    ret_name = ("down", "flat", "up")[int(np.searchsorted(encoder.return_edges, ret, "right"))]
    tracker = StateTracker(encoder)
    state = [tracker.update(c) for c in closes[: t + 1]][-1]
    assert state.split("|")[1:] == [vol_name, ret_name]


# -- the model's bytes ------------------------------------------------------------------------
def _model(encoder) -> QModel:
    states = encoder.states
    return QModel(
        strategies=["a", "b"],
        params=[{}, {}],
        actions=simplex_grid(2, 0.5).tolist(),
        states=states,
        q=[[0.0, 0.1, 0.0]] + [[0.0] * 3] * (len(states) - 1),
        visits=[[1, 1, 1]] + [[0] * 3] * (len(states) - 1),
        encoder=encoder,
        rebalance=5,
        learning_rate=0.1,
        discount=0.9,
        risk_aversion=0.0,
        cost_rate=0.0,
    )


def test_model_round_trips_its_bytes_and_acts_greedily(encoder):
    model = _model(encoder)
    again = QModel.from_bytes(model.to_bytes())
    assert again == model and again.to_bytes() == model.to_bytes()
    first = encoder.states[0]
    assert model.weights(first) == [0.5, 0.5]  # action 1 has the largest Q
    assert model.policy() == {first: {"a": 0.5, "b": 0.5}}
    assert model.weights(encoder.states[1]) == [0.5, 0.5]  # unvisited: equal weights
    assert model.best_action(encoder.states[1]) is None


def test_online_update_returns_a_copy_and_leaves_the_trained_table(encoder):
    model = _model(encoder)
    before = model.to_bytes()
    s0, s1 = encoder.states[0], encoder.states[1]
    new = model.updated(s0, 2, 0.5, s1)
    assert model.to_bytes() == before
    assert new.q[0][2] == pytest.approx(0.1 * (0.5 + 0.9 * 0.0 - 0.0))
    assert new.updates == 1 and new.visits[0][2] == 2


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="pickle"),
        lambda d: d.pop("q"),
        lambda d: d.update(q=[[0.0]]),
        lambda d: d.update(extra_key=1),
        lambda d: d["encoder"].pop("labels"),
    ],
)
def test_a_document_that_is_not_a_q_table_is_refused(encoder, mutate):
    doc = json.loads(_model(encoder).to_bytes())
    mutate(doc)
    with pytest.raises(InvalidInputError, match="qlearning model"):
        QModel.from_bytes(json.dumps(doc).encode())
    with pytest.raises(InvalidInputError, match="not JSON"):
        QModel.from_bytes(b"\x80\x04garbage")


def test_the_visits_schedule_makes_q_the_mean_of_its_targets():
    # one sleeve, one action, discount 0: Q is the plain mean of every period return seen
    returns = np.array([[0.01], [-0.03], [0.05], [0.02]])
    exp = Experience([np.zeros(4, dtype=int)], [returns], [np.zeros((4, 1))])
    q, visits, _ = learn(
        exp,
        np.ones((1, 1)),
        1,
        episodes=3,
        learning_rate=0.5,
        discount=0.0,
        epsilon=lambda e: 0.0,
        risk_aversion=0.0,
        cost_rate=0.0,
        seed=0,
        averaging=True,
    )
    assert visits[0, 0] == 12
    assert q[0, 0] == pytest.approx(returns.mean())
