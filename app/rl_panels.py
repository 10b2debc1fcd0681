"""RL lab panels: the PPO form (from the pydantic models), the task's live progress with Stop,
the learning curve, and the out-of-sample comparison (table, equity curves, weights).

Training runs in a worker process (``ws.tasks``, kind ``rl_train``); these panels submit the
request, read task snapshots and write the cancel command.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts, widgets
from app import format as fmt
from app.param_form import param_inputs
from core.config import DATA_DIR
from core.errors import REFUSALS
from core.marketdata import STOCK_SYMBOLS
from core.rl import DEFAULT_TIMESTEPS, EnvSettings, PPOParams
from core.tasks import TaskSnapshot
from core.workstation import Workstation

KIND = "rl_train"
TASK = "rl_task"
PAUSED = "rl_paused"
REFRESH = "2s"
LOG_DIR = DATA_DIR / "logs"
POLICY_LABELS = {
    "ppo": "PPO",
    "equal_weight": "Equal weight",
    "min_variance": "Minimum variance",
    "max_sharpe": "Maximum Sharpe",
    "buy_hold": "Buy and hold",
}
METRICS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "volatility": "Volatility",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "max_drawdown": "Max drawdown",
    "turnover": "Turnover / yr",
    "costs": "Costs",
}
PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "costs"}


# -- form --------------------------------------------------------------------------------------
def request_form(ws: Workstation) -> dict[str, Any] | None:
    """The PPO request from the form (None until submitted)."""
    symbols = list(ws.market.symbols()["symbol"])
    with st.form("rl_form", border=False):
        chosen = st.multiselect("Assets", symbols, default=list(STOCK_SYMBOLS), key="rl_symbols")
        # one date a row: three abreast in this narrow column cut them to "200…"
        start = st.date_input("Train from", value=date(2005, 1, 3), key="rl_train_start")
        end = st.date_input("Train to", value=date(2016, 12, 30), key="rl_train_end")
        test_end = st.date_input("Test to", value=date(2022, 12, 28), key="rl_test_end")
        c1, c2 = st.columns(2)
        timesteps = c1.number_input(
            "Timesteps", min_value=64, max_value=5_000_000, value=DEFAULT_TIMESTEPS, step=1000,
            key="rl_timesteps",
        )  # fmt: skip
        seed = c2.number_input("Seed", min_value=0, value=0, key="rl_seed")
        folds = st.number_input(
            "Walk-forward folds", min_value=0, max_value=12, value=0, key="rl_folds",
            help="also cut the test span into folds, PPO retrained before each (0 = off)",
        )  # fmt: skip
        with st.expander("Environment"):
            env = param_inputs(EnvSettings, "rl_env")
        with st.expander("Agent (PPO)"):
            ppo = param_inputs(PPOParams, "rl_ppo")
        submitted = st.form_submit_button("Train", key="rl_submit", icon=":material/play_arrow:")
    if not submitted:
        return None
    return {
        "symbols": chosen,
        "train_start": start.isoformat(),
        "train_end": end.isoformat(),
        "test_end": test_end.isoformat(),
        "timesteps": int(timesteps),
        "seed": int(seed),
        "walk_forward": int(folds),
        "env": env,
        "ppo": ppo,
    }


def submit(ws: Workstation, request: dict[str, Any]) -> str | None:
    """Queue the training (refused before anything is written when invalid) and start it."""
    try:
        task_id = ws.tasks.submit(KIND, request)
    except REFUSALS as exc:
        widgets.show_error(exc)
        return None
    try:
        ws.tasks.start_worker(task_id, log_dir=LOG_DIR)
    except OSError as exc:
        st.error(widgets.plain(f"Could not start the worker: {exc}"))
    st.session_state[TASK] = task_id
    st.toast("Training started")
    return task_id


# -- tasks -------------------------------------------------------------------------------------
def task_label(task: TaskSnapshot) -> str:
    when = task.created_at.strftime("%Y-%m-%d %H:%M:%S") if task.created_at else ""
    symbols = task.request.get("symbols") or [task.request.get("data") or "file"]
    steps = task.request.get("timesteps") or 0
    return f"{when} · {len(symbols)} assets · {steps:,} steps · {task.status}"


def task_picker(ws: Workstation) -> str | None:
    """The recent trainings and the one to show (the one just started, at first)."""
    tasks = ws.tasks.list(KIND)
    if not tasks:
        st.info("Choose assets and a split, then **Train**. Training runs in the background.")
        return None
    labels = {t.id: task_label(t) for t in tasks}
    if st.session_state.get(TASK) not in labels:
        st.session_state[TASK] = tasks[0].id
    return st.selectbox("Training", list(labels), format_func=labels.get, key=TASK)


def live_panel(ws: Workstation, task_id: str) -> TaskSnapshot | None:
    """Progress, learning curve and Stop; refreshes itself while the task runs."""
    task = ws.tasks.get(task_id)
    paused = st.session_state.get(PAUSED, False)
    every = None if task is None or task.finished or paused else REFRESH
    st.fragment(run_every=every, key="rl_live")(_status)(ws, task_id, every is not None)
    return task


@widgets.guarded
def _status(ws: Workstation, task_id: str, live: bool) -> None:
    task = ws.tasks.get(task_id)
    if task is None:
        st.warning("This training no longer exists.")
        return
    if live and task.finished:
        st.rerun()
    st.markdown(f"**Status:** {task.status}")
    st.progress(task.fraction or 0.0, text=widgets.plain(task.progress_text or "queued"))
    if task.curve:
        st.plotly_chart(learning_figure(task.curve), key="rl_learning")
    if task.error:
        st.error(widgets.plain(task.error))
    if not task.finished:
        st.button(
            "Stop",
            key="rl_stop",
            icon=":material/stop:",
            disabled=task.cancel_requested,
            on_click=widgets.guarded(ws.tasks.request_cancel),
            args=(task_id,),
        )


def learning_figure(curve: list[dict]) -> go.Figure:
    """Mean episode reward against timesteps."""
    frame = pd.DataFrame(curve)
    fig = go.Figure(
        go.Scattergl(x=frame["timesteps"], y=frame["mean_reward"], mode="lines+markers")
    )
    fig.update_layout(
        title="Learning curve", xaxis_title="timesteps", yaxis_title="mean episode reward"
    )
    return fig


# -- results -----------------------------------------------------------------------------------
def comparison_table(result: dict[str, Any], span: str) -> pd.DataFrame:
    """One row per policy, the metrics of ``span`` ("train" or "test") as display text."""
    rows = []
    for key, label in POLICY_LABELS.items():
        metrics = result[span].get(key, {})
        row = {"policy": label}
        for name, title in METRICS.items():
            value = metrics.get(name)
            if value is None:
                row[title] = "—"
            elif name in PERCENT:
                row[title] = f"{value:.2%}"
            else:
                row[title] = f"{value:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def equity_curves(result: dict[str, Any]) -> dict[str, pd.Series]:
    curves = result["test_curves"]
    index = pd.DatetimeIndex(curves["dates"])
    return {label: pd.Series(curves[key], index=index) for key, label in POLICY_LABELS.items()}


def weights_figure(result: dict[str, Any]) -> go.Figure:
    """PPO's target weights at each decision of the test span, stacked."""
    table = result["test_weights"]
    frame = pd.DataFrame(table["rows"], columns=table["columns"], index=table["dates"])
    fig = go.Figure()
    for column in frame.columns:
        fig.add_trace(
            go.Scatter(x=frame.index, y=frame[column], name=column, stackgroup="w", mode="lines")
        )
    fig.update_layout(title="PPO weights over time (test)", yaxis_tickformat=".0%")
    return fig


def result_panel(task: TaskSnapshot) -> None:
    """The out-of-sample comparison of a finished training."""
    result = task.result or {}
    if "test" not in result:
        if task.status == "cancelled":
            st.info("Stopped before the model was evaluated.")
        return
    split = result["split"]
    dsr = result["deflated_sharpe"]
    st.markdown(
        f"**Model** `{result['model_id']}` · {result['timesteps']:,} timesteps"
        + (" (stopped early)" if result.get("stopped") else "")
        + f" · train {split['train_start']} → {split['train_end']}"
        + f" · test {split['test_start']} → {split['test_end']}"
    )
    st.subheader("Out of sample")
    fmt.dataframe(comparison_table(result, "test"), hide_index=True, key="rl_test_table")
    st.caption(
        widgets.plain(
            f"Deflated Sharpe of PPO over {dsr['n_trials']} configuration(s) tried: "
            f"{dsr['dsr']:.2f} (probability that its true Sharpe is above what luck gives). "
            "Same costs and rebalance frequency for every policy; baselines fitted on the "
            "training span."
        )
    )
    st.plotly_chart(
        charts.curves_figure(equity_curves(result), "Equity (test, starting at 1)"),
        key="rl_equity",
    )
    st.plotly_chart(weights_figure(result), key="rl_weights")
    walk = result.get("walk_forward")
    if walk and walk.get("test"):
        st.subheader(f"Walk-forward ({len(walk['folds'])} folds, chained)")
        fmt.dataframe(comparison_table(walk, "test"), hide_index=True, key="rl_walk_table")
    with st.expander("In sample (training span)"):
        fmt.dataframe(comparison_table(result, "train"), hide_index=True, key="rl_train_table")


def qlearning_tab(ws: Workstation) -> None:
    """The Q-learning allocator's panel (from its own module)."""
    try:
        from app.rl_qlearning_panels import render_qlearning
    except ImportError:
        st.info("The Q-learning allocator is not available in this build.")
        return
    render_qlearning(ws)
