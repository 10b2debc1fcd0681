"""Home: what the workstation does, the demo portfolio at a glance, a link to each page."""

import streamlit as st

from app import charts, widgets
from app import format as fmt
from app.registry import PAGES
from app.services import workstation
from core.api import read_status
from core.demo import DEMO_NAME

ws = workstation()
st.title("Quant Workstation")
st.caption(
    "Live paper trading, market data, virtual portfolios, allocation, risk limits and an "
    "audit trail, backtests with costs, Monte Carlo and stress tests, parameter optimization "
    "with overfitting guards, and market regimes — on one local database. Everything here "
    "also runs headless: `python -m core --help`."
)

sessions = ws.paper.list()
if len(sessions):
    st.subheader("Paper sessions")
    fmt.dataframe(
        sessions[["session", "status", "strategies", "symbols", "events", "equity", "fills"]],
        hide_index=True,
        key="home_sessions",
        column_config={"equity": st.column_config.NumberColumn(format="%.2f")},
    )
    st.page_link(
        "../pages/paper.py", label="Open the paper trading console", icon=":material/monitoring:"
    )

names = ws.portfolios.names()
if not names:
    st.info("No portfolio yet: create one in the Portfolio Lab.")
else:
    focus = DEMO_NAME if DEMO_NAME in names else names[0]
    st.subheader(widgets.plain(focus))
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
    count = f"{len(names)} portfolio{'' if len(names) == 1 else 's'}"
    st.caption(f"Marked at the last known closes. {count} in this workstation.")

api = read_status()  # a file read and a process check: never slows the page
if api:
    st.caption(
        f"Read-only API: running at {api['url']} (since {api['started_at']} UTC); "
        "token in data/api-token or $WORKSTATION_API_TOKEN."
    )
else:
    st.caption("Read-only API: not running. Start it with `python -m core api`.")

st.divider()
others = [p for p in PAGES if p.url_path != "home"]
for row in range(0, len(others), 3):
    for col, spec in zip(st.columns(3), others[row : row + 3], strict=False):
        with col.container(border=True):
            st.page_link(spec.path, label=spec.title, icon=spec.icon)
            st.caption(spec.blurb)
