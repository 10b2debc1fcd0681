"""Each pre-trade rule at its boundaries, with hand-worked numbers.

Every test isolates one rule (the others set to None). Equity is 1,000,000 unless stated,
``warn_at`` is the default 0.8.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from core.risk import (
    OrderIntent,
    PortfolioState,
    RiskLimits,
    TradingState,
    check_order,
)

OFF = {
    "max_position_weight": None,
    "max_top3_weight": None,
    "min_cash": None,
    "max_daily_turnover": None,
    "max_drawdown": None,
    "daily_loss_limit": None,
    "min_adv": None,
    "trading_hours": None,
}


def only(**limit) -> RiskLimits:
    return RiskLimits(**{**OFF, **limit})


def state(**kw) -> PortfolioState:
    base = {"equity": 1_000_000.0, "cash": 1_000_000.0}
    return PortfolioState(**{**base, **kw})


def outcome(rule: str, intent: OrderIntent, st: PortfolioState, limits: RiskLimits) -> str:
    return check_order(intent, st, limits).result(rule).outcome


def buy(qty, price=100.0, symbol="X"):
    return OrderIntent(symbol, "buy", qty, price)


def sell(qty, price=100.0, symbol="X"):
    return OrderIntent(symbol, "sell", qty, price)


# -- max position weight: 10 %, warns from 8 % ------------------------------------------------
@pytest.mark.parametrize(
    ("qty", "expected", "weight"),
    [(790, "pass", 0.079), (850, "warn", 0.085), (1000, "warn", 0.10), (1001, "block", 0.1001)],
)
def test_position_weight_boundaries(qty, expected, weight):
    report = check_order(buy(qty), state(), only(max_position_weight=0.10))
    result = report.result("max_position_weight")
    assert result.outcome == expected
    assert result.value == pytest.approx(weight)
    assert result.limit == 0.10
    assert f"{weight:.2%}" in result.message and "10.00%" in result.message


def test_position_weight_counts_existing_position_and_multiplier():
    # 2 contracts held × 1,000 × multiplier 50 = 100,000; buying 1 more: 150,000 = 15 %
    st = state(positions={"ES": 2}, prices={"ES": 1000.0}, multipliers={"ES": 50.0})
    result = check_order(buy(1, 1000.0, "ES"), st, only(max_position_weight=0.10))
    assert result.result("max_position_weight").value == pytest.approx(0.15)
    assert result.blocked


def test_position_weight_over_limit_does_not_block_a_reduction():
    st = state(positions={"X": 1500}, prices={"X": 100.0})  # 15 % already
    reduce = check_order(sell(200), st, only(max_position_weight=0.10))  # 13 % after
    assert reduce.result("max_position_weight").outcome == "warn"
    assert reduce.result("max_position_weight").value == pytest.approx(0.13)
    assert "reduces the position" in reduce.result("max_position_weight").message
    assert outcome("max_position_weight", buy(1), st, only(max_position_weight=0.10)) == "block"
    # selling 3,000 crosses to a 1,500 short: new risk, 15 %, blocked
    assert outcome("max_position_weight", sell(3000), st, only(max_position_weight=0.10)) == "block"


def test_position_weight_of_a_short_sale_uses_absolute_value():
    assert outcome("max_position_weight", sell(1001), state(), only(max_position_weight=0.1)) == (
        "block"
    )


# -- top three: 40 %, warns from 32 % ---------------------------------------------------------
TOP3 = {
    "positions": {"A": 1200, "B": 1200, "C": 500, "D": 300},
    "prices": dict.fromkeys("ABCD", 100.0),
}


@pytest.mark.parametrize(
    ("qty", "expected", "value"),
    # A 12 % + B 12 % + C after; D (3 %) is fourth and not counted
    [(200, "pass", 0.31), (400, "warn", 0.33), (1100, "warn", 0.40), (1200, "block", 0.41)],
)
def test_top3_boundaries(qty, expected, value):
    result = check_order(buy(qty, symbol="C"), state(**TOP3), only(max_top3_weight=0.40))
    assert result.result("max_top3_weight").outcome == expected
    assert result.result("max_top3_weight").value == pytest.approx(value)


def test_top3_uses_post_trade_ranking():
    # buying 1,000 of a new symbol E (10 %) pushes C (5 %) out of the top three: 12+12+10
    result = check_order(buy(1000, symbol="E"), state(**TOP3), only(max_top3_weight=0.40))
    assert result.result("max_top3_weight").value == pytest.approx(0.34)
    assert "A, B, E" in result.result("max_top3_weight").message


# -- minimum cash: 2 %, warns at or below 2.5 % -----------------------------------------------
@pytest.mark.parametrize(
    ("qty", "expected", "cash_fraction"),
    [(7000, "pass", 0.03), (7600, "warn", 0.024), (8000, "warn", 0.02), (8010, "block", 0.0199)],
)
def test_min_cash_boundaries(qty, expected, cash_fraction):
    result = check_order(buy(qty, 10.0), state(cash=100_000.0), only(min_cash=0.02))  # 10 a share
    assert result.result("min_cash").outcome == expected
    assert result.result("min_cash").value == pytest.approx(cash_fraction)


def test_min_cash_does_not_block_selling_out_of_a_cash_shortfall():
    st = state(cash=10_000.0, positions={"X": 500}, prices={"X": 100.0})
    result = check_order(sell(50), st, only(min_cash=0.02)).result("min_cash")
    assert result.value == pytest.approx(0.015)  # 15,000 / 1,000,000, still short of 2 %
    assert result.outcome == "warn"


# -- daily turnover: 30 %, warns from 24 % ----------------------------------------------------
@pytest.mark.parametrize(
    ("qty", "expected", "value"),
    [(300, "pass", 0.23), (500, "warn", 0.25), (1000, "warn", 0.30), (1001, "block", 0.3001)],
)
def test_turnover_boundaries(qty, expected, value):
    st = state(day_turnover=200_000.0)
    result = check_order(buy(qty), st, only(max_daily_turnover=0.30)).result("max_daily_turnover")
    assert result.outcome == expected
    assert result.value == pytest.approx(value)
    assert "200,000.00" in result.message


# -- max drawdown: 15 %, warns from 12 % ------------------------------------------------------
@pytest.mark.parametrize(
    ("equity", "expected", "value"),
    [
        (890_000, "pass", 0.11),
        (870_000, "warn", 0.13),
        (850_000, "warn", 0.15),
        (840_000, "block", 0.16),
    ],
)
def test_drawdown_boundaries(equity, expected, value):
    st = state(equity=float(equity), cash=float(equity), peak_equity=1_000_000.0)
    result = check_order(buy(10), st, only(max_drawdown=0.15)).result("max_drawdown")
    assert result.outcome == expected
    assert result.value == pytest.approx(value)


def test_drawdown_breach_lets_a_reduction_through():
    st = state(
        equity=840_000.0,
        cash=740_000.0,
        peak_equity=1_000_000.0,
        positions={"X": 1000},
        prices={"X": 100.0},
    )
    report = check_order(sell(400), st, only(max_drawdown=0.15))
    assert report.result("max_drawdown").outcome == "pass"
    assert report.result("max_drawdown").value == pytest.approx(0.16)
    assert not report.blocked
    assert check_order(buy(1), st, only(max_drawdown=0.15)).blocked


# -- daily loss: 2 %, warns from 1.6 % --------------------------------------------------------
@pytest.mark.parametrize(
    ("equity", "expected", "value"),
    [(985_000, "pass", 0.015), (982_000, "warn", 0.018), (979_000, "block", 0.021)],
)
def test_daily_loss_boundaries(equity, expected, value):
    st = state(equity=float(equity), cash=float(equity), day_start_equity=1_000_000.0)
    result = check_order(buy(10), st, only(daily_loss_limit=0.02)).result("daily_loss_limit")
    assert result.outcome == expected
    assert result.value == pytest.approx(value)


def test_daily_loss_breach_lets_a_reduction_through():
    st = state(
        equity=979_000.0,
        cash=879_000.0,
        day_start_equity=1_000_000.0,
        positions={"X": -1000},
        prices={"X": 100.0},
    )
    assert outcome("daily_loss_limit", buy(1000), st, only(daily_loss_limit=0.02)) == "pass"
    assert outcome("daily_loss_limit", sell(1), st, only(daily_loss_limit=0.02)) == "block"


# -- liquidity: min ADV 1,000,000 shares, warns at or below 1,250,000 -------------------------
@pytest.mark.parametrize(
    ("adv", "expected"),
    [(1_500_000, "pass"), (1_200_000, "warn"), (1_000_000, "warn"), (999_999, "block")],
)
def test_min_adv_boundaries(adv, expected):
    st = state(adv={"X": float(adv)})
    assert outcome("min_adv", buy(1), st, only(min_adv=1_000_000)) == expected


def test_min_adv_unknown_volume_warns_and_illiquid_exit_is_allowed():
    assert outcome("min_adv", buy(1), state(), only(min_adv=1e6)) == "warn"
    st = state(adv={"X": 10.0}, positions={"X": 100}, prices={"X": 100.0})
    assert outcome("min_adv", sell(100), st, only(min_adv=1e6)) == "warn"
    assert outcome("min_adv", buy(1), st, only(min_adv=1e6)) == "block"


# -- trading hours ---------------------------------------------------------------------------
HOURS = only(trading_hours={"stock": "09:30-16:00"})


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2024, 1, 3, 9, 29, 59), "block"),  # Wednesday, a second before the open
        (datetime(2024, 1, 3, 9, 30), "pass"),
        (datetime(2024, 1, 3, 15, 59, 59), "pass"),
        (datetime(2024, 1, 3, 16, 0), "block"),  # the close is exclusive
        (datetime(2024, 1, 6, 12, 0), "block"),  # Saturday
    ],
)
def test_trading_hours(now, expected):
    st = state(asset_class={"X": "Stock"}, now=now)
    assert outcome("trading_hours", buy(1), st, HOURS) == expected


def test_trading_hours_only_constrain_listed_classes():
    st = state(asset_class={"BTC": "crypto"}, now=datetime(2024, 1, 6, 3, 0))
    assert outcome("trading_hours", buy(1, symbol="BTC"), st, HOURS) == "pass"


# -- trading state ---------------------------------------------------------------------------
HELD = {"positions": {"X": 500, "S": -500}, "prices": {"X": 100.0, "S": 100.0}}


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        (sell(100), "pass"),
        (sell(500), "pass"),  # to zero
        (sell(600), "block"),  # through zero to a short
        (buy(1), "block"),
        (buy(200, symbol="S"), "pass"),  # covering part of a short
        (sell(1, symbol="S"), "block"),
        (buy(1, symbol="NEW"), "block"),
    ],
)
def test_reducing_only(intent, expected):
    st = state(trading_state="reducing_only", **HELD)
    assert outcome("trading_state", intent, st, only()) == expected


def test_halted_blocks_even_a_reduction():
    st = state(trading_state=TradingState.HALTED, **HELD)
    report = check_order(sell(100), st, only())
    assert report.blocked and report.messages == ["trading_state: trading is halted"]


# -- the report ------------------------------------------------------------------------------
def test_report_outcome_is_the_worst_and_lists_every_configured_rule():
    st = state(cash=100_000.0, day_turnover=200_000.0)
    report = check_order(buy(850), st, RiskLimits())  # defaults
    by_rule = {r.rule: r.outcome for r in report.results}
    assert by_rule == {
        "trading_state": "pass",
        "max_position_weight": "warn",  # 8.5 %
        "max_top3_weight": "pass",  # 8.5 %
        "min_cash": "block",  # (100,000 - 85,000) / 1e6 = 1.5 % < 2 %
        "max_daily_turnover": "warn",  # (200,000 + 85,000) / 1e6 = 28.5 %
        "max_drawdown": "pass",
        "daily_loss_limit": "pass",
    }
    assert report.outcome == "block" and report.blocked
    assert len(report.messages) == 3
    data = report.to_dict()
    assert data["outcome"] == "block" and len(data["results"]) == 7
    assert data["results"][2]["value"] == pytest.approx(0.085)


def test_all_pass_report():
    report = check_order(buy(10), state(), RiskLimits())
    assert report.outcome == "pass" and not report.blocked and report.messages == []


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("X", "hold", 1, 100.0), "side"),
        (("X", "buy", 0, 100.0), "quantity"),
        (("X", "buy", 1, float("nan")), "price"),
        (("", "buy", 1, 100.0), "symbol"),
    ],
)
def test_bad_order_is_rejected_with_the_field(args, message):
    with pytest.raises(ValueError, match=message):
        OrderIntent(*args)


def test_missing_price_of_a_held_symbol_is_named():
    with pytest.raises(ValueError, match="no price for held symbol Y"):
        check_order(buy(1), state(positions={"Y": 10}), only())


def test_bad_state_and_limits():
    with pytest.raises(ValueError, match="trading state must be one of"):
        state(trading_state="paused")
    with pytest.raises(ValidationError, match="max_position_weight"):
        RiskLimits(max_position_weight=-0.1)
    with pytest.raises(ValidationError, match="extra"):
        RiskLimits(max_weight=0.1)
    with pytest.raises(ValidationError, match="09:30-16:00"):
        RiskLimits(trading_hours={"stock": "9am"})
