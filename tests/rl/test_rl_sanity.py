"""The evaluation on a market whose best allocation is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from core.rl import EnvSettings, compare, run_policy
from tests.rl._rl_parts import drift_market


class Oracle:
    """A stand-in for a trained policy that always holds asset A (what PPO should learn)."""

    model_id = "oracle"
    symbols = ("A", "B", "C")
    settings = EnvSettings(window=5)
    history_needed = 6

    def target(self, closes, held):
        assert len(closes) == self.history_needed  # it is shown closes up to the bar only
        return np.array([1.0, 0.0, 0.0, 0.0])


def test_holding_the_drifting_asset_beats_every_baseline_out_of_sample():
    market = drift_market()
    runs = compare(Oracle(), market, (0, 999), (999, 1499))
    test = {name: run.metrics() for name, run in runs["test"].items()}
    assert set(test) == {"ppo", "equal_weight", "min_variance", "max_sharpe", "buy_hold"}
    best = max(test, key=lambda name: test[name]["sharpe"])
    assert best == "ppo"
    # the oracle buys once and then holds: only the first decision trades
    assert test["ppo"]["n_rebalances"] == 1
    # its equity is A's path from the first test open, net of one full purchase
    expected = (1 - Oracle.settings.cost_rate) * market.close[1000:1500, 0] / market.open[1000, 0]
    np.testing.assert_allclose(runs["test"]["ppo"].equity[1:], expected, rtol=1e-12)
    # maximum Sharpe, fitted on the training bars, also finds A
    assert runs["test"]["max_sharpe"].weights[0, 0] > 0.9


def test_costs_are_the_same_for_every_policy():
    market = drift_market(n_bars=400)
    free = EnvSettings(window=5, commission=0, slippage_bps=0)
    costly = EnvSettings(window=5, commission=0.01, slippage_bps=0)
    half = np.array([0.5, 0.5, 0.0, 0.0])
    flip = {"n": 0}

    def alternate(t, held):  # 100 % turnover at every decision after the first
        flip["n"] += 1
        return half if flip["n"] % 2 else np.array([0.0, 0.0, 0.5, 0.5])

    run_free = run_policy(market, free, alternate, 10, 390)
    flip["n"] = 0
    run_costly = run_policy(market, costly, alternate, 10, 390)
    # each decision's cost = 1 % of the value at the open × its turnover
    assert run_costly.costs.sum() == pytest.approx(
        0.01 * np.sum(run_costly.turnover * _open_values(run_costly, market, costly)), rel=1e-9
    )
    assert run_costly.equity[-1] < run_free.equity[-1]


def _open_values(run, market, settings):
    """The portfolio's value at each decision's next open (before the trade)."""
    k = settings.rebalance_every
    values = []
    for d, t in enumerate(range(10, 390, k)):
        before = run.equity[d * k]  # value at the decision close
        held_open = 1.0 if d == 0 else None
        if d:
            prev = run.weights[d - 1]
            ride = market.close[t] / market.open[t - k + 1]
            held = prev[:-1] * ride / (prev[:-1] @ ride + prev[-1])
            held_open = held @ (market.open[t + 1] / market.close[t]) + (1 - held.sum())
        values.append(before * held_open)
    return np.array(values)
