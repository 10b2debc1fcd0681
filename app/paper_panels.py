"""Paper-trading console panels: sessions, the live panel, the order ticket, parameters.

The page never trades: it reads snapshots that the session's worker commits and writes
commands the worker picks up. The live panel is a fragment that re-reads on a timer.
"""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app import format as fmt
from app.param_form import param_inputs
from app.widgets import field_error, plain, run_action
from core.backtest import RiskOverlay
from core.execution import execution_config
from core.paper import (
    SYNTHETIC_COMMISSION,
    SYNTHETIC_PARAMS,
    FeedConfig,
    SessionConfig,
    SleeveConfig,
    parse_speed,
)
from core.strategies import get_strategy, registry, strategy_configs

SELECTED = "paper_session"
PICK = "paper_pick"
PICK_NEXT = "_paper_pick_next"  # set with SELECTED by an action: the selector follows it
LIVE = "paper_live"
# (session, launch time, its status then) of a worker just launched: the live panel polls fast
# until the status moves on
STARTING = "_paper_starting"
START_WAIT = 3.0  # seconds the click waits for a just-launched worker to claim its session
SEEN = "paper_seen"
FORM = "paper_new"
NEW_OPEN = "paper_new_open"  # the New session expander's state
NEW_CLOSE = "_paper_new_close"  # set by a creation: the expander closes on the next run
TICKET = "paper_ticket"
PARAMS = "paper_params"
SPEEDS = {
    "As fast as possible": "max",
    "1× real time": "1",
    "60× (a minute per second)": "60",
    "3,600× (an hour per second)": "3600",
    "86,400× (a day per second)": "86400",
    "864,000× (ten days per second)": "864000",
}
STATUS_ICON = {
    "running": ":material/play_circle:",
    "paused": ":material/pause_circle:",
    "created": ":material/radio_button_unchecked:",
    "stopped": ":material/stop_circle:",
    "finished": ":material/flag:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}


# -- sessions ----------------------------------------------------------------------------------
def session_picker(ws) -> str | None:
    sessions = ws.paper.list()
    if sessions.empty:
        st.info("No paper sessions yet: create one below.")
        return None
    names = sessions["session"].tolist()
    current = st.session_state.get(SELECTED)
    # SELECTED set by an action (a new session) wins over the selector's last value; the
    # selector's own choice otherwise (it then sets SELECTED below)
    if st.session_state.pop(PICK_NEXT, False) or st.session_state.get(PICK) not in names:
        st.session_state[PICK] = current if current in names else names[0]
    name = st.selectbox(
        "Session",
        names,
        key=PICK,
        help="each session's status is in the panel below and in All sessions",
    )
    st.session_state[SELECTED] = name
    every = st.expander(f"All sessions ({len(sessions)})", key="paper_all", on_change="rerun")
    with every:
        if every.open:  # drawn only when looked at
            fmt.dataframe(
                sessions,
                hide_index=True,
                key="paper_sessions",
                column_config={
                    "equity": st.column_config.NumberColumn(format="%.2f"),
                    "updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                },
            )
    return name


def controls(ws, name: str) -> None:
    """Start (a worker), pause, resume, stop; delete when nothing runs."""
    status = ws.paper.status(name)["status"]
    start, pause, resume, stop, remove = st.columns(5)
    url = ws.settings.database_url
    can_start = status in ("created", "stopped", "interrupted", "failed")
    if start.button(
        "Start" if status == "created" else "Resume worker",
        key="paper_start",
        disabled=not can_start,
        type="primary",
        help="launch the worker process that trades this session",
        width="stretch",
    ):
        if run_action(
            "paper_controls",
            lambda: ws.paper.start_worker(name, url),
            f"Worker started for {plain(name)}",
        ):
            await_worker(ws, name, status)
        st.rerun()
    for column, kind, label, enabled in (
        (pause, "pause", "Pause", status == "running"),
        (resume, "resume", "Resume", status == "paused"),
        (stop, "stop", "Stop", status in ("running", "paused", "created", "interrupted")),
    ):
        if column.button(label, key=f"paper_{kind}", disabled=not enabled, width="stretch"):
            run_action(
                "paper_controls",
                lambda kind=kind: ws.paper.send(name, kind),
                f"{label} sent to {plain(name)}",
            )
            st.rerun()
    if remove.button(
        "Delete", key="paper_delete", disabled=status in ("running", "paused"), width="stretch"
    ):
        if run_action("paper_controls", lambda: ws.paper.delete(name), f"Deleted {plain(name)}"):
            st.session_state.pop(SELECTED, None)
        st.rerun()
    field_error("paper_controls", "_form")


def await_worker(ws, name: str, was: str) -> None:
    """After a worker's launch: wait (at most :data:`START_WAIT` seconds) until it claims the
    session, so the page that follows shows it running. A worker slower than that leaves the
    live panel polling fast (:data:`STARTING`) until it does."""
    with st.spinner("Starting the worker…"):
        status = ws.paper.wait_for_worker(name, was=was, timeout=START_WAIT)
    if status == was:
        st.session_state[STARTING] = (name, time.monotonic(), was)


def new_session_expander(first: bool):
    """The "New session" expander: open when there is no session yet (``first``), closed
    after a session is created from it; its ``.open`` says whether to draw the form."""
    if st.session_state.pop(NEW_CLOSE, False):
        st.session_state[NEW_OPEN] = False
    return st.expander("New session", expanded=first, key=NEW_OPEN, on_change="rerun")


def new_session_form(ws) -> None:
    """Create a session from a saved configuration or a strategy and its parameters."""
    saved = strategy_configs(ws.sessions)
    names = sorted(registry())
    feeds = ["Replay history", "Synthetic market"]
    if ws.settings.allow_network:
        feeds.append("Live (Yahoo Finance)")
    feed = st.radio(  # outside the form: a synthetic feed has defaults of its own
        "Feed",
        feeds,
        horizontal=True,
        key="paper_feed",
        help="live bars need WORKSTATION_ALLOW_NETWORK=1 and yfinance",
    )
    synthetic = feed == "Synthetic market"
    source = st.radio(
        "Strategy from",
        ["Strategy and parameters", "Saved configuration"],
        horizontal=True,
        key="paper_source",
        disabled=not saved,
    )
    if source == "Saved configuration" and saved:
        labels = [f"{c['name']} ({c['strategy']})" for c in saved]
        choice = saved[labels.index(st.selectbox("Configuration", labels, key="paper_saved"))]
        strategy, params = choice["strategy"], dict(choice["params"])
        st.caption(f"Parameters: {plain(json.dumps(params))}")
    else:
        strategy = st.selectbox(
            "Strategy", names, index=names.index("sma_crossover"), key="paper_strategy"
        )
        with st.expander("Parameters", expanded=False):
            defaults = SYNTHETIC_PARAMS.get(strategy) if synthetic else None
            key = "paper_synthetic_param" if synthetic else "paper_param"
            params = param_inputs(get_strategy(strategy).Params, key, defaults)
    field_error(FORM, "params")
    second = st.selectbox(
        "Second strategy on the same portfolio (optional)", ["—", *names], key="paper_second"
    )
    with st.form("paper_new_form", border=False):
        name = st.text_input(
            "Session name", key="paper_name", value=f"{strategy} {date.today():%Y-%m-%d}"
        )
        field_error(FORM, "name")
        left, right = st.columns(2)
        symbols = left.multiselect(
            "Symbols (replay)",
            ws.market.symbols()["symbol"].tolist(),
            default=["SPX"],
            key="paper_symbols",
        )
        preset = right.selectbox(
            "Synthetic preset", ["equity", "crypto", "forex"], key="paper_preset"
        )
        start = left.date_input(
            "Replay from",
            value=date(2015, 1, 1),
            key="paper_start_date",
            min_value=date(1990, 1, 1),
        )
        end = right.date_input(
            "Replay to", value=date(2018, 12, 31), key="paper_end_date", min_value=date(1990, 1, 1)
        )
        seed = left.number_input("Synthetic seed", value=7, step=1, key="paper_seed")
        events = right.number_input(
            "Synthetic ticks",
            value=20_000,
            min_value=100,
            max_value=5_000_000,
            step=1000,
            key="paper_events",
        )
        speed = left.selectbox("Speed", list(SPEEDS), index=5, key="paper_speed")
        cash = right.number_input(
            "Starting cash", value=100_000.0, min_value=1.0, step=1000.0, key="paper_cash"
        )
        commission = left.number_input(
            "Commission (% of notional)",
            value=SYNTHETIC_COMMISSION * 100 if synthetic else 0.05,
            min_value=0.0,
            step=0.01,
            format="%.3f",
            key="paper_commission_synthetic" if synthetic else "paper_commission",
        )
        sizing = right.selectbox(
            "Sizing", ["all_in", "percent", "fixed", "vol_target", "kelly"], key="paper_sizing"
        )
        share = left.slider(
            "First strategy's share of cash", 0.05, 1.0, 1.0, 0.05, key="paper_share"
        )
        drawdown = left.checkbox(
            "Drawdown controller",
            value=False,
            key="paper_drawdown",
            help="halve new positions once equity is 20 % below its peak (as in a backtest "
            "with --drawdown-control)",
        )
        risk = right.checkbox("Pre-trade checks", value=False, key="paper_risk")
        start_now = st.checkbox("Start the worker now", value=True, key="paper_start_now")
        submitted = st.form_submit_button("Create session", type="primary")
    field_error(FORM, "_form")
    if not submitted:
        return

    def create():
        sleeves = [SleeveConfig(key=strategy, strategy=strategy, params=params, allocation=share)]
        extra = []
        if second != "—":
            key = second if second != strategy else f"{second}#2"
            extra = [SleeveConfig(key=key, strategy=second, allocation=round(1 - share, 10))]
        config = SessionConfig(
            sleeves=(*sleeves, *extra),
            feed=FeedConfig(
                kind={"Replay history": "replay", "Synthetic market": "synthetic"}.get(
                    feed, "yahoo"
                ),
                symbols=tuple(symbols),
                start=start,
                end=end,
                preset=preset,
                seed=int(seed),
                events=int(events),
            ),
            cash=cash,
            execution=execution_config(commission=commission / 100, sizing=sizing),
            speed=parse_speed(SPEEDS[speed]),
            risk=RiskOverlay(drawdown=drawdown, pre_trade=risk),
        )
        ws.paper.create(name, config)
        st.session_state[SELECTED] = name
        st.session_state[PICK_NEXT] = True
        if start_now:
            ws.paper.start_worker(name, ws.settings.database_url)
            await_worker(ws, name, "created")

    if run_action(
        FORM,
        create,
        f"Session {plain(name)} created" + (" and started" if start_now else ""),
        ("name", "params"),
    ):
        st.session_state[NEW_CLOSE] = True  # done with: the new session shows
        st.rerun()


# -- interventions -----------------------------------------------------------------------------
def order_ticket(ws, name: str) -> None:
    """A manual order; the worker sends it through the same pre-trade checks."""
    snap_state = ws.paper.snapshot_state(name)
    config = ws.paper.config(name)
    symbols = list(snap_state.get("marks") or config.feed.symbols or [])
    with st.form(TICKET):
        left, right = st.columns(2)
        sleeve = left.selectbox(
            "Strategy sleeve", [s.key for s in config.sleeves], key="ticket_sleeve"
        )
        symbol = right.selectbox("Symbol", symbols or ["—"], key="ticket_symbol")
        side = left.radio("Side", ["buy", "sell"], horizontal=True, key="ticket_side")
        quantity = right.number_input("Quantity", min_value=0.0, value=1.0, key="ticket_qty")
        kind = left.selectbox("Type", ["market", "limit", "stop", "stop_limit"], key="ticket_type")
        mark = (snap_state.get("marks") or {}).get(symbol)
        limit = right.number_input(
            "Limit price", min_value=0.0, value=float(mark or 0.0), key="ticket_limit"
        )
        stop = left.number_input(
            "Stop price", min_value=0.0, value=float(mark or 0.0), key="ticket_stop"
        )
        submitted = st.form_submit_button("Send order", type="primary")
    for field in ("quantity", "limit_price", "stop_price", "side", "type", "_form"):
        field_error(TICKET, field)
    if submitted:
        payload: dict[str, Any] = {
            "strategy": sleeve,
            "symbol": symbol,
            "side": side,
            "quantity": quantity,
            "type": kind,
        }
        if kind in ("limit", "stop_limit"):
            payload["limit_price"] = limit
        if kind in ("stop", "stop_limit"):
            payload["stop_price"] = stop
        run_action(
            TICKET,
            lambda: ws.paper.send(name, "order", payload),
            f"Order sent: {side} {quantity:g} {symbol}",
            ("quantity", "limit_price", "stop_price", "side", "type"),
        )
        st.rerun()


def params_editor(ws, name: str) -> None:
    """Change a running strategy's parameters (recorded in the audit log)."""
    config = ws.paper.config(name)
    state = ws.paper.snapshot_state(name).get("strategies", {})
    key = st.selectbox("Strategy", [s.key for s in config.sleeves], key="params_sleeve")
    sleeve = next(s for s in config.sleeves if s.key == key)
    current = (state.get(key) or {}).get("params") or sleeve.params
    with st.form(PARAMS):
        # keyed by session and sleeve: another session's sleeve of the same name never shows
        values = param_inputs(get_strategy(sleeve.strategy).Params, f"live_{name}_{key}", current)
        submitted = st.form_submit_button("Apply parameters")
    field_error(PARAMS, "params")
    field_error(PARAMS, "_form")
    if submitted:
        changes = {k: v for k, v in values.items() if current.get(k) != v}
        if not changes:
            st.info("Nothing changed.")
            return
        run_action(
            PARAMS,
            lambda: ws.paper.send(name, "params", {"strategy": key, "params": changes}),
            f"Parameters sent: {plain(changes)}",
            ("params",),
        )
        st.rerun()


def export_and_reconcile(ws, name: str) -> None:
    portfolio = ws.paper.portfolio_name(name)
    st.download_button(
        "Export the session's portfolio (lab JSON)",
        data=lambda: ws.export_portfolio(portfolio).model_dump_json(indent=2),
        file_name=f"{portfolio}.json",
        mime="application/json",
        key="paper_export",
    )
    if st.button("Reconcile with a backtest", key="paper_reconcile"):
        report = ws.paper.reconcile(name)
        st.session_state["paper_recon"] = report
    report = st.session_state.get("paper_recon")
    if report and report["session"] == name:
        if report["match"]:
            st.success(f"Paper and backtest agree fill for fill over {report['events']:,} events.")
        else:
            st.warning(
                "Paper and backtest differ; the first intervention before each difference is given."
            )
        fmt.dataframe(pd.DataFrame(report["strategies"]).T, key="paper_recon_summary")
        fills = pd.DataFrame(report["fills"])
        if len(fills):
            fmt.dataframe(
                fills[~fills["match"]] if not report["match"] else fills.tail(50),
                hide_index=True,
                key="paper_recon_fills",
            )
