"""A stored portfolio's risk report against numbers recomputed from the raw bundled CSVs,
and the persistence of limits and trading state in the portfolio's metadata."""

from __future__ import annotations

import csv
import gzip
import math
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import select

from core.audit import verify_chain
from core.db import AuditEventRow
from core.portfolio import PortfolioError
from core.risk import (
    RiskError,
    RiskLimits,
    TradingState,
    load_limits,
    load_trading_state,
    parse_limit_updates,
    portfolio_risk,
    portfolio_state,
    save_limits,
    set_trading_state,
)
from tests.conftest import REPO_ROOT

BOUGHT = datetime(2020, 1, 2, 16)


@pytest.fixture
def held(ws):
    ws.portfolios.create("R", 100_000.0, created_at=BOUGHT)
    ws.portfolios.trade("R", "AAPL", "buy", 200, 100.0, ts=BOUGHT, client_order_id="a")
    ws.portfolios.trade("R", "KO", "buy", 100, 50.0, ts=BOUGHT, client_order_id="b")
    return ws


def _index_returns(n: int) -> np.ndarray:
    with gzip.open(REPO_ROOT / "data/market/sp500_index_close.csv.gz", "rt") as handle:
        closes = np.array([float(r[1]) for r in list(csv.reader(handle))[1:]])
    return closes[-n - 1 :][1:] / closes[-n - 1 :][:-1] - 1


def test_report_measures_match_a_recomputation_from_raw_files(held, raw_closes):
    last = {s: raw_closes._closes[s][-1] for s in ("AAPL", "KO")}
    cash = 100_000 - 200 * 100 - 100 * 50
    equity = cash + 200 * last["AAPL"] + 100 * last["KO"]
    w = np.array([200 * last["AAPL"], 100 * last["KO"]]) / equity
    prices = np.array([raw_closes._closes[s][-505:] for s in ("AAPL", "KO")]).T
    daily = (prices[1:] / prices[:-1] - 1) @ w  # 504 returns
    ordered = np.sort(daily)
    # 504 × 5 % = 25.2 tail observations: VaR is the 26th worst, CVaR weighs it 0.2
    var95 = -ordered[25]
    cvar95 = -(ordered[:25].sum() + 0.2 * ordered[25]) / 25.2

    report = portfolio_risk(held, "R", lookback=504)

    assert report.equity == pytest.approx(equity)
    assert report.n_observations == 504
    assert report.var_95 == pytest.approx(var95)
    assert report.cvar_95 == pytest.approx(cvar95)
    held = report.to_dict()  # with holdings the historical measures follow contributions
    assert list(held)[-5:] == ["contributions", "var_95", "cvar_95", "var_99", "cvar_99"]
    assert held["var_95"] == report.var_95
    historical = next(r for r in report.var if r["method"] == "historical" and r["level"] == 0.95)
    assert historical["var_amount"] == pytest.approx(var95 * equity)
    assert report.volatility == pytest.approx(daily.std(ddof=1) * math.sqrt(252))
    bench = _index_returns(504)
    assert report.beta == pytest.approx(np.cov(daily, bench)[0, 1] / bench.var(ddof=1))
    shares = [c["contribution"] for c in report.contributions]
    assert sum(shares) == pytest.approx(report.volatility, rel=1e-9)
    assert {r["method"] for r in report.var} == {
        "historical",
        "normal",
        "student_t",
        "monte_carlo",
    }


def test_report_limits_drawdown_and_stress(held, raw_closes):
    report = portfolio_risk(held, "R")
    usage = {u["rule"]: u for u in report.limit_usage}
    aapl = 200 * raw_closes._closes["AAPL"][-1] / report.equity
    assert usage["max_position_weight"]["value"] == pytest.approx(aapl)
    assert usage["max_position_weight"]["outcome"] == "block"  # AAPL far above 10 %
    assert usage["min_cash"]["value"] == pytest.approx(75_000 / report.equity)
    assert usage["min_cash"]["outcome"] == "pass"
    gfc = next(s for s in report.stress if s["scenario"] == "gfc_2008")
    assert gfc["pnl"] == pytest.approx(-0.45 * (report.equity - 75_000))
    assert 0 <= report.drawdown["drawdown"] <= report.drawdown["max_drawdown"]


def test_state_of_a_stored_portfolio(held):
    state = portfolio_state(held, "R", now=datetime(2020, 1, 2, 18))
    assert state.positions == {"AAPL": 200, "KO": 100}
    assert state.cash == 75_000
    assert state.day_turnover == pytest.approx(25_000)  # both fills were on that day
    assert state.trading_state is TradingState.ACTIVE


def test_limits_round_trip_and_are_audited(ws):
    ws.portfolios.create("L", 1000.0)
    with ws.sessions.begin() as session:
        assert load_limits(session, "L") == RiskLimits()
        new = parse_limit_updates(
            RiskLimits(),
            ["max_position_weight=0.25", "min_cash=none", "trading_hours.stock=09:30-16:00"],
        )
        changes = save_limits(session, "L", new)
    assert set(changes) == {"max_position_weight", "min_cash", "trading_hours"}
    assert changes["max_position_weight"] == [0.1, 0.25]
    with ws.sessions() as session:
        loaded = load_limits(session, "L")
        assert loaded.max_position_weight == 0.25 and loaded.min_cash is None
        assert loaded.trading_hours["stock"].label() == "09:30-16:00 days 0,1,2,3,4"
        event = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()
        assert (event.kind, event.portfolio) == ("limits_changed", "L")
        assert verify_chain(session).ok


def test_trading_state_switch_is_audited(ws):
    ws.portfolios.create("K", 1000.0)
    with ws.sessions.begin() as session:
        set_trading_state(session, "K", "halted", reason="test")
    with ws.sessions() as session:
        assert load_trading_state(session, "K") is TradingState.HALTED
        event = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()
        assert event.kind == "trading_state"
        assert event.payload == {"from": "active", "to": "halted", "reason": "test"}


def test_switch_to_the_current_state_is_refused_and_writes_nothing(ws, table_counts):
    ws.portfolios.create("H", 1000.0)
    with ws.sessions.begin() as session:
        set_trading_state(session, "H", "halted", reason="desk closed")
    before = table_counts(ws)
    # the kill-switch bug: a note "applied" beside an unchanged (or stale) state
    with (
        pytest.raises(RiskError, match="H: trading is already halted; nothing changed"),
        ws.sessions.begin() as session,
    ):
        set_trading_state(session, "H", "halted", reason="just adding a note")
    assert table_counts(ws) == before
    with ws.sessions() as session:
        assert load_trading_state(session, "H") is TradingState.HALTED


def test_risk_refusals_are_workstation_errors_without_pydantic_dumps():
    from core.errors import WorkstationError

    with pytest.raises(WorkstationError) as caught:
        parse_limit_updates(RiskLimits(), ["warn_at=2", "trading_hours.stock=9am"])
    message = str(caught.value)
    assert message.startswith("risk limits: ")
    assert "warn_at: Input should be less than or equal to 1" in message
    assert "trading_hours.stock: trading hours must look like 09:30-16:00, got '9am'" in message
    assert "pydantic" not in message and "http" not in message and "[type=" not in message


def test_bad_updates_write_nothing(ws, table_counts):
    ws.portfolios.create("B", 1000.0)
    before = table_counts(ws)
    with (
        pytest.raises(ValueError, match=r"trading state: .paused. is not one of"),
        ws.sessions.begin() as session,
    ):
        set_trading_state(session, "B", "paused")
    with (
        pytest.raises(PortfolioError, match="no portfolio named 'nope'"),
        ws.sessions.begin() as session,
    ):
        set_trading_state(session, "nope", "halted")
    with pytest.raises(ValueError, match="unknown limit 'max_weight'"):
        parse_limit_updates(RiskLimits(), ["max_weight=0.2"])
    with pytest.raises(ValueError, match="max_position_weight: Input should be greater than 0"):
        parse_limit_updates(RiskLimits(), ["max_position_weight=-1"])
    with pytest.raises(ValueError, match="needs a number"):
        parse_limit_updates(RiskLimits(), ["min_cash=lots"])
    assert table_counts(ws) == before
