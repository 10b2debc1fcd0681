"""Regimes: a hidden Markov model of returns — states, transitions, the regime now, and how a
strategy fared in each regime."""

import streamlit as st

from app import charts, widgets
from app.regime_panels import current_view, fit, performance_view, state_table, transition_figure
from app.services import workstation

ws = workstation()
st.title("Regimes")

c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
symbols = list(ws.market.symbols()["symbol"])
symbol = c1.selectbox("Instrument", symbols, index=symbols.index("SPX"), key="rg_symbol")
n_states = widgets.required_choice(c2, "States", [2, 3, 4], key="rg_states", fallback=3)
seed = c3.number_input("Seed", 0, 10_000, 0, key="rg_seed")
starts = c4.number_input("Random starts", 1, 20, 5, key="rg_starts")

analysis = fit(ws, symbol, int(n_states), int(seed), int(starts))
current_view(analysis)

close = ws.market.bars(symbol)["close"]
st.plotly_chart(
    charts.regime_price_figure(close, analysis.viterbi, f"{symbol} by regime (Viterbi path)"),
    key="rg_price",
)
st.plotly_chart(charts.probabilities_figure(analysis.filtered), key="rg_probs")
# one above the other: side by side, the table lost a column and the matrix its cells
state_table(analysis)
st.plotly_chart(transition_figure(analysis), key="rg_trans")
st.caption(
    "The model is fitted on the whole history shown, so the Viterbi path and these tables describe "
    "the past. Backtests and live trading use filtered probabilities from models fitted before "
    "each bar (walk-forward refits), never this path."
)
performance_view(ws, symbol, analysis)
