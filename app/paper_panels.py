"""Paper-trading console panels: sessions, the live panel, the order ticket, parameters.

The page never trades: it reads snapshots that the session's worker commits and writes
commands the worker picks up. The live panel is a fragment that re-reads on a timer.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts
from app.param_form import param_inputs
from app.widgets import field_error, pct, run_action
from core.execution import CommissionModel, ExecutionConfig, Sizing, SlippageModel
from core.paper import FeedConfig, SessionConfig, SleeveConfig, parse_speed
from core.strategies import get_strategy, registry, strategy_configs

SELECTED = "paper_session"
LIVE = "paper_live"
SEEN = "paper_seen"
FORM = "paper_new"
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
    index = names.index(current) if current in names else 0
    name = st.selectbox(
        "Session",
        names,
        index=index,
        key="paper_pick",
        help="each session's status is in the panel below and in All sessions",
    )
    st.session_state[SELECTED] = name
    with st.expander(f"All sessions ({len(sessions)})"):
        st.dataframe(
            sessions,
            hide_index=True,
            key="paper_sessions",
            column_config={
                "equity": st.column_config.NumberColumn(format="%.2f"),
                "updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            },
        )
    return name


def _status(sessions: pd.DataFrame, name: str) -> str:
    return str(sessions.loc[sessions["session"] == name, "status"].iloc[0])


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
        run_action(
            "paper_controls",
            lambda: ws.paper.start_worker(name, url),
            f"Worker started for {name}",
        )
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
                f"{label} sent to {name}",
            )
            st.rerun()
    if remove.button(
        "Delete", key="paper_delete", disabled=status in ("running", "paused"), width="stretch"
    ):
        if run_action("paper_controls", lambda: ws.paper.delete(name), f"Deleted {name}"):
            st.session_state.pop(SELECTED, None)
        st.rerun()
    field_error("paper_controls", "_form")


def new_session_form(ws) -> None:
    """Create a session from a saved configuration or a strategy and its parameters."""
    saved = strategy_configs(ws.sessions)
    names = sorted(registry())
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
        st.caption(f"Parameters: {json.dumps(params)}")
    else:
        strategy = st.selectbox(
            "Strategy", names, index=names.index("sma_crossover"), key="paper_strategy"
        )
        with st.expander("Parameters", expanded=False):
            params = param_inputs(get_strategy(strategy).Params, "paper_param")
    field_error(FORM, "params")
    second = st.selectbox(
        "Second strategy on the same portfolio (optional)", ["—", *names], key="paper_second"
    )
    with st.form("paper_new_form", border=False):
        name = st.text_input(
            "Session name", key="paper_name", value=f"{strategy} {date.today():%Y-%m-%d}"
        )
        field_error(FORM, "name")
        feeds = ["Replay history", "Synthetic market"]
        if ws.settings.allow_network:
            feeds.append("Live (Yahoo Finance)")
        feed = st.radio(
            "Feed",
            feeds,
            horizontal=True,
            key="paper_feed",
            help="live bars need WORKSTATION_ALLOW_NETWORK=1 and yfinance",
        )
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
            value=0.05,
            min_value=0.0,
            step=0.01,
            key="paper_commission",
        )
        sizing = right.selectbox(
            "Sizing", ["all_in", "percent", "fixed", "vol_target", "kelly"], key="paper_sizing"
        )
        share = left.slider(
            "First strategy's share of cash", 0.05, 1.0, 1.0, 0.05, key="paper_share"
        )
        risk = right.checkbox("Apply the portfolio's risk limits", value=False, key="paper_risk")
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
            execution=ExecutionConfig(
                commission=CommissionModel(rate=commission / 100),
                slippage=SlippageModel(),
                sizing=Sizing(method=sizing),
            ),
            speed=parse_speed(SPEEDS[speed]),
            risk_checks=risk,
        )
        ws.paper.create(name, config)
        st.session_state[SELECTED] = name
        if start_now:
            ws.paper.start_worker(name, ws.settings.database_url)

    if run_action(
        FORM,
        create,
        f"Session {name} created" + (" and started" if start_now else ""),
        ("name", "params"),
    ):
        st.rerun()


# -- the live panel ----------------------------------------------------------------------------
def live_panel(ws, name: str) -> None:
    """Re-reads the session every few seconds while live updates are on."""
    left, right = st.columns([1, 3])
    live = left.toggle("Live updates", value=st.session_state.get(LIVE, True), key=LIVE)
    every = right.select_slider(
        "Refresh every (s)", [1, 2, 5, 10], value=2, key="paper_every", disabled=not live
    )
    st.fragment(run_every=f"{every}s" if live else None)(render_live)(ws, name)


def render_live(ws, name: str) -> None:
    controls(ws, name)  # inside the fragment: the buttons follow the worker's status
    snap = ws.paper.snapshot(name, symbol=st.session_state.get("paper_symbol"))
    notify(name, snap)
    session, state = snap.session, snap.state
    if session["error"]:
        st.error(f"Worker error: {session['error']}")
    if session["status"] == "interrupted":
        st.warning(
            "The worker stopped without a word (killed or crashed). **Resume worker** "
            "picks up from the last committed event."
        )
    equity = state.get("equity", session["cash0"])
    day0 = state.get("day_start_equity", session["cash0"])
    dd = state.get("drawdown") or {}
    regime = state.get("regime") or {}
    cols = st.columns(6)
    cols[0].metric("Equity", f"{equity:,.0f}", f"{equity - session['cash0']:+,.2f}")
    cols[1].metric(
        "P&L today", f"{equity - day0:+,.2f}", pct((equity - day0) / day0) if day0 else None
    )
    cols[2].metric("Cash", f"{state.get('cash', session['cash0']):,.0f}")
    level = dd.get("level", "normal")
    cols[3].metric(
        "Drawdown",
        pct(-dd.get("drawdown", 0.0)),
        level,
        delta_color="off" if level == "normal" else "inverse",
    )
    cols[4].metric(
        "Regime",
        (regime.get("label") or "warming up").replace("_", " "),
        f"true: {regime['true']}"
        if regime.get("true")
        else (
            f"{regime.get('observed', 0)} of {regime['warmup']} returns"
            if not regime.get("label") and regime.get("warmup")
            else None
        ),
        delta_color="off",
        help="a hidden Markov model fitted on the returns seen so far, filtered causally",
    )
    n = session["n_events"] or 0
    cols[5].metric(
        "Events", f"{session['events']:,}", f"of {n:,}" if n else None, delta_color="off"
    )
    st.progress(
        min(session["events"] / n, 1.0) if n else 0.0,
        text=f"{STATUS_ICON.get(session['status'], '')} {session['status']} · last "
        f"event {state.get('ts') or '—'}",
    )
    if len(session["symbols"]) > 1:
        st.selectbox("Chart", session["symbols"], key="paper_symbol")
    chart, book, strategies, alerts = st.tabs(
        ["Chart", "Positions & orders", "Strategies", "Alerts & commands"]
    )
    with chart:
        if snap.prices.empty:
            st.info("No events yet: the chart fills in as the worker trades.")
        else:
            st.plotly_chart(
                price_with_fills(snap.prices, snap.markers, session["symbol"]),
                key="paper_price",
                width="stretch",
            )
            st.plotly_chart(
                equity_with_bands(snap.equity, session["warning"], session["critical"]),
                key="paper_equity",
                width="stretch",
            )
            probs = regime.get("probabilities")
            if probs:
                st.caption(
                    "Filtered regime probabilities (data up to now only): "
                    + " · ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in probs.items())
                )
    with book:
        positions_view(snap)
        orders_view(ws, name, snap)
        st.subheader("Recent fills")
        if snap.fills.empty:
            st.caption("No fills yet.")
        else:
            st.dataframe(
                snap.fills,
                hide_index=True,
                key="paper_fills",
                column_config={"ts": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
            )
    with strategies:
        st.dataframe(
            snap.strategies,
            hide_index=True,
            key="paper_strategies",
            column_config={
                "allocation": st.column_config.NumberColumn(format="percent"),
                **{
                    c: st.column_config.NumberColumn(format="%.2f")
                    for c in ("equity", "pnl", "realized", "commissions", "exposure")
                },
            },
        )
    with alerts:
        if snap.alerts.empty:
            st.caption("No risk alerts.")
        else:
            st.dataframe(snap.alerts, hide_index=True, key="paper_alerts")
        st.dataframe(snap.commands.astype({"payload": str}), hide_index=True, key="paper_commands")


def positions_view(snap) -> None:
    st.subheader("Positions")
    if snap.positions.empty:
        st.caption("Flat.")
        return
    st.dataframe(
        snap.positions,
        hide_index=True,
        key="paper_positions",
        column_config={
            "weight": st.column_config.NumberColumn(format="percent"),
            **{
                c: st.column_config.NumberColumn(format="%.2f")
                for c in ("avg_cost", "realized_pnl", "price", "value", "unrealized_pnl")
            },
        },
    )


def orders_view(ws, name: str, snap) -> None:
    st.subheader("Open orders")
    if snap.open_orders.empty:
        st.caption("No open orders.")
        return
    for row in snap.open_orders.itertuples():
        text, button = st.columns([5, 1])
        price = row.limit_price or row.stop_price
        text.write(
            f"**{row.strategy}** #{row.id} {row.side} {row.quantity or 'sized'} "
            f"{row.symbol} {row.type}"
            + (f" @ {price:g}" if price else "")
            + f" · {row.status}"
            + (f" · {row.tag}" if row.tag else "")
        )
        if button.button("Cancel", key=f"paper_cancel_{row.strategy}_{row.id}"):
            ws.paper.send(name, "cancel", {"strategy": row.strategy, "order_id": int(row.id)})
            st.toast(f"Cancel sent for order {row.id}")


def notify(name: str, snap) -> None:
    """A toast for each fill and each limit breach since the last refresh."""
    seen = st.session_state.setdefault(SEEN, {})
    last_fill, last_alert = seen.get(name, (None, None))
    fills, alerts = snap.fills, snap.alerts
    newest_fill = fills["fill_id"].iloc[0] if len(fills) else None
    newest_alert = int(alerts["id"].iloc[0]) if len(alerts) else None
    if name in seen:
        if newest_fill is not None and newest_fill != last_fill:
            new = fills.iloc[: _count_until(fills["fill_id"].tolist(), last_fill)]
            for f in new.head(3).itertuples():
                st.toast(
                    f"Fill {f.side} {f.quantity:g} {f.symbol} @ {f.price:.4g} ({f.strategy})",
                    icon=":material/swap_horiz:",
                )
            if len(new) > 3:
                st.toast(f"…and {len(new) - 3} more fills")
        if newest_alert is not None and newest_alert != last_alert:
            breaches = alerts[
                (alerts["id"] > (last_alert or 0))
                & alerts["level"].isin(["warn", "block", "critical"])
            ]
            for a in breaches.head(3).itertuples():
                st.toast(f"{a.level.upper()} {a.rule}: {a.message}", icon=":material/warning:")
    seen[name] = (newest_fill, newest_alert)


def _count_until(ids: list[str], last: str | None) -> int:
    return ids.index(last) if last in ids else len(ids)


def price_with_fills(prices: pd.DataFrame, markers: pd.DataFrame, symbol: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(x=prices["ts"], y=prices["close"], name=symbol, line=dict(color=charts.LINE))
    )
    for side, marker, color in (
        ("buy", "triangle-up", charts.UP),
        ("sell", "triangle-down", charts.DOWN),
    ):
        part = markers[markers["side"] == side]
        if len(part):
            fig.add_trace(
                go.Scatter(
                    x=part["ts"],
                    y=part["price"],
                    mode="markers",
                    name=side,
                    marker=dict(symbol=marker, size=10, color=color),
                    customdata=part[["quantity", "strategy"]],
                    hovertemplate=f"{side} %{{customdata[0]:g}} @ %{{y:.4g}} (%{{customdata[1]}})",
                )
            )
    fig.update_layout(title=f"{symbol} with fills")
    return charts._layout(fig, 360)


def equity_with_bands(equity: pd.DataFrame, warning: float, critical: float) -> go.Figure:
    """Equity on top; below, the drawdown over the controller's normal, warning and critical
    bands."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.05
    )
    fig.add_trace(
        go.Scattergl(
            x=equity["ts"], y=equity["equity"], name="Equity", line=dict(color=charts.LINE)
        ),
        1,
        1,
    )
    # the drawdown trace first: hrects skip subplots that have no data yet
    fig.add_trace(
        go.Scattergl(
            x=equity["ts"],
            y=-equity["drawdown"],
            name="Drawdown",
            fill="tozeroy",
            line=dict(color=charts.DOWN, width=1),
        ),
        2,
        1,
    )
    depth = max(float(equity["drawdown"].max()) * 1.1, critical * 1.25)
    for low, high, color, name in (
        (0.0, warning, "rgba(38,166,154,0.12)", "normal"),
        (warning, critical, "rgba(255,167,38,0.18)", "warning"),
        (critical, depth, "rgba(239,83,80,0.18)", "critical"),
    ):
        fig.add_hrect(
            y0=-low,
            y1=-high,
            fillcolor=color,
            line_width=0,
            layer="below",
            annotation_text=name,
            annotation_position="bottom left",
            row=2,
            col=1,
        )
    fig.update_yaxes(tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", range=[-depth, 0.005], row=2, col=1)
    fig.update_layout(title="Equity, and drawdown against the controller's bands")
    return charts._layout(fig, 440)


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
        values = param_inputs(get_strategy(sleeve.strategy).Params, f"live_{key}", current)
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
            f"Parameters sent: {changes}",
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
        st.dataframe(pd.DataFrame(report["strategies"]).T, key="paper_recon_summary")
        fills = pd.DataFrame(report["fills"])
        if len(fills):
            st.dataframe(
                fills[~fills["match"]] if not report["match"] else fills.tail(50),
                hide_index=True,
                key="paper_recon_fills",
            )


__all__ = [
    "controls",
    "export_and_reconcile",
    "live_panel",
    "new_session_form",
    "order_ticket",
    "params_editor",
    "session_picker",
]
