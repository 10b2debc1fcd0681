"""Portfolio Lab: create, trade, follow, export, import and merge virtual portfolios."""

import streamlit as st

from app import charts, lab_panels, widgets
from app.services import workstation

ws = workstation()
st.title("Portfolio Lab")
widgets.flash()

names = ws.portfolios.names()
with st.sidebar, st.expander("New portfolio", expanded=not names):
    lab_panels.create_form(ws)

if not names:
    st.info("No portfolio yet: create one from the sidebar.")
    st.stop()

if st.session_state.get(lab_panels.SELECTED) not in names:
    st.session_state[lab_panels.SELECTED] = names[0]
name = st.selectbox("Portfolio", names, key=lab_panels.SELECTED)
summary = ws.portfolios.summary(name)
if summary.description:
    st.caption(widgets.plain(summary.description))
widgets.portfolio_metrics(summary)
lab_panels.currency_panel(summary)

overview, trade, history, stress, manage, transfer = widgets.view_tabs(
    ["Overview", "Trade", "Trades", "Stress", "Manage", "Export · Import · Merge"], key="lab_view"
)
with overview:
    curve = ws.portfolios.equity_curve(name)
    positions = ws.portfolios.positions(name)
    left, right = st.columns([3, 2])
    if len(curve) > 1:
        left.plotly_chart(charts.equity_figure(curve), key="lab_equity")
    else:
        left.info("The equity curve grows with every trade and snapshot.")
    if not positions.empty:
        right.plotly_chart(charts.allocation_figure(positions, summary.cash), key="lab_allocation")
    widgets.positions_table(positions, "lab_positions")
with trade:
    lab_panels.trade_ticket(ws, name)
with history:
    trades = ws.portfolios.trades(name)
    widgets.trades_table(trades, "lab_trades")
    if not trades.empty:
        st.download_button(
            "Download trades (CSV)",
            trades.to_csv(index=False),
            f"{name}-trades.csv",
            "text/csv",
            key="dl_trades",
        )
with stress:
    lab_panels.stress_panel(ws, name)
with manage:
    lab_panels.manage_panel(ws, name)
with transfer:
    lab_panels.transfer_panel(ws, name)
