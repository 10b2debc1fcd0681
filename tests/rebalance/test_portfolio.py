"""Rebalancing a stored portfolio: the plan, execution, audit history and the command line."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest

from core.audit import verify_chain
from core.cli import main
from core.execution import CommissionModel
from core.portfolio import PortfolioError
from core.rebalance import (
    RebalancePolicy,
    RebalanceService,
    execute_plan,
    plan_portfolio_rebalance,
    rebalance_history,
)

RATE = 0.001


@pytest.fixture
def portfolio(ws):
    ws.portfolios.create("P", 100_000, created_at=datetime(2022, 1, 3))
    ws.portfolios.trade("P", "AAPL", "buy", 200, 100.0, ts=datetime(2022, 12, 28, 16))
    ws.portfolios.set_target_weights("P", {"AAPL": 0.5, "MSFT": 0.5})
    return "P"


def expected_orders(raw_closes):
    """Two passes: size on equity, then on equity less the first pass's commission."""
    a, m = (raw_closes.last_on_or_before(s, "2022-12-28") for s in ("AAPL", "MSFT"))
    equity = 100_000 - 200 * 100.0 + 200 * a
    buy_a, buy_m = math.floor(0.5 * equity / a) - 200, math.floor(0.5 * equity / m)
    cost = RATE * (buy_a * a + buy_m * m)
    sized = equity - cost
    buy_a, buy_m = math.floor(0.5 * sized / a) - 200, math.floor(0.5 * sized / m)
    return equity, a, m, buy_a, buy_m, RATE * (buy_a * a + buy_m * m)


def test_plan_shows_drift_orders_and_costs(ws, portfolio, raw_closes):
    equity, a, m, buy_a, buy_m, cost = expected_orders(raw_closes)
    plan = plan_portfolio_rebalance(ws, portfolio, commission=CommissionModel(rate=RATE))
    assert plan.equity == pytest.approx(equity)
    weight_a = 200 * a / equity
    assert plan.decision.drifts == pytest.approx({"AAPL": weight_a - 0.5, "MSFT": -0.5})
    assert plan.decision.rebalance
    assert plan.decision.reasons == [
        f"drift AAPL {(weight_a - 0.5) * 100:+.2f} pp ≥ 5.00 pp",
        "drift MSFT -50.00 pp ≥ 5.00 pp",
    ]
    got = [(o.symbol, o.side, o.quantity, o.est_price) for o in plan.orders.orders]
    assert got == [("AAPL", "buy", buy_a, a), ("MSFT", "buy", buy_m, m)]
    assert plan.orders.total_cost == pytest.approx(cost)


def test_execute_books_the_orders_and_records_the_rebalance(ws, portfolio, raw_closes):
    _, a, m, buy_a, buy_m, cost = expected_orders(raw_closes)
    plan = plan_portfolio_rebalance(ws, portfolio, commission=CommissionModel(rate=RATE))
    executed = execute_plan(ws, portfolio, plan)

    assert (executed.n_orders, executed.plan_id) == (2, plan.plan_id)
    assert executed.total_cost == pytest.approx(cost)
    assert len(executed.fills) == 2
    ledger = ws.portfolios.ledger(portfolio)
    assert (ledger.quantity("AAPL"), ledger.quantity("MSFT")) == (200 + buy_a, buy_m)
    assert ledger.cash == pytest.approx(80_000 - buy_a * a - buy_m * m - cost)
    assert ledger.cash >= 0
    history = rebalance_history(ws, portfolio)
    assert len(history) == 1
    assert history.iloc[0]["n_orders"] == 2
    assert history.iloc[0]["total_cost"] == pytest.approx(cost)
    assert history.iloc[0]["reasons"].startswith("drift AAPL")
    with ws.sessions() as session:
        assert verify_chain(session).ok
    (event,) = ws.audit.events(kind="rebalance")["payload"]
    assert event == executed.to_dict()  # the audit payload: the same keys, in the same order
    assert list(event) == [
        "plan_id",
        "reasons",
        "drifts",
        "orders",
        "n_orders",
        "total_cost",
        "drawdown_level",
        "volatility",
        "fills",
    ]
    # now on target: not due, and the old plan is refused (the holdings changed)
    again = plan_portfolio_rebalance(ws, portfolio)
    assert not again.decision.rebalance
    assert max(abs(d) for d in again.decision.drifts.values()) < 0.01
    assert again.last_rebalance is not None
    with pytest.raises(PortfolioError, match="changed since the plan"):
        execute_plan(ws, portfolio, plan)


def test_min_interval_counts_business_days_since_the_last_rebalance(ws, portfolio):
    plan = plan_portfolio_rebalance(ws, portfolio)
    execute_plan(ws, portfolio, plan)
    ws.portfolios.set_target_weights(portfolio, {"AAPL": 0.9})
    blocked = plan_portfolio_rebalance(ws, portfolio, RebalancePolicy(min_interval_bars=1))
    assert blocked.decision.reasons and not blocked.decision.rebalance
    assert blocked.decision.blocked_by.startswith("minimum interval: 0 of 1 bars")


def test_without_targets_it_says_so_and_writes_nothing(ws, table_counts):
    ws.portfolios.create("Q", 1000)
    before = table_counts(ws)
    with pytest.raises(PortfolioError, match="'Q' has no target weights"):
        plan_portfolio_rebalance(ws, "Q")
    with pytest.raises(PortfolioError, match="no portfolio named 'Z'"):
        plan_portfolio_rebalance(ws, "Z")
    assert table_counts(ws) == before


def test_command_line_plans_and_executes(ws, db_url, portfolio, capsys, raw_closes):
    *_, buy_a, buy_m, cost = expected_orders(raw_closes)
    argv = ["--db", db_url, "--json", "rebalance", "--portfolio", "P", "--commission", "0.001"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["rebalance"] is True and payload["executed"] is False
    assert [r.split()[1] for r in payload["reasons"]] == ["AAPL", "MSFT"]
    assert payload["drifts"]["MSFT"] == pytest.approx(-0.5)
    assert [(o["symbol"], o["side"], o["quantity"]) for o in payload["orders"]] == [
        ("AAPL", "buy", buy_a),
        ("MSFT", "buy", buy_m),
    ]
    assert payload["total_cost"] == pytest.approx(cost)
    assert main([*argv, "--execute"]) == 0
    assert json.loads(capsys.readouterr().out)["executed"] is True
    assert ws.portfolios.ledger("P").quantity("MSFT") == buy_m
    assert main([*argv, "--abs", "-1"]) == 1
    assert "--abs: " in json.loads(capsys.readouterr().out)["error"]  # names the option


def test_service_built_from_its_three_collaborators_plans_and_books(ws, portfolio, raw_closes):
    """The service needs the portfolios, the market and the sessions, not the workstation."""
    equity, _, _, buy_a, buy_m, _ = expected_orders(raw_closes)
    service = RebalanceService(ws.portfolios, ws.market, ws.sessions)
    plan = service.plan(portfolio, commission=CommissionModel(rate=RATE))
    assert plan.equity == pytest.approx(equity)
    assert [(o.symbol, o.quantity) for o in plan.orders.orders] == [
        ("AAPL", buy_a),
        ("MSFT", buy_m),
    ]
    service.execute(portfolio, plan, actor="test")
    assert ws.portfolios.ledger(portfolio).quantity("MSFT") == buy_m
    history = ws.rebalance.history(portfolio)  # the workstation's own service reads it back
    assert list(history["actor"]) == ["test"]
    assert list(history["plan_id"]) == [plan.plan_id]
