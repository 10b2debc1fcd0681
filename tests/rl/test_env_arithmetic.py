"""Reward, costs and penalties worked by hand; evaluation marks with the same arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.rl import EnvSettings, PortfolioEnv, RLMarket, buy_and_hold, fixed_targets, run_policy
from tests.rl._rl_parts import random_market

# bars 0-2 flat; bar 3 opens +10 % on A and closes +10 % above its open (B −10 %);
# bar 4 opens 10 % above bar 3's close on A (a gap), flat on B
CLOSE = np.array([[100, 50], [100, 50], [100, 50], [121, 45], [133.1, 45], [133.1, 45]])
OPEN = np.array([[100, 50], [100, 50], [100, 50], [110, 50], [133.1, 45], [133.1, 45]])
HALF = np.array([1.0, 1.0, -1.0])  # relu: 50 % A, 50 % B
CASH = np.array([-1.0, -1.0, -1.0])  # relu: all cash
COST = 0.001 + 10 / 10_000  # commission + 10 bps slippage


def hand_market() -> RLMarket:
    return RLMarket(pd.date_range("2020-01-01", periods=6, freq="B"), ("A", "B"), OPEN, CLOSE)


def env(**settings) -> PortfolioEnv:
    base = {
        "window": 2,
        "rebalance_every": 1,
        "episode_steps": 2,
        "commission": 0.001,
        "slippage_bps": 10,
        "action_map": "relu",
    }
    e = PortfolioEnv(hand_market(), EnvSettings(**(base | settings)))
    e.reset(seed=0, options={"start": 2})
    return e


def test_two_steps_by_hand():
    e = env()
    # step 1, decided at the close of bar 2 from all cash: buy 50/50 at bar 3's open
    # turnover 1 → cost 0.002; then A × 121/110 = 1.1, B × 45/50 = 0.9 → growth 1.0
    _, reward, _, _, info = e.step(HALF)
    assert info["turnover"] == pytest.approx(1.0)
    assert info["cost"] == pytest.approx(0.002)
    assert info["value"] == pytest.approx(0.998)
    assert reward == pytest.approx(math.log(0.998))
    # held at bar 3's close: A 0.55, B 0.45 of 1.0
    # step 2, to cash at bar 4's open: A gapped 133.1/121 = 1.1 → value 0.998 × 1.055,
    # all of it sold (turnover 0.55·1.1/1.055 + 0.45/1.055 = 1), cost 0.2 % of that value
    _, reward, _, truncated, info = e.step(CASH)
    value = 0.998 * 1.055 * (1 - 0.002)
    assert info["turnover"] == pytest.approx(1.0)
    assert info["cost"] == pytest.approx(0.998 * 1.055 * 0.002)
    assert info["value"] == pytest.approx(value)
    assert reward == pytest.approx(math.log(value / 0.998))
    assert truncated


def test_drawdown_penalty_by_hand():
    e = env(risk_penalty="drawdown", risk_aversion=2.0)
    _, reward, *_ = e.step(HALF)
    # drawdown from the peak 1 grows from 0 to 0.002: penalty 2 × 0.002
    assert reward == pytest.approx(math.log(0.998) - 2 * 0.002)
    _, reward, *_ = e.step(CASH)
    # a new peak: the drawdown shrinks, no penalty
    assert reward == pytest.approx(math.log(1.055 * 0.998))


def test_variance_penalty_by_hand():
    e = env(risk_penalty="variance", risk_aversion=3.0)
    _, reward, *_ = e.step(HALF)
    r = math.log(0.998)
    assert reward == pytest.approx(r - 3.0 * r * r)


def test_no_cost_when_already_at_the_target():
    e = env()
    e.step(np.array([1.0, -1.0, -1.0]))  # all in A at bar 3's open
    # at bar 4's open the portfolio is 100 % A; asking for 100 % A trades nothing
    _, _, _, _, info = e.step(np.array([1.0, -1.0, -1.0]))
    assert info["turnover"] == pytest.approx(0.0, abs=1e-15)
    assert info["cost"] == pytest.approx(0.0, abs=1e-15)


def test_evaluation_marks_every_close_and_ends_where_the_env_ends():
    market = random_market(n_bars=120, n_assets=3, seed=3)
    settings = EnvSettings(window=5, rebalance_every=4, episode_steps=1000)
    target = np.array([0.5, 0.2, 0.1, 0.2])
    run = run_policy(market, settings, fixed_targets(target), 10, 110)
    assert len(run.equity) == len(run.dates) == 101
    # the environment, stepped with the action whose weights are ``target`` from bar 10
    e = PortfolioEnv(market, settings.model_copy(update={"action_map": "relu"}))
    e.reset(options={"start": 10})
    values = []
    truncated = False
    while not truncated and e._t < 110:
        _, _, _, truncated, info = e.step(target)  # relu of a point of the simplex = itself
        values.append(info["value"])
    np.testing.assert_allclose(run.equity[4::4], values[: len(run.equity[4::4])], rtol=1e-12)
    # within a holding period the value is the held units at each close; from cash the first
    # trade buys 0.8 of the value (turnover 0.8)
    assert run.turnover[0] == pytest.approx(0.8)
    first_hold = (1 - settings.cost_rate * 0.8) * (
        target[:-1] @ (market.close[11:15] / market.open[11]).T + target[-1]
    )
    np.testing.assert_allclose(run.equity[1:5], first_hold, rtol=1e-12)


def test_buy_and_hold_trades_once():
    market = random_market(n_bars=200, n_assets=4, seed=5)
    settings = EnvSettings(window=5, rebalance_every=5)
    run = run_policy(market, settings, buy_and_hold(4), 10, 199)
    assert run.turnover[0] == pytest.approx(1.0)
    np.testing.assert_allclose(run.turnover[1:], 0.0, atol=1e-12)
    # equity = cost-charged units of an equal-weight purchase at bar 11's open, at each close
    units = (1 - settings.cost_rate) * 0.25 / market.open[11]
    np.testing.assert_allclose(run.equity[1:], market.close[11:200] @ units, rtol=1e-10)
