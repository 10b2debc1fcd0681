"""Rebalance section: a portfolio's drift against its targets, whether a rebalance is due and
why, the planned orders with estimated costs, executing them, and the rebalance history."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app import format as fmt
from app import widgets
from core.errors import REFUSALS
from core.execution import CommissionModel, SlippageModel
from core.rebalance import (
    PortfolioPlan,
    RebalancePolicy,
    execute_plan,
    plan_portfolio_rebalance,
    rebalance_history,
)
from core.workstation import Workstation

SCHEDULES = {"none": "None", "monthly": "Monthly", "quarterly": "Quarterly"}


def rebalance_section(ws: Workstation) -> None:
    st.subheader("Rebalance")
    names = ws.portfolios.names()
    if not names:
        st.info("No portfolio yet: create one on the Portfolio Lab page.")
        return
    done = st.session_state.pop("rb_done", None)
    if done:
        st.success(widgets.plain(done))
    name = st.selectbox("Portfolio to rebalance", names, key="rb_portfolio")
    policy, costs = _policy_form()
    if policy is None:
        return
    try:
        plan = plan_portfolio_rebalance(ws, name, policy, **costs)
    except REFUSALS as exc:
        st.warning(widgets.plain(widgets.error_message(exc)))
        return
    _decision_view(plan)
    _orders_view(ws, name, plan)
    _history_view(ws, name)


def _policy_form():
    c1, c2, c3 = st.columns(3)
    abs_band = c1.number_input("Absolute band", 0.0, 1.0, 0.05, 0.01, key="rb_abs")
    rel_band = c2.number_input("Relative band (× target)", 0.0, 10.0, 0.20, 0.05, key="rb_rel")
    schedule = c3.selectbox(
        "Schedule", list(SCHEDULES), format_func=SCHEDULES.get, key="rb_schedule"
    )
    c4, c5, c6 = st.columns(3)
    interval = c4.number_input("Minimum interval (business days)", 0, 10_000, 0, key="rb_min")
    rate = c5.number_input("Commission (rate)", 0.0, 0.1, 0.0, 0.0005, "%.4f", key="rb_comm")
    bps = c6.number_input("Slippage (bps)", 0.0, 1000.0, 0.0, 1.0, key="rb_slip")
    try:
        policy = RebalancePolicy(
            abs_threshold=abs_band,
            rel_threshold=rel_band,
            schedule=schedule,
            min_interval_bars=int(interval),
        )
        costs = {"commission": CommissionModel(rate=rate), "slippage": SlippageModel(bps=bps)}
    except ValidationError as exc:
        widgets.show_error(exc)
        return None, None
    return policy, costs


def _decision_view(plan: PortfolioPlan) -> None:
    decision = plan.decision
    if decision.rebalance:
        st.warning(widgets.plain("Rebalance due: " + "; ".join(decision.reasons)))
    elif decision.blocked_by:
        st.info(widgets.plain(f"Held back ({decision.blocked_by}): " + "; ".join(decision.reasons)))
    else:
        st.info("No rebalance due: every weight is inside its bands.")
    rows = [
        {
            "symbol": s,
            "weight": plan.weights.get(s, 0.0),
            "target": plan.targets.get(s, 0.0),
            "drift_pp": d * 100,
        }
        for s, d in decision.drifts.items()
    ]
    fmt.dataframe(
        pd.DataFrame(rows),
        key="rb_drifts",
        hide_index=True,
        column_config={
            "weight": st.column_config.NumberColumn("Weight", format="percent"),
            "target": st.column_config.NumberColumn("Target", format="percent"),
            "drift_pp": st.column_config.NumberColumn("Drift (pp)", format="%+.2f"),
        },
    )


def _orders_view(ws: Workstation, name: str, plan: PortfolioPlan) -> None:
    orders = pd.DataFrame(
        plan.orders.to_dicts(),
        columns=[
            "symbol",
            "side",
            "quantity",
            "price",
            "est_price",
            "commission",
            "slippage",
            "est_cost",
        ],
    )
    c1, c2 = st.columns([3, 1])
    with c1:
        fmt.dataframe(orders, key="rb_orders", hide_index=True)
    c2.metric("Estimated cost", f"{plan.orders.total_cost:,.2f}")
    if c2.button("Execute", key="rb_execute", type="primary", disabled=orders.empty):
        try:
            done = execute_plan(ws, name, plan)
        except REFUSALS as exc:
            widgets.show_error(exc)
            return
        st.session_state["rb_done"] = (
            f"Rebalanced {name!r}: {done.n_orders} orders booked, estimated cost "
            f"{done.total_cost:,.2f}"
        )
        st.rerun()


def _history_view(ws: Workstation, name: str) -> None:
    history = rebalance_history(ws, name)
    st.caption(widgets.plain(f"Rebalance history of {name!r} ({len(history)}), newest first"))
    fmt.dataframe(history.drop(columns=["drifts"]), key="rb_history", hide_index=True)
