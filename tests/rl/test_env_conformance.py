"""PortfolioEnv against gymnasium's checker; actions reach every corner of the simplex."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from core.errors import InvalidInputError
from core.rl import EnvSettings, PortfolioEnv, observation_size, to_weights
from tests.rl._rl_parts import random_market


@pytest.mark.parametrize(
    "settings",
    [
        EnvSettings(),
        EnvSettings(action_map="relu", vol_feature=True, momentum_feature=True),
        EnvSettings(risk_penalty="drawdown", risk_aversion=1.0, rebalance_every=1),
    ],
)
def test_gymnasium_env_checker_passes(settings):
    env = PortfolioEnv(random_market(), settings)
    check_env(env, skip_render_check=True)
    n = 3
    assert env.action_space.shape == (n + 1,)
    assert env.observation_space.shape == (observation_size(n, settings),)


def test_observation_size_counts_window_features_and_weights():
    settings = EnvSettings(window=10, vol_feature=True, momentum_feature=True)
    # 10 bars × 4 returns + 4 vols + 4 momenta + 5 weights
    assert observation_size(4, settings) == 40 + 4 + 4 + 5


def test_softmax_action_reaches_a_concentrated_portfolio():
    action = -np.ones(21)
    action[7] = 1.0
    weights = to_weights(action, EnvSettings(logit_scale=8))
    # logits ±8: w7 = e^8 / (e^8 + 20 e^-8)
    assert weights[7] == pytest.approx(1 / (1 + 20 * np.exp(-16)), rel=1e-12)
    assert weights[7] > 0.99999
    # the default ±3: e^3 / (e^3 + 20 e^-3) = 0.953
    assert to_weights(action, EnvSettings())[7] == pytest.approx(1 / (1 + 20 * np.exp(-6)))
    assert weights.sum() == pytest.approx(1.0)
    # and equal weight from a flat action
    np.testing.assert_allclose(to_weights(np.zeros(21), EnvSettings()), np.full(21, 1 / 21))


def test_relu_action_reaches_any_point_of_the_simplex_exactly():
    settings = EnvSettings(action_map="relu")
    np.testing.assert_allclose(
        to_weights(np.array([0.2, -0.5, 0.6, 0.2]), settings), [0.2, 0.0, 0.6, 0.2]
    )
    np.testing.assert_array_equal(
        to_weights(np.array([1.0, -1.0, -1.0, -1.0]), settings), [1, 0, 0, 0]
    )
    # nothing positive: all cash
    np.testing.assert_array_equal(to_weights(-np.ones(4), settings), [0, 0, 0, 1])


def test_episodes_start_at_random_bars_inside_the_span_and_end_on_time():
    market = random_market(n_bars=600)
    settings = EnvSettings(window=5, rebalance_every=5, episode_steps=10)
    env = PortfolioEnv(market, settings, span=(100, 400))
    starts = set()
    for seed in range(30):
        _, info = env.reset(seed=seed)
        starts.add(info["bar"])
        steps, truncated = 0, False
        while not truncated:
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            assert not terminated
            assert info["bar"] <= 400
            steps += 1
        assert steps == 10
    assert len(starts) > 10
    # the lookback may read bars before the span (the past); 10 steps of 5 bars must fit
    assert min(starts) >= 100 and max(starts) <= 400 - 50


def test_a_span_too_short_is_refused():
    with pytest.raises(InvalidInputError, match="environment: the span"):
        PortfolioEnv(random_market(n_bars=30), EnvSettings(window=20, rebalance_every=10))
