"""Market Data panels: the symbol browser and the file upload form."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.widgets import field_error, run_action
from core.errors import InvalidInputError
from core.instruments import AssetClass
from core.workstation import Workstation

SYMBOL_COLUMNS = {
    "symbol": st.column_config.TextColumn("Symbol"),
    "name": st.column_config.TextColumn("Name"),
    "asset_class": st.column_config.TextColumn("Class"),
    "source": st.column_config.TextColumn("Source"),
    "start": st.column_config.DateColumn("First bar"),
    "end": st.column_config.DateColumn("Last bar"),
    "bars": st.column_config.NumberColumn("Bars", format="%d"),
    "ohlc": st.column_config.CheckboxColumn("OHLC"),
}


def bar_stats(bars: pd.DataFrame) -> dict[str, str]:
    """Headline figures of a bars frame: last close, change over the range, volatility."""
    closes = bars["close"]
    returns = closes.pct_change().dropna()
    return {
        "Last close": f"{closes.iloc[-1]:,.2f}",
        "Change over range": f"{closes.iloc[-1] / closes.iloc[0] - 1:+.2%}",
        "Ann. volatility": f"{returns.std(ddof=1) * 252**0.5:.1%}" if len(returns) > 1 else "—",
        "Bars": f"{len(bars):,}",
    }


def upload_form(ws: Workstation) -> None:
    form = "upload"

    def submit() -> None:
        s = st.session_state
        upload = s.get("upload_file")
        symbol = s["upload_symbol"].strip().upper()
        if upload is None or not symbol:
            missing = "file" if upload is None else "symbol"
            run_action(form, _fail(f"choose a {missing} first", missing), fields=(missing,))
            return
        run_action(
            form,
            lambda: ws.market.import_file(
                upload.getvalue(),
                symbol,
                filename=upload.name,
                asset_class=s["upload_class"],
                use_adjusted=s["upload_adjusted"],
                replace=s["upload_replace"],
            ),
            success=f"Imported {upload.name} as {symbol}.",
            fields=("file", "symbol"),
        )
        if "_field_errors" not in s:
            s["md_symbol"] = symbol

    st.file_uploader(
        "CSV or Parquet (timestamp + OHLCV, or close only; Yahoo exports work as they are)",
        type=["csv", "txt", "parquet", "pq"],
        key="upload_file",
    )
    field_error(form, "file")
    c1, c2 = st.columns(2)
    c1.text_input("Symbol", key="upload_symbol", placeholder="e.g. NVDA")
    c2.selectbox(
        "Asset class",
        [a.value for a in AssetClass if a is not AssetClass.OPTION],
        key="upload_class",
    )
    field_error(form, "symbol")
    c1, c2 = st.columns(2)
    c1.checkbox("Use 'Adj Close' (scale OHLC)", key="upload_adjusted")
    c2.checkbox("Replace stored bars", key="upload_replace")
    st.button("Validate and import", on_click=submit, type="primary", key="upload_button")
    field_error(form, "_form")


def _fail(message: str, field: str):
    def action():
        raise InvalidInputError(message, field)

    return action


def fetch_form(ws: Workstation) -> None:
    """Fetch a symbol the workstation lacks from Yahoo Finance (opt-in, needs network)."""
    form = "fetch"
    if not ws.settings.allow_network:
        st.caption(
            "Off. To fetch symbols the workstation lacks, `pip install -e .[online]` and "
            "start with `WORKSTATION_ALLOW_NETWORK=1`."
        )
        return

    def submit() -> None:
        symbol = st.session_state["fetch_symbol"].strip().upper()
        if run_action(form, lambda: ws.market.bars(symbol), f"Fetched {symbol}.", ("symbol",)):
            st.session_state["md_symbol"] = symbol

    st.text_input("Symbol", key="fetch_symbol", placeholder="e.g. NVDA")
    field_error(form, "symbol")
    st.button("Fetch daily history", on_click=submit, key="fetch_button")
    field_error(form, "_form")
