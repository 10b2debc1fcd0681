"""Risk: a portfolio's VaR/CVaR, volatility and beta, each limit and how much of it is used,
the drawdown controller, stress results, the limits editor and the kill switch."""

import streamlit as st

from app import risk_panels, widgets
from app.services import workstation

ws = workstation()
st.title("Risk")
widgets.flash()

names = ws.portfolios.names()
if not names:
    st.info("No portfolio yet: create one in the Portfolio Lab.")
    st.stop()
left, right = st.columns([3, 1])
name = left.selectbox("Portfolio", names, key="risk_portfolio")
horizon = right.number_input("Horizon (days)", 1, 20, 1, key="risk_horizon")

risk_panels.kill_switch(ws, name)  # first: usable even when the measures cannot be computed
report = risk_panels.report(ws, name, int(horizon))
risk_panels.headline(report)

measures, limits, drawdown, stress, edit = widgets.view_tabs(
    ["Measures", "Limits", "Drawdown", "Stress", "Edit limits"], key="risk_view"
)
with measures:
    risk_panels.greeks_panel(report)
    if report.var:
        risk_panels.var_table(report)
        st.subheader("Contributions to volatility (Euler)")
        risk_panels.contributions_table(report)
with limits:
    risk_panels.enforcement_note(ws, name)
    risk_panels.limit_gauges(report)
with drawdown:
    risk_panels.drawdown_panel(ws, name, report)
with stress:
    risk_panels.stress_table(report)
with edit:
    risk_panels.limits_form(ws, name)
