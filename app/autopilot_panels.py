"""Autopilot panels: the regime now and its history, the rules editor, a run's decision (target
against current weights, trades, risk approval), the schedule, the log and the simulation."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts, widgets
from app import format as fmt
from core.autopilot import GENERATORS, RulesTable
from core.errors import REFUSALS
from core.workstation import Workstation

HISTORY_DAYS = 504  # regime bands shown: two years of trading days
STRATEGIES = list(GENERATORS)
BAND = {"high": "rgba(255,160,0,0.18)", "extreme": "rgba(220,0,0,0.22)"}


# -- the regime --------------------------------------------------------------------------------
def regime_now(reading: dict) -> None:
    """Label, confidence and the components of one day's regime."""
    vol = reading["volatility"]
    # the two text readings get wider columns, and their detail goes under them: a metric
    # cuts a value wider than its column ("bear me…")
    c1, c2, c3, c4, c5 = st.columns([1.3, 1, 1.2, 1, 1.5])
    c1.metric("Regime", reading["trend"]["state"], f"{vol['bucket']} volatility",
              delta_color="off", delta_arrow="off",
              help=f"{reading['label']} on {reading['date']}: trend, then the volatility "
              "bucket (the rules match on both)")  # fmt: skip
    c2.metric("Confidence", f"{reading['confidence']:.0%}")
    c3.metric("Volatility", f"{vol['value']:.1%}", f"{vol['percentile']:.0%} pct · {vol['bucket']}",
              delta_color="off", delta_arrow="off")  # fmt: skip
    share = reading["breadth"]["above_share"]
    c4.metric("Above SMA50", "–" if share is None else f"{share:.0%}",
              f"A/D {reading['breadth']['ad_ratio']:.2f}",
              delta_color="off", delta_arrow="off")  # fmt: skip
    hmm = reading["hmm"]
    prob = None if hmm["probability"] is None else f"{hmm['probability']:.0%} probability"
    c5.metric("HMM (filtered)", charts.regime_name(hmm["label"] or "–"), prob,
              delta_color="off", delta_arrow="off")  # fmt: skip


def regime_bands_figure(close: pd.Series, regimes: pd.DataFrame) -> go.Figure:
    """The index coloured by trend, with bands where volatility was high or extreme."""
    frame = regimes.assign(day=pd.to_datetime(regimes["day"])).set_index("day")
    close = close.loc[frame.index[0] : frame.index[-1]]
    fig = charts.regime_price_figure(close, frame["trend"], "Index by regime (trend; bands: vol)")
    runs = (frame["volatility"] != frame["volatility"].shift()).cumsum()
    for _, run in frame.groupby(runs):
        bucket = run["volatility"].iloc[0]
        if bucket in BAND:
            fig.add_vrect(x0=run.index[0], x1=run.index[-1], fillcolor=BAND[bucket],
                          line_width=0, layer="below")  # fmt: skip
    return fig


def regime_history(ws: Workstation, as_of) -> None:
    """The stored daily regimes as bands over the index; a button computes missing ones."""
    end = pd.Timestamp(as_of)
    index = ws.market.bars(ws.autopilot.config.index, end=end)["close"]
    start = index.index[max(0, len(index) - HISTORY_DAYS)]
    stored = ws.autopilot.stored_regimes(start, end)
    if len(stored) < 0.9 * len(index.loc[start:]):
        st.caption(f"{len(stored)} of {len(index.loc[start:])} days stored.")
        if st.button("Compute the regime history (two years)", key="ap_history"):
            with st.spinner("Computing daily regimes…"):
                stored = ws.autopilot.regime_history(start, end)
    if len(stored):
        st.plotly_chart(regime_bands_figure(index, stored), key="ap_bands")


# -- the rules ---------------------------------------------------------------------------------
def rules_frame(table: RulesTable) -> pd.DataFrame:
    """One row per rule, conditions as comma-separated text."""
    rows = [
        {
            "name": r.name,
            "trend": ",".join(r.when.trend),
            "volatility": ",".join(r.when.volatility),
            "min_breadth": r.when.min_breadth,
            "max_breadth": r.when.max_breadth,
            "strategy": r.strategy,
            "confidence": r.confidence,
        }
        for r in table.rules
    ]
    columns = [
        "name",
        "trend",
        "volatility",
        "min_breadth",
        "max_breadth",
        "strategy",
        "confidence",
    ]
    return pd.DataFrame(rows, columns=columns)


def _split(text) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def _number(value):
    return None if value is None or pd.isna(value) else float(value)


def table_from_frame(frame: pd.DataFrame, fallback: str, min_hold_days: int) -> dict:
    """The edited rows as a rules table's JSON (validated by the service)."""
    rules = [
        {
            "name": str(row["name"] or "").strip(),
            "when": {
                "trend": _split(row["trend"]),
                "volatility": _split(row["volatility"]),
                "min_breadth": _number(row["min_breadth"]),
                "max_breadth": _number(row["max_breadth"]),
            },
            "strategy": row["strategy"],
            "confidence": _number(row["confidence"]) if pd.notna(row["confidence"]) else 0.5,
        }
        for _, row in frame.iterrows()
        if str(row.get("name") or "").strip() or pd.notna(row.get("strategy"))
    ]
    return {"rules": rules, "fallback": fallback, "min_hold_days": int(min_hold_days)}


def rules_editor(ws: Workstation) -> None:
    """Edit the rules in order (the first match wins); save validates and audits."""
    table = ws.autopilot.rules()
    edited = st.data_editor(
        rules_frame(table),
        num_rows="dynamic",
        key="ap_rules",
        column_config={
            "strategy": st.column_config.SelectboxColumn(options=STRATEGIES, required=True),
            "trend": st.column_config.TextColumn(help="bull, bear, sideways (empty: any)"),
            "volatility": st.column_config.TextColumn(help="low, medium, high, extreme"),
            "confidence": st.column_config.NumberColumn(
                min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "min_breadth": st.column_config.NumberColumn(
                min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "max_breadth": st.column_config.NumberColumn(
                min_value=0.0, max_value=1.0, format="%.2f"
            ),
        },
        width="stretch",
    )
    c1, c2, c3 = st.columns(3)
    fallback = c1.selectbox("When no rule matches", STRATEGIES,
                            index=STRATEGIES.index(table.fallback), key="ap_fallback")  # fmt: skip
    hold = c2.number_input("Minimum days before switching", 0, 250, table.min_hold_days,
                           key="ap_hold")  # fmt: skip
    if c3.button("Save rules", key="ap_save_rules"):
        try:
            ws.autopilot.save_rules(table_from_frame(edited, fallback, hold))
            st.success("Rules saved.")
        except REFUSALS as exc:
            widgets.show_error(exc, where="rules")


# -- a run -------------------------------------------------------------------------------------
def decision_view(result: dict) -> None:
    """Strategy and confidence, target against current weights, trades and risk approval."""
    status = result.get("status", "plan")
    st.markdown(
        f"**{widgets.plain(result['strategy'])}** · confidence {result['confidence']:.0%} · "
        f"status **{widgets.plain(status)}**"
    )
    if result.get("reason"):
        st.caption(widgets.plain(result["reason"]))
    for note in result["proposal"]["fallbacks"]:
        st.caption(widgets.plain(f"fallback: {note}"))
    symbols = sorted({*result["target_weights"], *result["current_weights"]})
    weights = pd.DataFrame(
        {
            "symbol": symbols,
            "current": [result["current_weights"].get(s, 0.0) for s in symbols],
            "target": [result["target_weights"].get(s, 0.0) for s in symbols],
        }
    )
    percent = st.column_config.NumberColumn(format="percent")
    fmt.dataframe(weights, hide_index=True, key="ap_weights",
                 column_config={"current": percent, "target": percent})  # fmt: skip
    risk = result["risk"]
    verdict = "approved" if risk["approved"] else "not approved"
    st.markdown(f"Risk: **{verdict}** ({widgets.plain(risk['status'])})")
    checks = pd.DataFrame(risk["checks"], columns=["rule", "outcome", "value", "limit", "message"])
    ratio = st.column_config.NumberColumn(format="%.4f")
    fmt.dataframe(checks, hide_index=True, key="ap_checks",
                 column_config={"value": ratio, "limit": ratio})  # fmt: skip
    trades = pd.DataFrame(result["trades"])
    if trades.empty:
        st.caption("No trades.")
    else:
        shown = [c for c in ("side", "symbol", "quantity", "est_price", "est_cost", "booked")
                 if c in trades]  # fmt: skip
        frame = trades[shown]
        quantity = st.column_config.NumberColumn(format="%g")
        fmt.dataframe(frame, hide_index=True, key="ap_trades", column_config={"quantity": quantity})


def run_buttons(ws: Workstation, account: str, as_of) -> dict | None:
    """Dry run / paper run now; the result of the one clicked (or None)."""
    c1, c2, c3 = st.columns([1, 1, 2])
    force = c3.checkbox("Force (decide again on a settled date)", key="ap_force")
    clicked = "dry-run" if c1.button("Dry run now", key="ap_dry") else None
    clicked = "paper" if c2.button("Paper run now", key="ap_paper") else clicked
    if clicked is None:
        return None
    try:
        return ws.autopilot.run(account, clicked, as_of, force=force, actor="page")
    except REFUSALS as exc:
        widgets.show_error(exc)
        return None


# -- the schedule ------------------------------------------------------------------------------
def schedule_view(ws: Workstation, account: str) -> None:
    """The schedule worker's row; start it (a detached worker) or ask it to stop."""
    status = ws.autopilot.schedule_status(account)
    alive = bool(status and status["alive"])
    if status is None:
        st.caption("No schedule for this account.")
    else:
        st.markdown(
            f"Schedule **{'on' if alive else status['status']}** · cron `{status['cron']}` "
            f"({widgets.plain(status['timezone'])}) · mode {status['mode']} · next run "
            f"{status['next_run'] or '–'} UTC · last {widgets.plain(status['last_status'] or '–')}"
        )
    if alive:
        if st.button("Stop schedule", key="ap_stop"):
            ws.autopilot.stop_schedule(account)
            st.info("Stop requested: the worker stops at its next heartbeat.")
        return
    c1, c2, c3 = st.columns([2, 1, 1])
    cron = c1.text_input("Cron (minute hour day month weekday)", "30 16 * * 1-5", key="ap_cron")
    mode = c2.selectbox("Mode", ["paper", "dry-run"], key="ap_sched_mode")
    if c3.button("Start schedule", key="ap_start"):
        try:
            pid = ws.autopilot.start_schedule(
                account, cron, mode, database_url=ws.settings.database_url, log_dir="data/logs"
            )
            st.success(f"Schedule worker started (pid {pid}).")
        except REFUSALS as exc:
            widgets.show_error(exc)


# -- the log and the simulation ----------------------------------------------------------------
def log_view(ws: Workstation, account: str) -> None:
    """The account's rebalancing log, newest first."""
    log = ws.autopilot.log(account, 50)
    if log.empty:
        st.caption("No run yet.")
        return
    frame = log.drop(columns=["account"])
    fmt.dataframe(frame, hide_index=True, key="ap_log")


def simulation_view(ws: Workstation, start, end) -> None:
    """Submit the ML-vs-mock simulation as a task; show the newest one's result."""
    if st.button("Simulate ML vs mock", key="ap_sim"):
        request = {"start": str(start), "end": str(end), "compare": True}
        task_id = ws.tasks.submit("autopilot_backtest", request)
        ws.tasks.start_worker(task_id, log_dir="data/logs")
    tasks = ws.tasks.list("autopilot_backtest", limit=1)
    if not tasks:
        st.caption("No simulation yet.")
        return
    task = tasks[0]
    every = None if task.finished else "2s"
    st.fragment(run_every=every, key="ap_sim_live")(_simulation)(ws, task.id)


@widgets.guarded
def _simulation(ws: Workstation, task_id: str) -> None:
    task = ws.tasks.get(task_id)
    if task is None:
        return
    if not task.finished:
        st.progress(task.fraction or 0.0, text=task.progress_text or "queued")
        return
    if task.error:
        st.error(widgets.plain(task.error))
        return
    simulation_result(task.result or {})


def simulation_result(result: dict) -> None:
    """Metrics of each run side by side and their equity curves."""
    runs = {"ML" if not r["mock"] else "mock": r for r in result.values()}
    first = next(iter(runs.values()))
    runs.update({name: {"metrics": m} for name, m in first["baselines"].items()})
    keys = ["total_return", "cagr", "volatility", "sharpe", "max_drawdown", "costs", "n_fallbacks"]
    table = pd.DataFrame(
        {name: {k: r["metrics"].get(k) for k in keys} for name, r in runs.items()}
    ).T  # one row per run
    fmt.dataframe(table.astype(float), key="ap_sim_table")
    curves = {
        name: pd.Series({pd.Timestamp(p["date"]): p["value"] for p in r["equity"]})
        for name, r in runs.items()
        if "equity" in r
    }
    st.plotly_chart(charts.curves_figure(curves, "Autopilot over history (with costs)"),
                    key="ap_sim_curves")  # fmt: skip
