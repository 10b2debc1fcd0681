"""``ml_selection`` trades the walk-forward model's top N, the same in a backtest and a paper
replay, fill for fill; it never trades before the first fold exists."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core.backtest import BacktestConfig, BacktestEngine, build_strategy
from core.db import FillRow, InstrumentRow, PaperSessionRow
from core.errors import InvalidInputError
from core.execution import CommissionModel, ExecutionConfig, SlippageModel
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from tests.ml.conftest import SYMBOLS

EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.001), slippage=SlippageModel(bps=5))


def _paper_fills(ws, session):
    with ws.sessions() as s:
        pid = s.scalar(select(PaperSessionRow.portfolio_id).where(PaperSessionRow.name == session))
        return s.execute(
            select(FillRow.ts, InstrumentRow.symbol, FillRow.side, FillRow.quantity, FillRow.price)
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(FillRow.portfolio_id == pid)
            .order_by(FillRow.id)
        ).all()


@pytest.mark.slow
def test_ml_selection_backtest_and_paper_replay_give_the_same_fills(ws, tiny_model):
    params = {"model_id": tiny_model["model_id"], "top": 2, "every": 5}
    spec = BacktestConfig(
        strategy="ml_selection",
        params=params,
        symbols=SYMBOLS,
        start="2000-01-01",
        end="2003-06-30",
        cash=100_000,
        execution=EXECUTION,
    )
    market, instruments = ws.backtests.load(spec)
    engine = BacktestEngine(
        build_strategy(spec, ws.ml), market, instruments, cash=100_000, execution=EXECUTION
    )
    executions = engine.run().broker.executions
    selections = engine.strategy.selections_
    assert len(executions) > 20 and len(selections) > 10
    first_fold = tiny_model["folds"][0]["test_start"]
    # no trade before a model trained on earlier data exists
    assert str(selections[0]["time"].date()) >= first_fold
    assert all(sum(w > 0 for w in s["weights"].values()) == 2 for s in selections)

    config = SessionConfig(
        sleeves=(SleeveConfig(key="ml", strategy="ml_selection", params=params),),
        feed=FeedConfig(kind="replay", symbols=SYMBOLS, start="2000-01-01", end="2003-06-30"),
        cash=100_000,
        execution=EXECUTION,
        critical_scale=1.0,
    )
    ws.paper.create("mlsel", config)
    assert ws.paper.worker("mlsel").run()["status"] == "finished"
    expected = [
        (market.index[x.bar].to_pydatetime(), x.symbol, x.side.value, x.quantity, x.price)
        for x in executions
    ]
    assert [tuple(row) for row in _paper_fills(ws, "mlsel")] == expected
    report = ws.paper.reconcile("mlsel")
    assert report["match"] is True
    assert report["strategies"]["ml"]["matched"] == len(executions)


def test_ml_selection_holds_what_the_model_scores_highest(ws, tiny_model):
    """At a rebalance the weights go to the two highest scores of ``ws.ml.predict``."""
    params = {"model_id": tiny_model["model_id"], "top": 2, "every": 21}
    spec = BacktestConfig(
        strategy="ml_selection",
        params=params,
        symbols=SYMBOLS,
        start="2000-01-01",
        end="2003-06-30",
        cash=100_000,
    )
    market, instruments = ws.backtests.load(spec)
    engine = BacktestEngine(build_strategy(spec, ws.ml), market, instruments, cash=100_000)
    engine.run()
    chosen = engine.strategy.selections_[3]
    scores = ws.ml.predict(tiny_model["model_id"], chosen["time"], symbols=SYMBOLS)
    held = {s for s, w in chosen["weights"].items() if w > 0}
    assert held == set(scores.index[:2])
    np.testing.assert_allclose(sum(chosen["weights"].values()), 0.98)


def test_ml_selection_without_a_model_source_or_id_is_refused(ws, tiny_model):
    spec = BacktestConfig(
        strategy="ml_selection",
        params={"model_id": tiny_model["model_id"]},
        symbols=SYMBOLS,
        start="2003-01-01",
        end="2003-12-31",
    )
    market, instruments = ws.backtests.load(spec)
    with pytest.raises(InvalidInputError, match="no model source"):
        BacktestEngine(build_strategy(spec), market, instruments, cash=1e5).run()
    with pytest.raises(InvalidInputError, match="model_id"):
        ws.backtests.run(spec.model_copy(update={"params": {}}), save=False)
