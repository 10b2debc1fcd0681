"""``q_weights`` runs the same code in a backtest and a paper session: equal fill for fill.

Online learning writes new model versions and never changes the trained artifact.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.backtest import BacktestConfig, BacktestEngine, build_strategy
from core.db import FillRow, InstrumentRow, PaperSessionRow
from core.errors import InvalidInputError
from core.execution import CommissionModel, ExecutionConfig, SlippageModel
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from tests.rl._qlearning_parts import (
    KnownStrategies,
    open_ws,
    request_for,
    two_regime_closes,
    write_market,
)

EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.0005), slippage=SlippageModel(bps=2))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    strategies = KnownStrategies(tmp_path_factory.mktemp("strategies"))
    closes, _ = two_regime_closes(900)
    path = write_market(tmp_path_factory.mktemp("market") / "two.csv", closes)
    ws = open_ws(tmp_path_factory.mktemp("ws"))
    out = ws.qlearning.train(request_for(path, episodes=30))
    yield ws, path, out["model_id"]
    ws.close()
    strategies.remove()


def paper_fills(ws, session, sleeve="qw"):
    with ws.sessions() as s:
        pid = s.scalar(select(PaperSessionRow.portfolio_id).where(PaperSessionRow.name == session))
        return s.execute(
            select(FillRow.ts, InstrumentRow.symbol, FillRow.side, FillRow.quantity, FillRow.price)
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(FillRow.portfolio_id == pid, FillRow.strategy == sleeve)
            .order_by(FillRow.id)
        ).all()


def backtest(ws, path: Path, params: dict, cash: float = 100_000):
    spec = BacktestConfig(strategy="q_weights", params=params, data_file=str(path))
    market, instruments = ws.backtests.load(spec)
    engine = BacktestEngine(
        build_strategy(spec, ws.strategy_models),
        market,
        instruments,
        cash=cash,
        execution=EXECUTION,
    )
    raw = engine.run()
    return market, raw.broker.executions, engine.strategy


def session(ws, name: str, path: Path, params: dict, *, share: float = 1.0) -> None:
    """A paper replay of ``path``: q_weights on ``share`` of the cash, SMA 10/40 on the rest."""
    sleeves = [SleeveConfig(key="qw", strategy="q_weights", params=params, allocation=share)]
    if share < 1:
        sleeves.append(
            SleeveConfig(
                key="sma",
                strategy="sma_crossover",
                params={"fast": 10, "slow": 40},
                allocation=round(1 - share, 10),
            )
        )
    config = SessionConfig(
        sleeves=tuple(sleeves),
        feed=FeedConfig(kind="replay", data_file=str(path)),
        cash=100_000,
        execution=EXECUTION,
    )
    ws.paper.create(name, config)
    assert ws.paper.worker(name).run()["status"] == "finished"


def test_a_backtest_and_a_multi_strategy_paper_replay_fill_alike(setup):
    ws, path, model_id = setup
    params = {"model_id": model_id}
    session(ws, "qw", path, params, share=0.6)  # beside an SMA sleeve on 40 % of the cash
    market, executions, strategy = backtest(ws, path, params, cash=60_000)
    weights = [tuple(w) for _, _, w in strategy.decisions_]
    changes = sum(a != b for a, b in pairwise(weights))
    assert changes >= 5  # the policy moved the weights, so there is something to compare
    assert len(executions) >= 10
    expected = [
        (market.index[x.bar].to_pydatetime(), x.symbol, x.side.value, x.quantity, x.price)
        for x in executions
    ]
    assert [tuple(row) for row in paper_fills(ws, "qw")] == expected
    assert paper_fills(ws, "qw", "sma")  # the other sleeve traded too
    report = ws.paper.reconcile("qw")
    assert report["match"] is True
    assert report["strategies"]["qw"]["matched"] == len(executions)


def test_fills_up_to_a_bar_do_not_change_when_the_later_bars_are_cut(setup, tmp_path):
    ws, path, model_id = setup
    closes, _ = two_regime_closes(900)
    cut = write_market(tmp_path / "two.csv", closes[:600])
    _, full, _ = backtest(ws, path, {"model_id": model_id})
    _, short, strategy = backtest(ws, cut, {"model_id": model_id})
    before = [(x.bar, x.side, x.quantity, x.price) for x in full if x.bar < 599]
    assert before == [(x.bar, x.side, x.quantity, x.price) for x in short if x.bar < 599]
    assert len(before) >= 5
    assert all(bar < 600 for bar, _, _ in strategy.decisions_)


def test_online_learning_saves_new_versions_and_keeps_the_trained_table(setup):
    ws, path, model_id = setup
    trained = ws.models.read_artifact(model_id)
    sha = ws.models.require(model_id).sha256
    params = {"model_id": model_id, "online": True, "save_every": 10}
    session(ws, "qw online", path, params)
    versions = [r for r in ws.qlearning.list() if r.id != model_id]
    assert versions and all(r.spec["parent"] == model_id for r in versions)
    assert ws.models.read_artifact(model_id) == trained
    assert ws.models.require(model_id).sha256 == sha
    latest = max(versions, key=lambda r: r.spec["online_updates"])
    updated, original = ws.qlearning.load(latest.id), ws.qlearning.load(model_id)
    assert updated.parent == model_id and updated.updates == latest.spec["online_updates"]
    assert updated.q != original.q and updated.encoder == original.encoder
    # the backtest learns the same way (one code path): same fills, same last version
    _, executions, strategy = backtest(ws, path, params)
    assert len(paper_fills(ws, "qw online")) == len(executions)
    assert strategy.model_id_ == latest.id


def test_the_mixer_trades_the_weighted_directions_worked_by_hand(setup, tmp_path):
    # flat price 100, no costs, all-in sizing (1,000 units for 100,000), equal weights:
    # bar 1 a long → 0.5 → go long × 0.5: 500 at bar 2's open
    # bar 3 b long → 1.0 → grow 500 → 1,000, capped at 98 % of the 50,000 cash: +490
    # bar 5 a flat → 0.5 → 990 × 0.5 / 1.0 = 495: −495
    # bar 7 b short → −0.5 → go short × 0.5: close the 495, then short 1,000 × 0.5 = 500
    ws, _, _ = setup
    path = write_market(tmp_path / "flat.csv", np.full(10, 100.0))
    spec = BacktestConfig(
        strategy="q_weights",
        params={"strategies": "test_script_a,test_script_b"},
        data_file=str(path),
    )
    market, instruments = ws.backtests.load(spec)
    raw = BacktestEngine(
        build_strategy(spec, ws.strategy_models), market, instruments, cash=100_000
    ).run()
    fills = [(x.bar, x.side.value, x.quantity, x.price) for x in raw.broker.executions]
    assert fills == [
        (2, "buy", 500, 100.0),
        (4, "buy", 490, 100.0),
        (6, "sell", 495, 100.0),
        (8, "sell", 495, 100.0),
        (8, "sell", 500, 100.0),
    ]
    assert raw.ledger.quantity("FLAT") == -500


@pytest.mark.parametrize("sleeves", ["rebalancer,sma_crossover", "q_weights,sma_crossover"])
def test_a_sleeve_that_is_no_single_instrument_strategy_is_refused(setup, sleeves):
    ws, path, _ = setup
    spec = BacktestConfig(strategy="q_weights", params={"strategies": sleeves}, data_file=str(path))
    with pytest.raises(InvalidInputError, match="cannot be a sleeve"):
        ws.backtests.run(spec, save=False)
