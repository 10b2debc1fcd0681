"""No look-ahead: observations use closes up to t; an action at t fills at the open of t+1."""

from __future__ import annotations

import numpy as np
import pytest

from core.rl import EnvSettings, PortfolioEnv, RLMarket, observe
from tests.rl._rl_parts import random_market

SETTINGS = EnvSettings(window=10, rebalance_every=3, vol_feature=True, momentum_feature=True)


def altered_after(market: RLMarket, t: int, seed: int = 9) -> RLMarket:
    """The same market with every open and close after bar ``t`` scrambled."""
    rng = np.random.default_rng(seed)
    opened, close = market.open.copy(), market.close.copy()
    opened[t + 1 :] *= np.exp(rng.normal(0, 0.2, opened[t + 1 :].shape))
    close[t + 1 :] *= np.exp(rng.normal(0, 0.2, close[t + 1 :].shape))
    return RLMarket(market.index, market.symbols, opened, close)


@pytest.mark.parametrize("t", [61, 150, 298])
def test_the_observation_at_t_ignores_the_future(t):
    market = random_market(n_bars=300)
    a, b = PortfolioEnv(market, SETTINGS), PortfolioEnv(altered_after(market, t), SETTINGS)
    obs_a, _ = a.reset(options={"start": t})
    obs_b, _ = b.reset(options={"start": t})
    np.testing.assert_array_equal(obs_a, obs_b)
    # and it is what the closes up to t alone give (the strategy's and the service's path)
    held = np.array([0, 0, 0, 1.0])
    np.testing.assert_allclose(observe(market.close[: t + 1], held, SETTINGS), obs_a, atol=1e-5)


def test_observation_after_steps_is_causal_too():
    market = random_market(n_bars=300)
    t = 200
    a, b = PortfolioEnv(market, SETTINGS), PortfolioEnv(altered_after(market, t), SETTINGS)
    a.reset(options={"start": 170})
    b.reset(options={"start": 170})
    action = np.array([0.3, -0.2, 0.5, 0.0])
    for _ in range(10):  # 170 → 200
        obs_a, *_ = a.step(action)
        obs_b, *_ = b.step(action)
    np.testing.assert_array_equal(obs_a, obs_b)


def test_an_action_at_t_fills_at_the_open_of_t_plus_one():
    market = random_market(n_bars=100)
    settings = EnvSettings(window=5, rebalance_every=1, action_map="relu")
    env = PortfolioEnv(market, settings)
    t = 50
    env.reset(options={"start": t})
    _, _, _, _, info = env.step(np.array([1.0, -1.0, -1.0, -1.0]))  # all in S0, from cash
    # bought at O[t+1] (not at C[t]), held to C[t+1], after the cost of a full turnover
    expected = (1 - settings.cost_rate) * market.close[t + 1, 0] / market.open[t + 1, 0]
    assert info["value"] == pytest.approx(expected, rel=1e-12)
    # the decision bar's own close never enters the fill: change C[t] (and so the gap)
    close = market.close.copy()
    close[t] *= 1.5
    moved = RLMarket(market.index, market.symbols, market.open, close)
    env2 = PortfolioEnv(moved, settings)
    env2.reset(options={"start": t})
    _, _, _, _, info2 = env2.step(np.array([1.0, -1.0, -1.0, -1.0]))
    assert info2["value"] == pytest.approx(expected, rel=1e-12)
