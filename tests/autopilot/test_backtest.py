"""The historical simulation: the same decisions as ``run --as-of`` day by day; its metrics."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.autopilot import rebalance_days
from core.autopilot._backtest import performance

START, END = "2021-09-01", "2021-12-31"


@pytest.mark.slow
def test_the_simulation_equals_paper_runs_as_of_each_rebalance_day(ws):
    simulated = ws.autopilot.backtest(START, END, mock=True)
    runs = simulated["runs"]
    assert [r["as_of"] for r in runs] == ["2021-09-01", "2021-10-01", "2021-11-01", "2021-12-01"]
    ws.portfolios.create("ap", 100_000.0)
    for run in runs:
        live = ws.autopilot.run("ap", "paper", run["as_of"], mock=True)
        assert live["status"] == "executed"
        assert (live["strategy"], live["regime"]["label"]) == (run["strategy"], run["regime"])
        assert live["target_weights"] == pytest.approx(run["target_weights"], rel=1e-12)
        order = ("symbol", "side", "quantity", "est_price", "commission")
        assert [[t[k] for k in order] for t in live["trades"]] == [
            [t[k] for k in order] for t in run["trades"]
        ]
        assert live["value_before"] == pytest.approx(run["value_before"], rel=1e-12)
        assert live["value_after"] == pytest.approx(run["value_after"], rel=1e-12)
    ledger = ws.portfolios.ledger("ap")
    marks = {p.symbol: ws.market.last_price(p.symbol, END) for p in ledger.open_positions()}
    final = ledger.cash + sum(p.quantity * marks[p.symbol] for p in ledger.open_positions())
    assert simulated["metrics"]["final_equity"] == pytest.approx(final, rel=1e-12)
    assert set(simulated["baselines"]) == {"equal_weight", "index"}
    assert simulated["metrics"]["costs"] > 0  # commission and slippage are charged


def test_rebalance_days_are_the_first_trading_days_of_each_period():
    days = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-08", "2024-02-01", "2024-02-02"])
    assert list(rebalance_days(days, "monthly").strftime("%m-%d")) == ["01-02", "02-01"]
    assert list(rebalance_days(days, "weekly").strftime("%m-%d")) == ["01-02", "01-08", "02-01"]
    assert len(rebalance_days(days, "daily")) == 5


def test_performance_metrics_by_hand():
    days = pd.bdate_range("2024-01-01", periods=4)
    equity = pd.Series([100.0, 110.0, 99.0, 121.0], index=days)
    m = performance(equity, [{"strategy": "x", "turnover": 0.2, "costs": 1.5}])
    r = [0.1, -0.1, 22 / 99]
    mean = sum(r) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert m["total_return"] == pytest.approx(0.21)
    assert m["max_drawdown"] == pytest.approx(0.1)  # 110 -> 99
    assert m["volatility"] == pytest.approx(std * math.sqrt(252))
    assert m["sharpe"] == pytest.approx(mean * 252 / (std * math.sqrt(252)))
    assert (m["costs"], m["n_rebalances"], m["strategies"]) == (1.5, 1, {"x": 1})
