"""Risk approval of a whole rebalance: each rejection and each scaling, with its numbers."""

from __future__ import annotations

import pytest

from core.autopilot import HEADROOM, Account, approve, check_orders
from core.rebalance import PlannedOrder
from core.risk import RiskLimits, TradingState

PRICES = {s: 100.0 for s in "ABCDEFGHIJKL"}


def cash_account(cash=100_000.0, positions=None, peak=0.0, state=TradingState.ACTIVE):
    return Account(cash, dict(positions or {}), dict(PRICES), peak, state)


def by_rule(approval):
    return {c["rule"]: c for c in approval.checks}


def test_weights_within_every_limit_are_approved_unchanged():
    targets = {s: 0.08 for s in "ABC"}  # 24 % turnover, 8 % each, 24 % top three
    approval = approve(targets, cash_account(), RiskLimits())
    assert approval.status == "approved" and approval.approved
    assert approval.weights == targets
    assert {c["outcome"] for c in approval.checks} == {"pass"}


def test_the_kill_switch_rejects_with_status_halted():
    approval = approve({"A": 0.05}, cash_account(state=TradingState.HALTED), RiskLimits())
    assert approval.status == "halted" and not approval.approved
    assert by_rule(approval)["trading_state"]["outcome"] == "block"


def test_a_drawdown_beyond_the_limit_rejects_with_the_numbers():
    # equity 84,000 against a peak of 100,000: 16 % > 15 %
    approval = approve({"A": 0.05}, cash_account(84_000.0, peak=100_000.0), RiskLimits())
    check = by_rule(approval)["max_drawdown"]
    assert approval.status == "rejected" and not approval.approved
    assert check["value"] == pytest.approx(0.16) and check["limit"] == 0.15
    assert "16.00%" in check["message"]
    # 14 % passes
    assert approve({"A": 0.05}, cash_account(86_000.0, peak=100_000.0), RiskLimits()).approved


def test_beyond_the_drawdown_stop_only_reductions_go_through():
    # equity 80,000 (A 10,000 = 12.5 %, B 10,000 = 12.5 %) against a peak of 100,000: 20 %
    account = cash_account(60_000.0, {"A": 100.0, "B": 100.0}, peak=100_000.0)
    limits = RiskLimits(max_daily_turnover=None)
    approval = approve({"A": 0.05, "B": 0.2, "C": 0.1}, account, limits)
    # A is cut to 5 %, B stays at what is held (no more), C (new risk) is not bought; then
    # the position cap still cuts B to 10 % less headroom
    assert approval.status == "scaled" and approval.approved
    assert approval.weights == pytest.approx({"A": 0.05, "B": 0.10 * HEADROOM})
    assert by_rule(approval)["max_drawdown"]["outcome"] == "block"


def test_a_position_above_the_cap_is_cut_to_the_cap():
    limits = RiskLimits(max_daily_turnover=None)
    approval = approve({"A": 0.25, "B": 0.05}, cash_account(), limits)
    assert approval.status == "scaled"
    assert approval.weights == {"A": pytest.approx(0.10 * HEADROOM), "B": 0.05}
    assert by_rule(approval)["max_position_weight"]["value"] == 0.25


def test_the_three_largest_are_scaled_to_their_cap():
    limits = RiskLimits(max_position_weight=None, max_daily_turnover=None)
    approval = approve({"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.1}, cash_account(), limits)
    factor = 0.40 * HEADROOM / 0.6
    assert approval.weights == pytest.approx({"A": 0.2 * factor, "B": 0.2 * factor,
                                              "C": 0.2 * factor, "D": 0.1})  # fmt: skip
    assert by_rule(approval)["max_top3_weight"]["value"] == pytest.approx(0.6)


def test_invested_weight_is_scaled_to_leave_the_minimum_cash():
    limits = RiskLimits(max_position_weight=None, max_top3_weight=None, max_daily_turnover=None)
    targets = {s: 0.1 for s in "ABCDEFGHIJ"}  # fully invested
    approval = approve(targets, cash_account(), limits)
    factor = 0.98 * HEADROOM / 1.0
    assert sum(approval.weights.values()) == pytest.approx(factor)
    assert by_rule(approval)["min_cash"]["value"] == pytest.approx(0.0)


def test_turnover_spends_its_budget_on_sales_first():
    # held: A 50 %, cash 50 %; target: B 30 %, C 30 % -> sells 0.5, buys 0.6, turnover 110 %
    account = cash_account(50_000.0, {"A": 500.0})
    limits = RiskLimits(max_position_weight=None, max_top3_weight=None)
    approval = approve({"B": 0.3, "C": 0.3}, account, limits)
    budget = 0.30 * HEADROOM
    assert by_rule(approval)["max_daily_turnover"]["value"] == pytest.approx(1.1)
    # sales alone exceed the budget: A goes from 50 % down by the budget, nothing is bought
    assert approval.weights == pytest.approx({"A": 0.5 - budget})
    # with a smaller position to sell, the rest of the budget buys pro rata
    small = cash_account(90_000.0, {"A": 100.0})  # A 10 %
    approval = approve({"B": 0.3, "C": 0.3}, small, limits)
    k_buy = (budget - 0.1) / 0.6
    assert approval.weights == pytest.approx({"B": 0.3 * k_buy, "C": 0.3 * k_buy})


def test_reducing_only_caps_every_target_at_what_is_held():
    account = cash_account(90_000.0, {"A": 100.0}, state=TradingState.REDUCING_ONLY)
    approval = approve({"A": 0.05, "B": 0.05}, account, RiskLimits())
    assert approval.weights == pytest.approx({"A": 0.05})


def test_check_orders_blocks_a_purchase_the_cash_cannot_cover_and_sells_first():
    account = cash_account(1_000.0, {"A": 990.0})  # equity 100,000, cash 1 %
    limits = RiskLimits(max_position_weight=None, max_top3_weight=None, max_daily_turnover=None)
    buy = PlannedOrder("B", "buy", 5.0, 100.0, 100.0, 0.0, 0.0, 0.0)
    sell = PlannedOrder("A", "sell", 10.0, 100.0, 100.0, 0.0, 0.0, 0.0)
    passed, reports = check_orders([buy], account, limits)
    assert passed == [] and reports[0].blocked  # cash 500 of 100,000 after: 0.5 % < 2 %
    passed, reports = check_orders([buy, sell], account, limits)
    # the sale goes first: cash 2,000, then the purchase leaves 1,500 = 1.5 % < 2 %: still blocked
    assert [o.symbol for o in passed] == ["A"] and reports[1].blocked
    bigger_sale = PlannedOrder("A", "sell", 20.0, 100.0, 100.0, 0.0, 0.0, 0.0)
    passed, _ = check_orders([buy, bigger_sale], account, limits)
    assert [o.symbol for o in passed] == ["A", "B"]  # 3,000 - 500 = 2.5 % ≥ 2 %
