"""Derivatives: option pricer with Greeks and sensitivities, an option chain from a smile, the
multi-leg strategy builder, forex pip and position-size calculators, futures contracts."""

import streamlit as st

from app import derivatives_panels as panels
from app import widgets

st.title("Derivatives")
pricer, chain, strategy, fx, futures = widgets.view_tabs(
    ["Option pricer", "Option chain", "Strategy builder", "Forex", "Futures"], key="dv_tab"
)
for tab, panel in (
    (pricer, panels.pricer_panel),
    (chain, panels.chain_panel),
    (strategy, panels.strategy_panel),
    (fx, panels.fx_panel),
    (futures, panels.futures_panel),
):
    with tab, widgets.guard():
        panel()
st.caption(
    "European options, Black-Scholes-Merton with a continuous dividend yield; expiries in "
    "calendar days (ACT/365); rates, yields and volatilities as fractions per year. "
    "`python -m core options|fx|futures --json` gives the same figures."
)
