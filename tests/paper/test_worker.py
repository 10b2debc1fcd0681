"""The paper worker against independent references: the backtester on the same bars, an
uninterrupted run for crash-and-resume, the ledger's own arithmetic for the sleeves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from core.backtest import BacktestConfig, BacktestEngine, RiskOverlay, build_strategy
from core.db import (
    AuditEventRow,
    EquitySnapshotRow,
    FillRow,
    InstrumentRow,
    OrderRow,
    PaperAlertRow,
    PaperBarRow,
    PaperCommandRow,
    PaperEquityRow,
    PaperSessionRow,
    PortfolioRow,
    PositionRow,
)
from core.execution import CommissionModel, ExecutionConfig, Sizing
from core.marketdata import MarketDataError
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.paper._records import Pending


def replay_config(strategy="sma_crossover", params=None, symbols=("SPX",), **extra):
    return SessionConfig(
        sleeves=(SleeveConfig(key=strategy, strategy=strategy, params=params or {}),),
        feed=FeedConfig(kind="replay", symbols=symbols, start="2004-01-01", end="2009-12-31"),
        cash=100_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
        **extra,
    )


def synthetic_config(events=4000, **extra):
    return SessionConfig(
        sleeves=(
            SleeveConfig(
                key="fast", strategy="sma_crossover", params={"fast": 5, "slow": 20}, allocation=0.6
            ),
            SleeveConfig(
                key="slow",
                strategy="sma_crossover",
                params={"fast": 20, "slow": 60},
                allocation=0.3,
            ),
        ),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=11, events=events),
        cash=50_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
        **extra,
    )


def fills(ws, session: str) -> pd.DataFrame:
    with ws.sessions() as s:
        _sid, pid = s.execute(
            select(PaperSessionRow.id, PaperSessionRow.portfolio_id).where(
                PaperSessionRow.name == session
            )
        ).one()
        rows = s.execute(
            select(
                FillRow.fill_id,
                FillRow.ts,
                FillRow.strategy,
                InstrumentRow.symbol,
                FillRow.side,
                FillRow.quantity,
                FillRow.price,
                FillRow.commission,
            )
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(FillRow.portfolio_id == pid)
            .order_by(FillRow.id)
        ).all()
    return pd.DataFrame(
        rows,
        columns=["fill_id", "ts", "strategy", "symbol", "side", "quantity", "price", "commission"],
    )


@pytest.mark.parametrize(
    ("strategy", "params", "symbols"),
    [
        ("sma_crossover", {"fast": 10, "slow": 40}, ("SPX",)),
        ("donchian", {}, ("IXIC",)),
        ("rebalancer", {}, ("AAPL", "MSFT", "JPM")),
    ],
)
def test_replay_matches_the_backtest_fill_for_fill(ws, strategy, params, symbols):
    config = replay_config(strategy, params, symbols)
    ws.paper.create("replay", config)
    summary = ws.paper.worker("replay").run()
    assert summary["status"] == "finished"
    spec = BacktestConfig(
        strategy=strategy,
        params=params,
        symbols=symbols,
        start="2004-01-01",
        end="2009-12-31",
        cash=100_000,
        execution=config.execution,
    )
    backtest = ws.backtests.run(spec, save=False)
    market, instruments = ws.backtests.load(spec)
    engine = BacktestEngine(
        build_strategy(spec), market, instruments, cash=100_000, execution=config.execution
    )
    executions = engine.run().broker.executions
    paper = fills(ws, "replay")
    assert len(paper) > 4
    # every backtest execution, in order, equals the paper fill with the same number
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
    assert summary["equity"] == pytest.approx(backtest.final_equity, rel=1e-12)
    status = ws.paper.status("replay")
    assert status["n_fills"] == len(paper)
    assert status["equity"] == pytest.approx(backtest.final_equity, rel=1e-12)
    report = ws.paper.reconcile("replay")
    assert report["match"] is True
    assert report["strategies"][strategy]["matched"] == len(paper)


def test_synthetic_sleeves_add_up_and_each_equals_its_own_backtest(ws):
    config = synthetic_config()
    ws.paper.create("two", config)
    worker = ws.paper.worker("two")
    worker.run()
    state = ws.paper.snapshot_state("two")
    sleeves = state["strategies"]
    idle = 50_000 * (1 - 0.6 - 0.3)
    assert state["equity"] == pytest.approx(
        idle + sleeves["fast"]["equity"] + sleeves["slow"]["equity"], rel=1e-12
    )
    # the shared portfolio's stored cash + positions at the last marks = that equity
    with ws.sessions() as s:
        row = s.scalar(select(PortfolioRow).where(PortfolioRow.name == "Paper · two"))
        positions = (
            s.execute(select(PositionRow.quantity).where(PositionRow.portfolio_id == row.id))
            .scalars()
            .all()
        )
        cash = row.cash
    mark = next(iter(state["marks"].values()))
    assert cash + sum(positions) * mark == pytest.approx(state["equity"], rel=1e-9)
    # reconciliation backtests each sleeve on its cash share: every fill matches
    report = ws.paper.reconcile("two")
    assert report["match"]
    assert report["strategies"]["fast"]["paper_fills"] == sleeves["fast"]["n_fills"] > 10
    assert report["strategies"]["slow"]["backtest_equity"] == pytest.approx(
        sleeves["slow"]["equity"], rel=1e-12
    )


def test_resume_after_stopping_mid_run_equals_an_uninterrupted_run(ws, tmp_path):
    config = synthetic_config(events=3000)
    ws.paper.create("whole", config)
    ws.paper.worker("whole").run()
    ws.paper.create("parts", config, portfolio="parts")
    for chunk in (700, 1, 900):
        ws.paper.worker("parts").run(max_events=chunk)
    ws.paper.worker("parts").run()
    a, b = fills(ws, "whole"), fills(ws, "parts")
    pd.testing.assert_frame_equal(
        a.drop(columns="fill_id"), b.drop(columns="fill_id"), check_exact=True
    )
    assert ws.paper.status("parts")["equity"] == ws.paper.status("whole")["equity"]
    with ws.sessions() as s:
        bars = s.scalar(
            select(func.count())
            .select_from(PaperBarRow)
            .join(PaperSessionRow, PaperSessionRow.id == PaperBarRow.session_id)
            .where(PaperSessionRow.name == "parts")
        )
        equity = s.scalar(select(func.count()).select_from(PaperEquityRow))
    assert bars == 3000
    assert equity == 6000  # one row per event per session, no gaps, no duplicates


def test_a_retried_commit_writes_no_duplicate_fill(ws):
    ws.paper.create("retry", synthetic_config(events=400))
    worker = ws.paper.worker("retry")
    worker.live = True
    events = worker.feed.events(0)
    while worker.n_fills == 0:
        worker._process(next(events))
    pending = worker.pending
    copy = Pending(
        bars=list(pending.bars),
        equity=list(pending.equity),
        alerts=list(pending.alerts),
        orders=dict(pending.orders),
        fills=list(pending.fills),
        audit=list(pending.audit),
    )
    kwargs = dict(events=worker.seq + 1, last_ts=worker.ts, state=worker.state())
    worker.writer.commit(pending, worker.ledger, **kwargs)
    # the first attempt committed but its caller never heard back: the same write again
    worker.writer.commit(copy, worker.ledger, **kwargs)
    assert worker.writer.retries == 1
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(FillRow)) == worker.n_fills
        assert s.scalar(select(func.count()).select_from(PaperBarRow)) == worker.seq + 1
        assert (
            s.scalar(
                select(func.count()).select_from(AuditEventRow).where(AuditEventRow.kind == "fill")
            )
            == worker.n_fills
        )


def test_commands_reach_the_worker_and_are_replayed_on_resume(ws):
    config = synthetic_config(events=1500)

    def send_commands(name):
        order = ws.paper.send(name, "order", {"side": "sell", "quantity": 7, "strategy": "slow"})
        params = ws.paper.send(name, "params", {"strategy": "fast", "params": {"slow": 30}})
        return order, params

    ws.paper.create("cmd", config)
    ws.paper.worker("cmd").run(max_events=200)
    order_id, params_id = send_commands("cmd")
    ws.paper.worker("cmd").run(max_events=50)
    assert ws.paper.command(order_id)["status"] == "applied"
    assert ws.paper.command(params_id)["status"] == "applied"
    assert ws.paper.command(order_id)["applied_seq"] == 200
    state = ws.paper.snapshot_state("cmd")
    assert state["strategies"]["fast"]["params"]["slow"] == 30
    manual = fills(ws, "cmd")
    manual = manual[(manual["strategy"] == "slow") & (manual["quantity"] == 7)]
    assert len(manual) == 1
    (fill,) = manual.to_dict("records")
    with ws.sessions() as s:  # filled at the open of the event the command preceded
        bar = s.execute(
            select(PaperBarRow.ts, PaperBarRow.open)
            .join(PaperSessionRow, PaperSessionRow.id == PaperBarRow.session_id)
            .where(PaperSessionRow.name == "cmd", PaperBarRow.seq == 200)
        ).one()
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.kind == "params_changed")
            )
            == 1
        )
    assert (fill["side"], fill["ts"], fill["price"]) == ("sell", bar.ts, bar.open)
    assert fill["commission"] == pytest.approx(7 * bar.open * 0.0005)  # the session's 5 bp
    # a resume re-applies both commands before event 200 and ends where a run without
    # interruption after them does
    ws.paper.worker("cmd").run()
    ws.paper.create("straight", config)
    ws.paper.worker("straight").run(max_events=200)
    send_commands("straight")
    ws.paper.worker("straight").run()
    resumed, straight = fills(ws, "cmd"), fills(ws, "straight")
    columns = ["ts", "strategy", "symbol", "side", "quantity", "price", "commission"]
    assert len(resumed) > 1
    pd.testing.assert_frame_equal(resumed[columns], straight[columns])
    resumed_end, straight_end = (
        {k: ws.paper.status(name)[k] for k in ("events", "equity", "cash", "positions")}
        for name in ("cmd", "straight")
    )
    assert resumed_end == straight_end
    assert resumed_end["events"] == 1500
    # the backtester has no commands: the fills differ from the order command on
    report = ws.paper.reconcile("cmd")
    assert not report["match"]
    reasons = {r["reason"] for r in report["fills"] if not r["match"]}
    assert len(reasons) == 1
    (reason,) = reasons
    assert reason.startswith(f"order command #{order_id} (applied) before event 200: ")
    assert reason.endswith("(and 1 more)")  # the params command


def test_pre_trade_checks_block_orders_and_raise_alerts(ws):
    ws.portfolios.create("tight", 100_000)
    with ws.sessions.begin() as s:
        row = s.scalar(select(PortfolioRow).where(PortfolioRow.name == "tight"))
        row.meta = {"risk_limits": {"max_position_weight": 0.5}}
    config = replay_config(
        "sma_crossover", {"fast": 10, "slow": 40}, risk=RiskOverlay(pre_trade=True)
    )
    ws.paper.create("risky", config, portfolio="tight")
    ws.paper.worker("risky").run()
    assert len(fills(ws, "risky")) == 0  # all-in is ~100 % of equity: every entry blocked
    with ws.sessions() as s:
        alerts = s.execute(select(PaperAlertRow.level, PaperAlertRow.rule)).all()
        orders = s.execute(select(OrderRow.status, OrderRow.filled_quantity)).all()
    assert ("block", "max_position_weight") in alerts
    assert {status for status, _ in orders} <= {"rejected", "filled"}
    assert ("rejected", 0.0) in orders
    assert all(filled == 0 for _, filled in orders)  # entries blocked, exits had nothing


def test_drawdown_controller_scales_new_positions(ws):
    config = replay_config("sma_crossover", {"fast": 5, "slow": 20}).model_copy(
        update={
            "risk": RiskOverlay(
                drawdown=True, drawdown_warning=0.01, drawdown_critical=0.02, critical_scale=0.5
            )
        }
    )
    ws.paper.create("dd", config)
    ws.paper.worker("dd").run()
    report = ws.paper.reconcile("dd")
    assert not report["match"]
    first = next(r for r in report["fills"] if not r["match"])
    assert "drawdown critical" in first["reason"]
    side, paper_qty, *rest = first["paper"].split()  # "buy 42 SPX @ 1132.17"
    backtest_side, backtest_qty, *backtest_rest = first["backtest"].split()
    # the same order at the same price until then: the controller halves the all-in quantity
    assert (side, rest) == (backtest_side, backtest_rest)
    assert float(paper_qty) == math.floor(float(backtest_qty) * 0.5)
    # the backtester with the same controller makes the same fills and ends at the same equity
    run = ws.backtests.run(
        BacktestConfig(
            strategy="sma_crossover",
            params={"fast": 5, "slow": 20},
            symbols=("SPX",),
            start="2004-01-01",
            end="2009-12-31",
            cash=100_000,
            execution=config.execution,
            risk=config.risk,
        ),
        save=False,
    )
    paper = fills(ws, "dd")[["side", "quantity", "price"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(paper, run.executions[["side", "quantity", "price"]])
    assert report["strategies"]["sma_crossover"]["paper_equity"] == pytest.approx(
        run.final_equity, rel=1e-12
    )


def test_bad_requests_say_what_is_wrong_and_write_nothing(ws):
    with pytest.raises(MarketDataError, match=r"unknown symbol .NOPE."):
        ws.paper.create("x", replay_config(symbols=("NOPE",)))
    with pytest.raises(ValueError, match="allocations add up"):
        SessionConfig(
            sleeves=(
                SleeveConfig(key="a", strategy="momentum", allocation=0.7),
                SleeveConfig(key="b", strategy="momentum", allocation=0.7),
            ),
            feed=FeedConfig(kind="synthetic"),
        )
    with pytest.raises(ValueError, match="fast"):
        SleeveConfig(key="a", strategy="sma_crossover", params={"fast": 50, "slow": 20})
    with pytest.raises(ValueError, match="session name"):
        ws.paper.create("bad/name", replay_config())
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PaperSessionRow)) == 0
        assert s.scalar(select(func.count()).select_from(PortfolioRow)) == 0
    ws.paper.create("ok", replay_config())
    with pytest.raises(ValueError, match="quantity"):
        ws.paper.send("ok", "order", {"side": "buy", "quantity": -3})
    with pytest.raises(ValueError, match="limit_price"):
        ws.paper.send("ok", "order", {"side": "buy", "quantity": 3, "type": "limit"})
    with pytest.raises(ValueError, match="fast"):
        ws.paper.send("ok", "params", {"params": {"fast": 80}})
    with pytest.raises(ValueError, match="already exists"):
        ws.paper.create("ok", replay_config())
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PaperCommandRow)) == 0


def test_selling_what_the_sleeve_does_not_hold_is_rejected(ws):
    config = replay_config().model_copy(
        update={"execution": ExecutionConfig(allow_short=False, sizing=Sizing())}
    )
    ws.paper.create("short", config)
    ws.paper.worker("short").run(max_events=1)
    command = ws.paper.send("short", "order", {"side": "sell", "quantity": 5})
    ws.paper.worker("short").run(max_events=3)
    assert ws.paper.command(command)["status"] == "applied"  # accepted, then refused at fill
    with ws.sessions() as s:
        statuses = s.execute(select(OrderRow.status)).scalars().all()
    assert "rejected" in statuses
    assert not (fills(ws, "short")["side"] == "sell").any()


def test_portfolio_equity_snapshots_follow_event_time_one_per_bar(ws):
    config = replay_config("sma_crossover", {"fast": 10, "slow": 40})
    ws.paper.create("curve", config)
    for chunk in (400, None):  # stopped and resumed: still one snapshot per bar
        ws.paper.worker("curve").run(max_events=chunk)
    spec = BacktestConfig(
        strategy="sma_crossover",
        params={"fast": 10, "slow": 40},
        symbols=("SPX",),
        start="2004-01-01",
        end="2009-12-31",
        execution=config.execution,
    )
    backtest = ws.backtests.run(spec, save=False)
    with ws.sessions() as s:
        pid = s.scalar(select(PortfolioRow.id).where(PortfolioRow.name == "Paper · curve"))
        rows = s.execute(
            select(EquitySnapshotRow.ts, EquitySnapshotRow.equity)
            .where(EquitySnapshotRow.portfolio_id == pid)
            .order_by(EquitySnapshotRow.ts)
        ).all()
    stamps = [ts for ts, _ in rows]
    # the bars' own times (not the wall clock), every bar once, equity as the backtest's
    assert stamps == [t.to_pydatetime() for t in backtest.equity.index]
    np.testing.assert_allclose([e for _, e in rows], backtest.equity.to_numpy(), rtol=1e-12)


def test_a_session_stored_before_the_shared_overlay_resumes_as_it_ran(ws):
    overlay = RiskOverlay(
        drawdown=True, drawdown_warning=0.01, drawdown_critical=0.02, critical_scale=0.5
    )
    config = replay_config("sma_crossover", {"fast": 5, "slow": 20}, risk=overlay)
    ws.paper.create("new", config, portfolio="new")
    ws.paper.worker("new").run()
    ws.paper.create("old", config, portfolio="old")
    ws.paper.worker("old").run(max_events=700)
    legacy = config.model_dump(mode="json")
    del legacy["risk"]  # how sessions were stored before: flat keys, controller always on
    legacy |= {
        "risk_checks": False,
        "drawdown_warning": 0.01,
        "drawdown_critical": 0.02,
        "critical_scale": 0.5,
    }
    with ws.sessions.begin() as s:
        s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == "old")).config = legacy
    assert ws.paper.config("old").risk == overlay
    ws.paper.worker("old").run()
    a, b = fills(ws, "new"), fills(ws, "old")
    assert len(a) > 10
    pd.testing.assert_frame_equal(a.drop(columns="fill_id"), b.drop(columns="fill_id"))
    # and a stored default of that era (critical_scale 0.5) keeps its controller on
    legacy_default = {k: v for k, v in legacy.items() if k not in {"critical_scale"}}
    assert SessionConfig.model_validate(legacy_default).risk.drawdown is True
