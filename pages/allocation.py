"""Allocation: weights by eight methods under caps, the efficient frontier, risk contributions,
and the chosen weights as a portfolio's targets."""

import streamlit as st

from app import allocation_panels as panels
from app import rebalance_panels
from app.services import workstation

ws = workstation()
st.title("Allocation")

form, results = st.columns([1, 2.8], gap="large")
with form:
    request = panels.request_form(ws)
with results:
    outcome = panels.compute(ws, request) if request is not None else None
    if outcome is not None:
        panels.results_view(outcome)
        panels.apply_panel(ws, outcome.result)
st.caption(
    "Long-only and fully invested. Expected returns are mean daily simple returns × 252, the "
    "covariance the sample covariance × 252 (optionally Ledoit-Wolf); CVaR is the daily "
    "historical loss on the same window. In-sample figures, not a forecast: docs/ALLOCATION.md."
)
st.divider()
rebalance_panels.rebalance_section(ws)
