"""Portfolio Lab panels: each reads its widgets, calls core, and shows errors in place."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import format as fmt
from app.widgets import bind, field_error, plain, required_choice, run_action, scenario_label
from core.errors import InvalidInputError
from core.portfolio import to_csv, to_excel, to_json
from core.risk import checked_trade
from core.workstation import Workstation

SELECTED = "lab_portfolio"


def create_form(ws: Workstation) -> None:
    form = "create"

    def submit() -> None:
        s = st.session_state
        name = s["create_name"]
        if run_action(
            form,
            lambda: ws.portfolios.create(
                name,
                s["create_cash"],
                base_currency=s["create_ccy"],
                allow_short=s["create_short"],
                allow_margin=s["create_margin"],
                description=s["create_description"],
            ),
            success=f"Created portfolio {name!r}.",
            fields=("name", "starting_cash"),
        ):
            s[SELECTED] = name.strip()

    with st.form("create_form", border=False):
        st.text_input("Name", key="create_name", placeholder="e.g. Value tilt 2024")
        field_error(form, "name")
        st.number_input(
            "Starting cash", min_value=0.0, value=100_000.0, step=10_000.0, key="create_cash"
        )
        field_error(form, "starting_cash")
        st.selectbox("Base currency", ["USD", "EUR", "GBP", "JPY", "CHF"], key="create_ccy")
        c1, c2 = st.columns(2)
        c1.checkbox("Allow short selling", key="create_short")
        c2.checkbox("Allow margin (buy beyond cash)", key="create_margin")
        st.text_input("Description", key="create_description")
        st.form_submit_button("Create portfolio", on_click=submit, type="primary")
        field_error(form, "_form")


def trade_ticket(ws: Workstation, name: str) -> None:
    form = "trade"
    symbols = [i.symbol for i in ws.market.instruments()]

    def last_price() -> float:
        symbol = st.session_state.get("ticket_symbol")
        return (ws.market.last_price(symbol) if symbol else None) or 0.0

    def reset_price() -> None:
        st.session_state["ticket_price"] = last_price()

    def submit() -> None:
        s = st.session_state
        if s.get("ticket_side") is None:
            run_action(form, _raise("choose buy or sell", "side"), fields=("side",))
            return

        def book() -> None:
            _, report = checked_trade(  # through the portfolio's pre-trade checks
                ws,
                name,
                s["ticket_symbol"],
                s["ticket_side"],
                s["ticket_qty"],
                s["ticket_price"],
                commission=s["ticket_commission"],
                fees=s["ticket_fees"],
            )
            warnings = [r.message for r in report.results if r.outcome == "warn"] if report else []
            if warnings:
                st.session_state["_ticket_warnings"] = warnings

        run_action(
            form,
            book,
            success=f"Filled: {s['ticket_side']} {s['ticket_qty']:g} {s['ticket_symbol']} "
            f"@ {s['ticket_price']:,.4f}.",
            fields=("symbol", "side", "quantity", "price", "commission", "fees"),
        )

    st.selectbox("Instrument", symbols, key="ticket_symbol", on_change=reset_price)
    field_error(form, "symbol")
    if "ticket_price" not in st.session_state:
        reset_price()
    with st.form("trade_form", border=False):
        required_choice(st, "Side", ["buy", "sell"], key="ticket_side", fallback="buy")
        field_error(form, "side")
        c1, c2 = st.columns(2)
        c1.number_input(
            "Quantity", min_value=0.0, value=10.0, step=1.0, format="%.8g", key="ticket_qty"
        )
        c2.number_input(
            "Price (defaults to the last known price)",
            min_value=0.0,
            format="%.6g",
            key="ticket_price",
        )
        field_error(form, "quantity")
        for warning in st.session_state.pop("_ticket_warnings", []):
            st.warning(plain(f"Pre-trade warning: {warning}"), icon=":material/warning:")
        field_error(form, "price")
        c1, c2 = st.columns(2)
        c1.number_input("Commission", min_value=0.0, value=0.0, key="ticket_commission")
        c2.number_input("Fees", min_value=0.0, value=0.0, key="ticket_fees")
        field_error(form, "commission")
        field_error(form, "fees")
        st.form_submit_button("Submit order", on_click=submit, type="primary")
        field_error(form, "_form")


def currency_panel(summary) -> None:
    """Cash per currency and the P&L split, for a portfolio holding more than its base."""
    balances = summary.cash_by_currency or {}
    if len(balances) < 2:
        return
    fmt.dataframe(
        pd.DataFrame({"currency": list(balances), "cash": list(balances.values())}),
        hide_index=True,
        key="lab_currency_cash",
        column_config={"cash": st.column_config.NumberColumn("Cash", format="%,.2f")},
    )
    base = summary.base_currency
    c1, c2 = st.columns(2)
    c1.metric(f"Asset P&L ({base})", f"{summary.asset_pnl:,.2f}")
    c2.metric(f"FX P&L ({base})", f"{summary.fx_pnl:,.2f}")
    st.caption(
        "Asset P&L: price changes less costs, at today's rates; FX P&L: the rest, from "
        "exchange rates moving on the money and cost held in other currencies. The bundled "
        "rates (EURUSD, USDJPY, GBPUSD, EURGBP) are SYNTHETIC, not market data."
    )


def manage_panel(ws: Workstation, name: str) -> None:
    form = "manage"

    def rename() -> None:
        new = st.session_state["rename_to"]
        if run_action(
            form, lambda: ws.portfolios.rename(name, new), f"Renamed to {new!r}.", ("name",)
        ):
            st.session_state[SELECTED] = new.strip()

    def delete() -> None:
        if run_action(form, lambda: ws.portfolios.delete(name), f"Deleted {name!r}."):
            st.session_state.pop(SELECTED, None)

    def cash() -> None:
        amount = st.session_state["cash_amount"]
        run_action(
            form,
            lambda: ws.portfolios.cash_movement(name, amount),
            f"Cash movement of {amount:,.2f} booked.",
            ("amount",),
        )

    # bound to the selected portfolio: never another one's name or a confirmation ticked for it
    bind("lab_manage", name, {"rename_to": name, "delete_confirm": False})
    st.text_input("New name", key="rename_to")
    field_error(form, "name")
    st.button("Rename", on_click=rename, key="rename_button")
    st.number_input("Deposit (+) or withdraw (−)", value=0.0, step=1000.0, key="cash_amount")
    field_error(form, "amount")
    st.button("Book cash movement", on_click=cash, key="cash_button")
    st.checkbox(
        plain(f"I understand that deleting {name!r} removes its history"), key="delete_confirm"
    )
    st.button(
        "Delete portfolio",
        on_click=delete,
        disabled=not st.session_state.get("delete_confirm"),
        key="delete_button",
        type="secondary",
    )
    field_error(form, "_form")


def transfer_panel(ws: Workstation, name: str) -> None:
    st.markdown("**Export**")
    with_trades = st.toggle("Include trade history", value=True, key="export_trades")
    document = ws.export_portfolio(name, include_trades=with_trades)
    stem = name.replace(" ", "_").replace("/", "-")
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Lab JSON", to_json(document), f"{stem}.json", "application/json", key="dl_json"
    )
    c2.download_button("CSV", to_csv(document), f"{stem}.csv", "text/csv", key="dl_csv")
    c3.download_button(
        "Excel",
        lambda: to_excel(document),
        f"{stem}.xlsx",
        key="dl_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    st.markdown("**Import** a lab JSON file")
    import_form(ws)
    st.markdown("**Merge** two portfolios")
    merge_form(ws, name)


def import_form(ws: Workstation) -> None:
    form = "import"

    def submit() -> None:
        upload = st.session_state.get("import_file")
        if upload is None:
            run_action(form, _raise("choose a lab JSON file first", "file"), fields=("file",))
            return
        new_name = st.session_state["import_name"].strip() or None
        run_action(
            form,
            lambda: st.session_state.__setitem__(
                SELECTED, ws.import_portfolio(upload.getvalue(), name=new_name)
            ),
            success=f"Imported {upload.name}.",
            fields=("file", "name"),
        )

    st.file_uploader("Lab JSON", type=["json"], key="import_file")
    field_error(form, "file")
    st.text_input("Import as (optional new name)", key="import_name")
    field_error(form, "name")
    st.button("Import portfolio", on_click=submit, key="import_button")
    field_error(form, "_form")


def merge_form(ws: Workstation, current: str) -> None:
    form = "merge"
    names = ws.portfolios.names()
    others = [n for n in names if n != current]

    def submit() -> None:
        s = st.session_state
        into = s["merge_into"].strip()
        run_action(
            form,
            lambda: s.__setitem__(
                SELECTED, ws.merge_portfolios(current, s["merge_other"], into=into)
            ),
            success=f"Merged into {into!r}.",
            fields=("second",),
        )

    if not others:
        st.caption("Create a second portfolio to merge with this one.")
        return
    st.selectbox(plain(f"Merge {current!r} with"), others, key="merge_other")
    field_error(form, "second")
    bind("lab_merge", current, {"merge_into": f"{current} + merged"})
    st.text_input("Into (new or existing portfolio)", key="merge_into")
    st.button("Merge", on_click=submit, key="merge_button")
    field_error(form, "_form")


def _raise(message: str, field: str):
    def action():
        raise InvalidInputError(message, field)

    return action


def stress_panel(ws: Workstation, name: str) -> None:
    """Instant P&L of a historical or custom shock on the portfolio's current holdings."""
    import pandas as pd

    from core.whatif import STRESS_SCENARIOS

    key = st.selectbox(
        "Scenario",
        list(STRESS_SCENARIOS),
        key="lab_stress",
        format_func=lambda k: scenario_label(STRESS_SCENARIOS[k]),
    )
    scenario = STRESS_SCENARIOS[key]
    st.caption(scenario.description)
    report = ws.stress_portfolio(name, scenario)
    c1, c2, c3 = st.columns(3)
    c1.metric("Equity before", f"{report.equity_before:,.0f}")
    c2.metric(
        "Scenario P&L",
        f"{report.total_pnl:,.0f}",
        f"{report.total_return:+.2%}" if report.total_return is not None else None,
    )
    c3.metric("Equity after", f"{report.equity_after:,.0f}")
    rows = (
        pd.DataFrame.from_dict(report.to_dict()["positions"], orient="index")
        .rename_axis("symbol")
        .reset_index()
    )
    if not rows.empty:
        fmt.dataframe(
            rows,
            hide_index=True,
            height="content",
            key="lab_stress_table",
            column_config={
                "shock": st.column_config.NumberColumn(format="percent"),
                "market_value": st.column_config.NumberColumn(format="%,.2f"),
                "pnl": st.column_config.NumberColumn("P&L", format="%,.2f"),
                "value_after": st.column_config.NumberColumn(format="%,.2f"),
            },
        )
