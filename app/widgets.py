"""Shared widgets: headline metrics, table column formats, errors shown by their input."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

ERRORS_KEY = "_field_errors"


def money(value: float, currency: str = "USD") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,.2f} {currency}"


def amount(value: float) -> str:
    """A compact money figure for metrics: cents only below 100,000."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100_000 else f"{value:,.2f}"


def pct(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:+.2%}"


def portfolio_metrics(summary: dict[str, Any]) -> None:
    """Equity, cash, net P&L and positions as a row of metrics."""
    ccy = summary["base_currency"]
    cols = st.columns(5)
    cols[0].metric(f"Equity ({ccy})", amount(summary["equity"]))
    cols[1].metric(f"Cash ({ccy})", amount(summary["cash"]))
    cols[2].metric(f"Net P&L ({ccy})", amount(summary["net_pnl"]), pct(summary["net_pnl_pct"]))
    cols[3].metric(f"Unrealized ({ccy})", amount(summary["unrealized_pnl"]))
    cols[4].metric("Positions", summary["n_positions"])


POSITION_COLUMNS = {
    "symbol": st.column_config.TextColumn("Symbol"),
    "quantity": st.column_config.NumberColumn("Qty", format="%.8g"),
    "avg_cost": st.column_config.NumberColumn("Avg cost", format="%.4f"),
    "last_price": st.column_config.NumberColumn("Last", format="%.4f"),
    "cost_basis": st.column_config.NumberColumn("Cost basis", format="%,.2f"),
    "market_value": st.column_config.NumberColumn("Value", format="%,.2f"),
    "unrealized_pnl": st.column_config.NumberColumn("Unrealized", format="%,.2f"),
    "unrealized_pct": st.column_config.NumberColumn("Unrl. %", format="percent"),
    "realized_pnl": st.column_config.NumberColumn("Realized", format="%,.2f"),
    "weight": st.column_config.ProgressColumn("Weight", format="percent", min_value=0, max_value=1),
}

TRADE_COLUMNS = {
    "fill_id": None,
    "ts": st.column_config.DatetimeColumn("Time", format="YYYY-MM-DD HH:mm"),
    "symbol": st.column_config.TextColumn("Symbol"),
    "side": st.column_config.TextColumn("Side"),
    "quantity": st.column_config.NumberColumn("Qty", format="%.8g"),
    "price": st.column_config.NumberColumn("Price", format="%.4f"),
    "notional": st.column_config.NumberColumn("Notional", format="%,.2f"),
    "commission": st.column_config.NumberColumn("Commission", format="%,.2f"),
    "fees": st.column_config.NumberColumn("Fees", format="%,.2f"),
    "realized_pnl": st.column_config.NumberColumn("Realized", format="%,.2f"),
    "strategy": st.column_config.TextColumn("Strategy"),
}


def positions_table(positions: pd.DataFrame, key: str) -> None:
    if positions.empty:
        st.info("No open positions.")
        return
    st.dataframe(positions, column_config=POSITION_COLUMNS, hide_index=True, key=key)


def trades_table(trades: pd.DataFrame, key: str) -> None:
    if trades.empty:
        st.info("No trades yet.")
        return
    st.dataframe(trades.iloc[::-1], column_config=TRADE_COLUMNS, hide_index=True, key=key)


# -- errors shown next to the input that caused them ------------------------------------------
def set_error(form: str, field: str | None, message: str) -> None:
    st.session_state[ERRORS_KEY] = {"form": form, "field": field or "_form", "message": message}


def clear_errors(form: str) -> None:
    current = st.session_state.get(ERRORS_KEY)
    if current and current["form"] == form:
        del st.session_state[ERRORS_KEY]


def field_error(form: str, field: str) -> None:
    """Render the stored error if it belongs to this form's ``field``."""
    current = st.session_state.get(ERRORS_KEY)
    if current and current["form"] == form and current["field"] == field:
        st.error(current["message"], icon=":material/error:")


def run_action(form: str, action, success: str | None = None, fields: tuple[str, ...] = ()) -> bool:
    """Run ``action``; on a domain error store it against the field at fault.

    Errors whose field is not among ``fields`` are shown at the form level.
    """
    clear_errors(form)
    try:
        action()
    except ValueError as exc:
        field = getattr(exc, "field", None)
        set_error(form, field if field in fields else None, str(exc))
        return False
    if success:
        st.session_state["_flash"] = success
    return True


def flash() -> None:
    """Show (once) the success message left by the last action."""
    message = st.session_state.pop("_flash", None)
    if message:
        st.toast(message, icon=":material/check_circle:")
        st.success(message)
