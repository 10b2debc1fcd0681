"""Market Data: browse bundled and imported symbols, chart them, upload a file."""

import streamlit as st

from app import charts, market_panels, widgets
from app import format as fmt
from app.services import workstation
from core.marketdata import SYNTHETIC_SYMBOLS, has_ohlc

ws = workstation()
st.title("Market Data")
widgets.flash()

catalogue = ws.market.symbols()
with st.sidebar, st.expander("Upload a file", expanded=False):
    market_panels.upload_form(ws)

symbols = list(catalogue["symbol"])
if st.session_state.get("md_symbol") not in symbols:
    st.session_state["md_symbol"] = "SPX" if "SPX" in symbols else symbols[0]
c1, c2, c3 = st.columns([2, 3, 2])
symbol = c1.selectbox("Symbol", symbols, key="md_symbol")
bars_all = ws.market.bars(symbol)
first, last = bars_all.index[0].date(), bars_all.index[-1].date()
default_start = max(first, last.replace(year=last.year - 3))
span = c2.slider(
    "Range", min_value=first, max_value=last, value=(default_start, last), key="md_range"
)
ohlc = has_ohlc(bars_all)
style = c3.radio(
    "Chart", ["Candles", "Line"] if ohlc else ["Line"], horizontal=True, key="md_style"
)
log_scale = c3.toggle("Log scale", key="md_log")

bars = bars_all.loc[str(span[0]) : str(span[1])]
if bars.empty:
    st.warning("No bars in this range.")
else:
    for col, (label, value) in zip(
        st.columns(4), market_panels.bar_stats(bars).items(), strict=True
    ):
        col.metric(label, value)
    st.plotly_chart(
        charts.price_figure(bars, symbol, candles=style == "Candles", log_scale=log_scale),
        key="md_chart",
    )
    if symbol in SYNTHETIC_SYMBOLS:
        st.warning(
            f"{symbol}: SYNTHETIC closes from a seeded generator, not market data "
            "(data/README.md). Portfolios holding other currencies are valued at these rates."
        )
    elif not ohlc:
        st.caption("Close-only series (adjusted closes): shown as a line.")

st.subheader("Symbols")
fmt.dataframe(
    catalogue[list(market_panels.SYMBOL_COLUMNS)],
    column_config=market_panels.SYMBOL_COLUMNS,
    hide_index=True,
    key="md_catalogue",
)
