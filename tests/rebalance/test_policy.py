"""The rebalancing decision at its boundaries, and costed orders worked by hand."""

from __future__ import annotations

import math

import pytest

from core.execution import CommissionModel, SlippageModel
from core.instruments import Instrument
from core.rebalance import RebalancePolicy, check_rebalance, rebalance_orders

ABS_ONLY = RebalancePolicy(abs_threshold=0.05, rel_threshold=0)
REL_ONLY = RebalancePolicy(abs_threshold=0, rel_threshold=0.20)


# -- drift bands -----------------------------------------------------------------------------
def test_absolute_drift_of_exactly_five_points_triggers():
    # 0.55 − 0.50 is 0.050000000000000044 in floating point; 0.45 − 0.50 is −0.04999999999999999
    decision = check_rebalance({"A": 0.55, "B": 0.45}, {"A": 0.5, "B": 0.5}, 10, policy=ABS_ONLY)
    assert decision.rebalance
    assert decision.reasons == ["drift A +5.00 pp ≥ 5.00 pp", "drift B -5.00 pp ≥ 5.00 pp"]
    assert decision.drifts == pytest.approx({"A": 0.05, "B": -0.05})


def test_absolute_drift_just_inside_the_band_does_not_trigger():
    decision = check_rebalance(
        {"A": 0.5499, "B": 0.4501}, {"A": 0.5, "B": 0.5}, 10, policy=ABS_ONLY
    )
    assert not decision.rebalance
    assert decision.reasons == []
    assert decision.drifts == pytest.approx({"A": 0.0499, "B": -0.0499})


def test_relative_drift_is_a_fraction_of_the_target_weight():
    # A: 0.12 vs 0.10 is 2 pp (inside 5 pp) but 20 % of its target; B: 2 pp of 0.90 is 2.2 %
    decision = check_rebalance({"A": 0.12, "B": 0.88}, {"A": 0.10, "B": 0.90}, 10)
    assert decision.rebalance
    assert decision.reasons == ["relative drift A +20.0% of target ≥ 20.0%"]
    inside = check_rebalance({"A": 0.1199, "B": 0.8801}, {"A": 0.10, "B": 0.90}, 10)
    assert not inside.rebalance


def test_relative_band_ignores_zero_targets_and_absolute_band_catches_them():
    # a held asset without target: relative drift undefined, 3 pp < 5 pp
    quiet = check_rebalance({"A": 0.97, "Z": 0.03}, {"A": 1.0}, 10)
    assert not quiet.rebalance
    assert quiet.drifts == pytest.approx({"A": -0.03, "Z": 0.03})
    loud = check_rebalance({"A": 0.94, "Z": 0.06}, {"A": 1.0}, 10, policy=ABS_ONLY)
    assert loud.reasons == ["drift A -6.00 pp ≥ 5.00 pp", "drift Z +6.00 pp ≥ 5.00 pp"]


def test_a_zero_threshold_switches_its_band_off():
    off = RebalancePolicy(abs_threshold=0, rel_threshold=0)
    assert not check_rebalance({"A": 1.0}, {"A": 0.1}, 10, policy=off).rebalance


# -- minimum interval -----------------------------------------------------------------------
def test_minimum_interval_blocks_until_enough_bars_have_passed():
    policy = RebalancePolicy(min_interval_bars=5)
    blocked = check_rebalance({"A": 0.7}, {"A": 0.5}, 4, policy=policy)
    assert not blocked.rebalance
    assert blocked.reasons == ["drift A +20.00 pp ≥ 5.00 pp"]
    assert blocked.blocked_by == "minimum interval: 4 of 5 bars since the last rebalance"
    assert check_rebalance({"A": 0.7}, {"A": 0.5}, 5, policy=policy).rebalance
    # never rebalanced: nothing to wait for
    assert check_rebalance({"A": 0.7}, {"A": 0.5}, None, policy=policy).rebalance


# -- schedule -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "ts", "prev_ts", "reasons"),
    [
        ("monthly", "2024-01-31", "2024-01-02", []),
        ("monthly", "2024-02-01", "2024-01-31", ["schedule: first bar of 2024-02"]),
        ("monthly", "2025-01-02", "2024-01-15", ["schedule: first bar of 2025-01"]),  # same month
        ("quarterly", "2024-03-28", "2024-01-02", []),
        ("quarterly", "2024-04-01", "2024-03-28", ["schedule: first bar of 2024-Q2"]),
        ("monthly", "2024-04-01", None, ["schedule: first rebalance"]),
    ],
)
def test_calendar_schedule_fires_on_a_new_month_or_quarter(schedule, ts, prev_ts, reasons):
    policy = RebalancePolicy(schedule=schedule, abs_threshold=0, rel_threshold=0)
    decision = check_rebalance({"A": 0.5}, {"A": 0.5}, 3, ts, prev_ts, policy=policy)
    assert decision.reasons == reasons
    assert decision.rebalance is bool(reasons)


def test_every_n_bars_counts_from_the_last_rebalance():
    policy = RebalancePolicy(schedule="every_n_bars", every_n_bars=21)
    assert not check_rebalance({"A": 0.5}, {"A": 0.5}, 20, policy=policy).rebalance
    due = check_rebalance({"A": 0.5}, {"A": 0.5}, 21, policy=policy)
    assert due.reasons == ["schedule: 21 bars since the last (every 21)"]


# -- risk triggers --------------------------------------------------------------------------
def test_drawdown_level_change_triggers_only_when_switched_on():
    args = ({"A": 0.5}, {"A": 0.5}, 3, None, None, "warning")
    on = RebalancePolicy(drawdown_trigger=True)
    assert check_rebalance(*args, last_drawdown_level="normal", policy=on).reasons == [
        "drawdown level normal → warning"
    ]
    assert not check_rebalance(*args, last_drawdown_level="warning", policy=on).rebalance
    assert not check_rebalance(*args, last_drawdown_level="normal").rebalance


def test_volatility_bound_triggers_once_per_crossing():
    policy = RebalancePolicy(vol_bound=0.20)
    crossing = check_rebalance(
        {"A": 0.5}, {"A": 0.5}, 3, volatility=0.20, last_volatility=0.15, policy=policy
    )
    assert crossing.reasons == ["volatility 20.0% ≥ bound 20.0%"]
    still_above = check_rebalance(
        {"A": 0.5}, {"A": 0.5}, 3, volatility=0.30, last_volatility=0.25, policy=policy
    )
    assert not still_above.rebalance
    below = check_rebalance(
        {"A": 0.5}, {"A": 0.5}, 3, volatility=0.1999, last_volatility=0.1, policy=policy
    )
    assert not below.rebalance


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights_now": {"A": math.nan}}, r"weights_now\['A'\] must be a finite number"),
        ({"targets": {"A": -0.1}}, r"targets must be ≥ 0; negative for \['A'\]"),
        ({"targets": {"A": 0.7, "B": 0.4}}, "targets sum to 1.1 > 1"),
        ({"bars_since_last": -1}, "bars_since_last must be ≥ 0"),
        ({"drawdown_level": "bad"}, "drawdown_level must be one of"),
    ],
)
def test_bad_input_says_what_is_wrong(kwargs, message):
    args = {"weights_now": {"A": 0.5}, "targets": {"A": 0.5}, "bars_since_last": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        check_rebalance(**args)


def test_a_calendar_schedule_needs_the_time():
    with pytest.raises(ValueError, match="monthly schedule needs the bar's time"):
        check_rebalance({}, {}, 1, policy=RebalancePolicy(schedule="monthly"))


def test_policy_rejects_unknown_keys_and_bad_bounds():
    with pytest.raises(ValueError, match="Extra inputs"):
        RebalancePolicy(abs_treshold=0.05)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        RebalancePolicy(abs_threshold=-0.01)


# -- orders and costs ---------------------------------------------------------------------------
STOCKS = {s: Instrument(symbol=s) for s in ("A", "B")}
COSTS = {"commission": CommissionModel(rate=0.001), "slippage": SlippageModel(bps=10)}


def test_orders_and_costs_by_hand():
    # equity 2000 = cash 1500 + 10 A × 50; targets 50/50 → A floor(1000 / 50) = 20, B 50
    # A: buy 10 at 50 × 1.001 = 50.05: commission 10 × 50.05 × 0.001 = 0.5005, slippage
    #    10 × 0.05 = 0.5 → 1.0005; B: buy 50 at 20.02: 1.001 + 1.0 = 2.001; total 3.0015
    plan = rebalance_orders(
        {"A": 10}, {"A": 50, "B": 20}, 2000, {"A": 0.5, "B": 0.5}, STOCKS, **COSTS
    )
    got = [(o.symbol, o.side, o.quantity, o.est_price, o.est_cost) for o in plan.orders]
    assert got == [
        ("A", "buy", 10, pytest.approx(50.05), pytest.approx(1.0005)),
        ("B", "buy", 50, pytest.approx(20.02), pytest.approx(2.001)),
    ]
    assert plan.total_cost == pytest.approx(3.0015)


def test_sells_price_below_the_mark_and_untargeted_holdings_are_sold():
    # A: 30 held, wanted 20 → sell 10 at 49.95: 0.4995 + 0.5; Z: no target → sell all 4
    # at 9.99: 4 × 9.99 × 0.001 = 0.03996 + 4 × 0.01 = 0.04
    plan = rebalance_orders(
        {"A": 30, "Z": 4},
        {"A": 50, "Z": 10},
        2000,
        {"A": 0.5},
        {**STOCKS, "Z": Instrument(symbol="Z")},
        **COSTS,
    )
    got = [(o.symbol, o.side, o.quantity, o.est_cost) for o in plan.orders]
    assert got == [
        ("A", "sell", 10, pytest.approx(0.9995)),
        ("Z", "sell", 4, pytest.approx(0.07996)),
    ]


def test_quantity_step_multiplier_and_minimum_commission():
    # 0.6 × 2000 / (50 × 10) = 2.4 contracts → 2.0 in steps of 0.5; slippage 2 × 0.05 × 10
    # = 1.0; per-share commission 2 × 0.005 = 0.01 raised to the 1.00 minimum
    future = {"F": Instrument(symbol="F", multiplier=10, quantity_step=0.5)}
    plan = rebalance_orders(
        {},
        {"F": 50},
        2000,
        {"F": 0.6},
        future,
        CommissionModel(kind="per_share", per_share=0.005, minimum=1.0),
        SlippageModel(bps=10),
    )
    (order,) = plan.orders
    assert (order.quantity, order.commission, order.slippage) == (
        2.0,
        1.0,
        pytest.approx(1.0),
    )


def test_less_than_one_step_from_target_places_no_order():
    # wanted floor(1000 / 51) = 19 = held
    plan = rebalance_orders({"A": 19}, {"A": 51}, 2000, {"A": 0.5}, STOCKS)
    assert plan.orders == () and plan.total_cost == 0


def test_orders_need_a_price_and_an_instrument():
    with pytest.raises(ValueError, match="no usable price for B"):
        rebalance_orders({}, {"A": 50}, 2000, {"A": 0.5, "B": 0.5}, STOCKS)
    with pytest.raises(ValueError, match="unknown instrument 'C'"):
        rebalance_orders({}, {"C": 50}, 2000, {"C": 0.5}, STOCKS)
