"""Backtest: configure a strategy, run it with realistic costs, inspect, stress and compare."""

import streamlit as st

from app import backtest_panels as panels
from app import format as fmt
from app import widgets
from app.services import workstation

ws = workstation()
st.title("Backtest")

form, results = st.columns([1, 2.6], gap="large")
with form:
    config = panels.run_form(ws)
with results:
    result = panels.run(ws, config) if config else st.session_state.get(panels.RESULT)
    if result is None:
        st.info(
            "Pick a strategy and an instrument, then **Run backtest**. "
            "Runs are saved and can be compared."
        )
    chart, metrics, trades, montecarlo, stress, compare = widgets.view_tabs(
        ["Chart", "Metrics", "Trades", "Monte Carlo", "Stress", "Compare runs"], key="bt_view"
    )
    if result is not None:  # a hidden tab's widgets only (see widgets.view_tabs)
        with chart:
            if chart.open:
                panels.result_overview(ws, result)
        with metrics:
            if metrics.open:
                fmt.dataframe(
                    panels.metrics_table(result.metrics),
                    hide_index=True,
                    height="content",
                    key="bt_metrics",
                    column_config={"Value": st.column_config.TextColumn(alignment="right")},
                )
                st.caption(f"Run id {result.run_id} · {result.periods_per_year:g} periods per year")
        with trades:
            if trades.open:
                panels.trades_view(result)
        with montecarlo:
            panels.montecarlo_view(result)  # its result shows only after its button, in it
        with stress:
            panels.stress_view(result, shown=stress.open)
    with compare:
        panels.compare_view(ws, shown=compare.open)
