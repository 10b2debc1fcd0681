"""PPO: the same inputs give the same model; Cancel stops through the callback; it learns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.rl import (
    EnvSettings,
    PPOParams,
    RLMarket,
    TrainedPolicy,
    build_ppo,
    ppo_decide,
    run_policy,
    train_ppo,
)
from tests.rl._rl_parts import random_market

TINY = PPOParams(n_steps=32, n_envs=2, batch_size=32, n_epochs=2, net_width=8, net_depth=1)
SETTINGS = EnvSettings(window=5, rebalance_every=2, episode_steps=10)


def tiny_model(seed: int):
    model = build_ppo(random_market(n_bars=200), SETTINGS, TINY, (0, 150), seed)
    train_ppo(model, 128)
    return model


def parameters(model) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.policy.state_dict().items()}


def test_same_seed_same_model_and_predictions():
    first, second = tiny_model(3), tiny_model(3)
    a, b = parameters(first), parameters(second)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    observations = np.random.default_rng(0).normal(size=(5, *first.observation_space.shape))
    np.testing.assert_array_equal(
        first.predict(observations.astype(np.float32), deterministic=True)[0],
        second.predict(observations.astype(np.float32), deterministic=True)[0],
    )
    # a different seed learns something else (the comparison above can fail)
    other = parameters(tiny_model(4))
    assert any(not np.array_equal(a[k], other[k]) for k in a)


class StopAfter:
    """A task context that asks to stop after ``n`` checks and records what it is told."""

    def __init__(self, n: int):
        self.n, self.checks, self.progressed, self.points = n, 0, [], []

    def should_stop(self) -> bool:
        self.checks += 1
        return self.checks > self.n

    def progress(self, done, total=None, *, unit="", message=""):
        self.progressed.append((done, total, unit, message))

    def point(self, **values):
        self.points.append(values)


def test_cancel_stops_training_through_the_callback():
    model = build_ppo(random_market(n_bars=200), SETTINGS, TINY, (0, 150), 0)
    ctx = StopAfter(100)  # 2 environments: 100 callback steps = 200 timesteps
    trained = train_ppo(model, 10_000, ctx)
    assert trained.stopped
    assert trained.timesteps == 202  # the step that saw the stop still counted
    # progress came in timesteps, with the mean episode reward, at each rollout's end
    units = {p[2] for p in ctx.progressed}
    assert units == {"timesteps"}
    assert [p["timesteps"] for p in ctx.points] == [64.0, 128.0, 192.0]
    assert all(np.isfinite(p["mean_reward"]) for p in ctx.points)


def strong_drift_market(n_bars: int = 1500) -> RLMarket:
    """A up 0.3 %/day at 0.2 % vol; B and C down 0.2 %/day at 1 % vol: hold A."""
    rng = np.random.default_rng(0)
    mu, sigma = np.array([0.003, -0.002, -0.002]), np.array([0.002, 0.01, 0.01])
    close = 100 * np.exp(np.cumsum(mu + sigma * rng.standard_normal((n_bars, 3)), axis=0))
    return RLMarket(
        pd.date_range("2001-01-01", periods=n_bars, freq="B"), ("A", "B", "C"), close, close
    )


@pytest.mark.slow
def test_ppo_learns_to_hold_the_asset_that_drifts_up():
    market = strong_drift_market()
    settings = EnvSettings(
        window=2, rebalance_every=5, episode_steps=20, commission=0, slippage_bps=0, logit_scale=8
    )
    params = PPOParams(n_steps=128, batch_size=128, n_envs=4, learning_rate=3e-3, net_width=16)
    model = build_ppo(market, settings, params, (0, 1000), 0)
    train_ppo(model, 8192)
    policy = TrainedPolicy("x", market.symbols, settings, model)
    run = run_policy(market, settings, ppo_decide(policy, market), 1000, 1499)
    assert run.weights[:, 0].mean() > 0.8  # out of sample, most of the money in A
