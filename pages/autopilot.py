"""Autopilot: the market regime, the rules that pick a strategy, the weights risk approves, dry-run
or paper runs, the schedule, the rebalancing log and the simulation over history."""

from datetime import date

import streamlit as st

from app import autopilot_panels as panels
from app.services import workstation

ws = workstation()
st.title("Autopilot")

names = ws.portfolios.names()
if not names:
    st.info("No portfolio yet: create one on the Portfolio Lab page.")
    st.stop()
c1, c2 = st.columns([2, 1])
account = c1.selectbox("Account the autopilot manages", names, key="ap_account")
as_of = c2.date_input("As of (data up to this day)", date(2022, 12, 28), key="ap_as_of")

st.subheader("Market regime")
panels.regime_now(ws.autopilot.regime(as_of, store_it=False).to_dict())
panels.regime_history(ws, as_of)

st.subheader("Rules")
panels.rules_editor(ws)

st.subheader("Decision")
result = panels.run_buttons(ws, account, as_of)
panels.decision_view(result or ws.autopilot.decide(account, as_of).to_dict())

st.subheader("Schedule")
panels.schedule_view(ws, account)

st.subheader("Rebalancing log")
panels.log_view(ws, account)

st.subheader("Historical simulation: ML against mock")
panels.simulation_view(ws, date(2019, 1, 2), as_of)
