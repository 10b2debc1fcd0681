"""The drift-policy rebalancer gives the same fills in a backtest and in a paper replay."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import select

from core.backtest import BacktestConfig, BacktestEngine, build_strategy
from core.db import FillRow, InstrumentRow, PaperSessionRow
from core.execution import CommissionModel, ExecutionConfig, SlippageModel
from core.paper import FeedConfig, SessionConfig, SleeveConfig

SYMBOLS = ("AAPL", "MSFT", "JPM")
PARAMS = {"schedule": "none", "abs_drift": 0.05, "rel_drift": 0.2, "min_interval": 5}
EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.001), slippage=SlippageModel(bps=5))


def paper_fills(ws, session):
    with ws.sessions() as s:
        pid = s.scalar(select(PaperSessionRow.portfolio_id).where(PaperSessionRow.name == session))
        return s.execute(
            select(FillRow.ts, InstrumentRow.symbol, FillRow.side, FillRow.quantity, FillRow.price)
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(FillRow.portfolio_id == pid)
            .order_by(FillRow.id)
        ).all()


def test_drift_rebalancer_fills_match_between_backtest_and_paper(ws):
    config = SessionConfig(
        sleeves=(SleeveConfig(key="rb", strategy="rebalancer", params=PARAMS),),
        feed=FeedConfig(kind="replay", symbols=SYMBOLS, start="2004-01-01", end="2009-12-31"),
        cash=100_000,
        execution=EXECUTION,
        critical_scale=1.0,
    )
    ws.paper.create("drift", config)
    assert ws.paper.worker("drift").run()["status"] == "finished"

    spec = BacktestConfig(
        strategy="rebalancer",
        params=PARAMS,
        symbols=SYMBOLS,
        start="2004-01-01",
        end="2009-12-31",
        cash=100_000,
        execution=EXECUTION,
    )
    market, instruments = ws.backtests.load(spec)
    engine = BacktestEngine(
        build_strategy(spec), market, instruments, cash=100_000, execution=EXECUTION
    )
    executions = engine.run().broker.executions
    history = engine.strategy.rebalance_history_
    # the policy did its job: several drift rebalances, none within 5 bars of the previous
    drift_bars = [r.bar for r in history if any(x.startswith("drift") for x in r.reasons)]
    assert len(drift_bars) >= 3
    bars = [r.bar for r in history]
    assert min(b - a for a, b in pairwise(bars)) >= 5

    expected = [
        (market.index[x.bar].to_pydatetime(), x.symbol, x.side.value, x.quantity, x.price)
        for x in executions
    ]
    assert [tuple(row) for row in paper_fills(ws, "drift")] == expected
    report = ws.paper.reconcile("drift")
    assert report["match"] is True
    assert report["strategies"]["rb"]["matched"] == len(executions)
