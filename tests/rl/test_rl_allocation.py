"""``rl_allocation``: a trained model's weights in a backtest and a paper replay, fill for fill."""

from __future__ import annotations

import numpy as np
import pytest

from core.backtest import BacktestConfig, BacktestEngine, build_strategy
from core.errors import InvalidInputError, NotFoundError
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.rl import PPOTrainRequest
from core.strategies import build_strategy as strategy_named
from tests.paper.test_worker import fills

SYMBOLS = ("AAPL", "KO")
EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.001))


@pytest.fixture
def model_id(ws) -> str:
    request = PPOTrainRequest.model_validate(
        {
            "symbols": SYMBOLS,
            "train_start": "2014-01-01",
            "train_end": "2015-12-31",
            "test_end": "2016-06-30",
            "timesteps": 64,
            "seed": 5,
            "ppo": {"n_steps": 32, "n_envs": 2, "batch_size": 32, "n_epochs": 1, "net_width": 8},
        }
    )
    return ws.rl.train(request)["model_id"]


def test_backtest_and_paper_replay_match_fill_for_fill(ws, model_id):
    params = {"model_id": model_id}
    config = SessionConfig(
        sleeves=(SleeveConfig(key="rl", strategy="rl_allocation", params=params),),
        feed=FeedConfig(kind="replay", symbols=SYMBOLS, start="2016-01-01", end="2016-12-31"),
        cash=100_000,
        execution=EXECUTION,
    )
    ws.paper.create("rl", config)
    assert ws.paper.worker("rl").run()["status"] == "finished"
    spec = BacktestConfig(
        strategy="rl_allocation",
        params=params,
        symbols=SYMBOLS,
        start="2016-01-01",
        end="2016-12-31",
        cash=100_000,
        execution=EXECUTION,
    )
    market, instruments = ws.backtests.load(spec)
    strategy = build_strategy(spec, ws.strategy_models)
    engine = BacktestEngine(strategy, market, instruments, cash=100_000, execution=EXECUTION)
    executions = engine.run().broker.executions
    paper = fills(ws, "rl")
    assert len(paper) > 10  # the model trades both names, every 21 bars
    assert [
        (market.index[x.bar].to_pydatetime(), x.symbol, x.side.value, x.quantity, x.price)
        for x in executions
    ] == list(
        zip(
            paper["ts"],
            paper["symbol"],
            paper["side"],
            paper["quantity"],
            paper["price"],
            strict=True,
        )
    )
    report = ws.paper.reconcile("rl")
    assert report["match"] is True
    # decisions every 21 bars (the model's frequency) once 21 closes exist (window 20 + 1)
    bars = [bar for bar, _ in strategy.decisions_]
    assert bars[0] == 20 and set(np.diff(bars)) == {21}
    # its weights are the policy's on the closes up to each decision bar
    policy = ws.rl.policy(model_id)
    bar, weights = strategy.decisions_[0]
    closes = market.close[bar - 20 : bar + 1]
    target = policy.target(closes, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose([weights[s] for s in SYMBOLS], target[:2], rtol=1e-6)


def test_without_a_model_or_with_missing_instruments_it_refuses(ws, model_id):
    market, instruments = ws.backtests.load(
        BacktestConfig(strategy="rl_allocation", symbols=("AAPL",), start="2016-01-01")
    )
    with pytest.raises(InvalidInputError, match="choose a trained model"):
        BacktestEngine(strategy_named("rl_allocation", {}), market, instruments, cash=1e5).run()
    with pytest.raises(InvalidInputError, match="needs KO"):
        strategy = strategy_named(
            "rl_allocation", {"model_id": model_id}, models=ws.strategy_models
        )
        BacktestEngine(strategy, market, instruments, cash=1e5).run()
    with pytest.raises(NotFoundError):
        strategy = strategy_named(
            "rl_allocation", {"model_id": "0000000000000000"}, models=ws.strategy_models
        )
        BacktestEngine(strategy, market, instruments, cash=1e5).run()
