"""Home: what the workstation does, the demo portfolio at a glance, a link to each page."""

import streamlit as st

from app import charts, widgets
from app.registry import PAGES
from app.services import workstation
from core.demo import DEMO_NAME

ws = workstation()
st.title("Quant Workstation")
st.caption(
    "Market data, virtual portfolios, backtests with costs, Monte Carlo and stress tests, "
    "parameter optimization with overfitting guards, and market regimes — on one local "
    "database. Live paper trading comes next. Everything here also runs headless: "
    "`python -m core --help`."
)

names = ws.portfolios.names()
if not names:
    st.info("No portfolio yet: create one in the Portfolio Lab.")
else:
    focus = DEMO_NAME if DEMO_NAME in names else names[0]
    st.subheader(focus)
    summary = ws.portfolios.summary(focus)
    widgets.portfolio_metrics(summary)
    curve = ws.portfolios.equity_curve(focus)
    left, right = st.columns([3, 2])
    if len(curve) > 1:
        left.plotly_chart(charts.equity_figure(curve), key="home_equity")
    positions = ws.portfolios.positions(focus)
    with right:
        widgets.positions_table(
            positions[["symbol", "quantity", "market_value", "weight"]], "home_positions"
        )
    st.caption(f"Marked at the last known closes. {len(names)} portfolio(s) in this workstation.")

st.divider()
cols = st.columns(len(PAGES) - 1)
for col, spec in zip(cols, [p for p in PAGES if p.url_path != "home"], strict=True):
    with col.container(border=True):
        st.page_link(spec.path, label=spec.title, icon=spec.icon)
        st.caption(spec.blurb)
