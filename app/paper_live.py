"""The paper console's live panel: a fragment that re-reads the session's committed state on a
timer (pausable), with the controls, metrics, charts, book and toasts. It never trades."""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts
from app import format as fmt
from app.paper_panels import LIVE, SEEN, STARTING, STATUS_ICON, controls
from app.widgets import pct, plain

FAST_REFRESH = 0.25  # seconds between refreshes while a just-launched worker starts
START_WINDOW = 20.0  # seconds after which a worker that never ran stops the fast refresh


# -- the live panel ----------------------------------------------------------------------------
def live_panel(ws, name: str) -> None:
    """Re-reads the session every few seconds while live updates are on."""
    left, right = st.columns([1, 3])
    live = left.toggle("Live updates", value=st.session_state.get(LIVE, True), key=LIVE)
    every = right.select_slider(
        "Refresh every (s)", [1, 2, 5, 10], value=2, key="paper_every", disabled=not live
    )
    starting = live and starting_worker(name)
    interval = f"{FAST_REFRESH}s" if starting else f"{every}s" if live else None
    st.fragment(run_every=interval)(render_live)(ws, name, starting)


def starting_worker(name: str) -> bool:
    """True while a worker launched from this page for ``name`` has not moved the session's
    status on (for at most :data:`START_WINDOW` seconds): the panel then refreshes every
    :data:`FAST_REFRESH` seconds, so "running" shows as soon as the worker claims the session."""
    launched = st.session_state.get(STARTING)
    if not launched or launched[0] != name or time.monotonic() - launched[1] > START_WINDOW:
        st.session_state.pop(STARTING, None)
        return False
    return True


def render_live(ws, name: str, starting: bool = False) -> None:
    controls(ws, name)  # inside the fragment: the buttons follow the worker's status
    snap = ws.paper.snapshot(name, symbol=st.session_state.get("paper_symbol"))
    launched = st.session_state.get(STARTING)
    moved_on = starting and (not starting_worker(name) or snap.session["status"] != launched[2])
    if moved_on:
        st.session_state.pop(STARTING, None)
    show_snapshot(ws, name, snap)
    if moved_on:  # after showing the new status: the whole page, at the chosen interval again
        st.rerun()


def _when(ts: str | None) -> str:
    """An event's time to the second (``2026-01-05 10:13:15``), not its ISO microseconds
    (the worker writes it: an ISO timestamp)."""
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def show_snapshot(ws, name: str, snap) -> None:
    """The panel's metrics, charts and tables of one snapshot."""
    notify(name, snap)
    session, state = snap.session, snap.state
    notices = st.container()  # what comes and goes sits in one block: the charts keep their place
    with notices:
        _notices(session)
    equity = state.get("equity", session["cash0"])
    day0 = state.get("day_start_equity", session["cash0"])
    dd = state.get("drawdown") or {}
    regime = state.get("regime") or {}
    # two rows: six abreast cut "warming up" and "high volatility" on a 1280 px screen
    cols = [*st.columns(4), *st.columns([2, 1, 1])]
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
        delta_arrow="off",
    )
    cols[4].metric(
        "Regime",
        charts.regime_name(regime.get("label") or "warming up"),
        f"true: {regime['true']}"
        if regime.get("true")
        else (
            f"{regime.get('observed', 0)} of {regime['warmup']} returns"
            if not regime.get("label") and regime.get("warmup")
            else None
        ),
        delta_color="off",
        delta_arrow="off",
        help="a hidden Markov model fitted on the returns seen so far, filtered causally",
    )
    n = session["n_events"] or 0
    cols[5].metric(
        "Events",
        f"{session['events']:,}",
        f"of {n:,}" if n else None,
        delta_color="off",
        delta_arrow="off",
    )
    cols[6].metric("Fills", f"{state.get('n_fills', 0):,}")
    st.progress(
        min(session["events"] / n, 1.0) if n else 0.0,
        text=f"{STATUS_ICON.get(session['status'], '')} {session['status']} · last "
        f"event {_when(state.get('ts'))}",
    )
    with st.container():  # one block whether or not there is a choice of symbol
        if session.get("risk"):
            st.caption(f":material/shield: Risk overlay on · {session['risk']}")
        costs_view(session.get("costs"))
        if len(session["symbols"]) > 1:
            st.selectbox("Chart", session["symbols"], key="paper_symbol")
    # only the open tab is drawn on each refresh (choosing another refreshes the panel)
    chart, book, strategies, alerts = st.tabs(
        ["Chart", "Positions & orders", "Strategies", "Alerts & commands"],
        key="paper_live_tab",
        on_change="rerun",
    )
    with chart:
        if chart.open:
            chart_view(name, snap)
    with book:
        if book.open:
            book_view(ws, name, snap)
    with strategies:
        if strategies.open:
            strategies_view(snap)
    with alerts:
        if alerts.open:
            alerts_view(snap)


def chart_view(name: str, snap) -> None:
    """The price with its fills, equity with the drawdown bands, the regime probabilities."""
    session = snap.session
    if snap.prices.empty:
        st.info("No events yet: the chart fills in as the worker trades.")
        return
    # stable keys and uirevision: each refresh updates the figures in place, keeping zoom
    st.plotly_chart(
        price_with_fills(snap.prices, snap.markers, session["symbol"]),
        key="paper_price",
        width="stretch",
    )
    equity_figure = charts.equity_drawdown_bands_figure(
        snap.equity, session["warning"], session["critical"]
    )
    equity_figure.update_layout(uirevision=f"paper_equity {name}")
    st.plotly_chart(equity_figure, key="paper_equity", width="stretch")
    probs = (snap.state.get("regime") or {}).get("probabilities")
    if probs:
        st.caption(
            "Filtered regime probabilities (data up to now only): "
            + " · ".join(f"{charts.regime_name(k)} {v:.0%}" for k, v in probs.items())
        )


def book_view(ws, name: str, snap) -> None:
    """Positions, open orders (each with a Cancel button) and the recent fills."""
    positions_view(snap)
    orders_view(ws, name, snap)
    st.subheader("Recent fills")
    if snap.fills.empty:
        st.caption("No fills yet.")
    else:
        fmt.dataframe(
            snap.fills,
            hide_index=True,
            key="paper_fills",
            column_config={"ts": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
        )


def strategies_view(snap) -> None:
    fmt.dataframe(
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


def alerts_view(snap) -> None:
    if snap.alerts.empty:
        st.caption("No risk alerts.")
    else:
        fmt.dataframe(snap.alerts, hide_index=True, key="paper_alerts")
    fmt.dataframe(snap.commands.astype({"payload": str}), hide_index=True, key="paper_commands")


def _notices(session: dict) -> None:
    """The worker's error and an interrupted session's hint (often nothing)."""
    if session["error"]:
        st.error(f"Worker error: {plain(session['error'])}")
    if session["status"] == "interrupted":
        st.warning(
            "The worker stopped without a word (killed or crashed). **Resume worker** "
            "picks up from the last committed event."
        )


def costs_view(costs: dict | None) -> None:
    """Commissions beside the P&L (worked out in core), with a warning when they dominate."""
    if not costs or not costs["commissions"]:
        return
    share = costs["share_of_loss"]
    st.caption(
        f":material/receipt_long: Commissions {costs['commissions']:,.2f}"
        + (f" · {share:.1%} of the loss" if share is not None else "")
        + f" · P&L before costs {costs['gross_pnl']:+,.2f}, after {costs['pnl']:+,.2f}"
    )
    if costs["dominate"]:
        st.warning(plain(costs["message"]), icon=":material/warning:")


def positions_view(snap) -> None:
    st.subheader("Positions")
    if snap.positions.empty:
        st.caption("Flat.")
        return
    fmt.dataframe(
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


MAX_TOASTS = 3
"""Toasts per refresh at most (then one "…and N more"): they must not bury the controls."""


def notify(name: str, snap) -> None:
    """Toasts for the fills and limit breaches since the last refresh, at most
    :data:`MAX_TOASTS` of them and one that counts the rest."""
    seen = st.session_state.setdefault(SEEN, {})
    last_fill, last_alert = seen.get(name, (None, None))
    fills, alerts = snap.fills, snap.alerts
    newest_fill = fills["fill_id"].iloc[0] if len(fills) else None
    newest_alert = int(alerts["id"].iloc[0]) if len(alerts) else None
    if name in seen:
        messages = []  # breaches first: they matter more than fills
        if newest_alert is not None and newest_alert != last_alert:
            breaches = alerts[
                (alerts["id"] > (last_alert or 0))
                & alerts["level"].isin(["warn", "block", "critical"])
            ]
            messages += [
                (f"{a.level.upper()} {a.rule}: {a.message}", ":material/warning:")
                for a in breaches.itertuples()
            ]
        if newest_fill is not None and newest_fill != last_fill:
            new = fills.iloc[: _count_until(fills["fill_id"].tolist(), last_fill)]
            messages += [
                (
                    f"Fill {f.side} {f.quantity:g} {f.symbol} @ {f.price:.4g} ({f.strategy})",
                    ":material/swap_horiz:",
                )
                for f in new.itertuples()
            ]
        for text, icon in toasts(messages):
            st.toast(text, icon=icon)
    seen[name] = (newest_fill, newest_alert)


def toasts(messages: list[tuple[str, str]], limit: int = MAX_TOASTS) -> list[tuple[str, str]]:
    """The first ``limit`` of ``messages`` (text, icon), then one "…and N more" for the rest."""
    if len(messages) <= limit:
        return messages
    more = len(messages) - limit
    return [
        *messages[:limit],
        (f"…and {more} more (see the Alerts and fills tabs)", ":material/more_horiz:"),
    ]


def _count_until(ids: list[str], last: str | None) -> int:
    return ids.index(last) if last in ids else len(ids)


def price_with_fills(prices: pd.DataFrame, markers: pd.DataFrame, symbol: str) -> go.Figure:
    fig = go.Figure()
    close = charts.thin_line(prices.set_index("ts")["close"])
    fig.add_trace(go.Scatter(x=close.index, y=close, name=symbol, line=dict(color=charts.LINE)))
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
    fig.update_layout(title=f"{symbol} with fills", uirevision=f"paper_price {symbol}")
    return charts._layout(fig, 360)
