"""RL lab, Q-learning tab: configure, train in a worker (progress, Stop), the Q-table heatmap,
the policy per state and the out-of-sample comparison. Training runs in a worker process; these
panels submit the task, read its snapshot and write the cancel command."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts, widgets
from app import format as fmt
from app.param_form import param_inputs
from core.config import DATA_DIR
from core.errors import WorkstationError
from core.qlearning import QLearningSettings, QModel, action_labels
from core.strategies import registry
from core.workstation import Workstation

TASK_KIND = "qlearning_train"
TASK = "ql_task"
MODEL = "ql_model"
REFRESH = "2s"
LOG_DIR = DATA_DIR / "logs"
DEFAULT_STRATEGIES = ["sma_crossover", "rsi_reversal"]
METRICS = {
    "total_return": "Return",
    "cagr": "CAGR",
    "sharpe": "Sharpe",
    "volatility": "Volatility",
    "max_drawdown": "Max drawdown",
    "turnover": "Turnover (×/yr)",
}


def render_qlearning(ws: Workstation) -> None:
    """The whole Q-learning tab."""
    st.caption(
        "A tabular Q-learner moves capital between strategies' sleeves by market state "
        "(HMM filtered regime × volatility bucket × recent-return bucket), trained on the "
        "first part of the history and compared on the rest, with costs."
    )
    request = request_form(ws)
    if request is not None:
        submit(ws, request)
    task_id = st.session_state.get(TASK)
    if task_id:
        live_panel(ws, task_id)
    model_id = model_picker(ws)
    if model_id:
        model_view(ws, model_id)


# -- form --------------------------------------------------------------------------------------
def sleeve_names() -> list[str]:
    """Strategies that can be a sleeve (single instrument, no meta-strategy)."""
    return [
        n
        for n, cls in registry().items()
        if not cls.multi_asset and n not in ("q_weights", "regime_adaptive", "rl_allocation")
    ]


def request_form(ws: Workstation) -> dict[str, Any] | None:
    """Strategies, instrument and the agent's settings; a checked request when Train is pressed."""
    names = sleeve_names()
    symbols = list(ws.market.symbols()["symbol"])
    with st.form("ql_form"):
        strategies = st.multiselect(
            "Strategies (2 to 4 sleeves)",
            names,
            default=[n for n in DEFAULT_STRATEGIES if n in names],
            max_selections=4,
            key="ql_strategies",
        )
        symbol = st.selectbox(
            "Instrument",
            symbols,
            index=symbols.index("SPX") if "SPX" in symbols else 0,
            key="ql_symbol",
        )
        with st.expander("Agent settings (split, state, actions, learning, costs)"):
            settings = param_inputs(QLearningSettings, "ql")
        overrides = st.text_input(
            "Sleeve parameters (JSON, optional)",
            value="",
            placeholder='{"sma_crossover": {"fast": 20, "slow": 100}}',
            help="strategy → parameter overrides; the others keep their defaults",
            key="ql_params",
        )
        pressed = st.form_submit_button("Train", icon=":material/play_arrow:", key="ql_train")
    if not pressed:
        return None
    try:
        params = json.loads(overrides) if overrides.strip() else {}
    except json.JSONDecodeError as exc:
        st.error(widgets.plain(f"sleeve parameters: not JSON ({exc})"))
        return None
    values = {"strategies": strategies, "symbol": symbol, "params": params, **settings}
    try:
        return ws.qlearning.validate(values)
    except WorkstationError as exc:
        st.error(widgets.plain(str(exc)))
        return None


# -- the task ----------------------------------------------------------------------------------
def launch(ws: Workstation, task_id: str) -> int:
    """Start the worker process for ``task_id`` (tests replace this to run in-process)."""
    return ws.tasks.start_worker(task_id, log_dir=LOG_DIR)


def submit(ws: Workstation, request: dict[str, Any]) -> str:
    task_id = ws.tasks.submit(TASK_KIND, request)
    st.session_state[TASK] = task_id
    try:
        launch(ws, task_id)
    except OSError as exc:
        st.error(widgets.plain(f"Could not start the worker: {exc}"))
    else:
        st.toast("Q-learning started")
    return task_id


def refresh_interval(snapshot) -> str | None:
    """Refresh while the task runs; never once it is finished."""
    return None if snapshot is None or snapshot.finished else REFRESH


def live_panel(ws: Workstation, task_id: str) -> None:
    """The task's status, progress, learning curve and Stop; refreshes itself while it runs."""
    every = refresh_interval(ws.tasks.get(task_id))
    st.fragment(run_every=every, key="ql_live")(_task_status)(ws, task_id, every is not None)


@widgets.guarded  # a fragment's own reruns happen outside the page's guard
def _task_status(ws: Workstation, task_id: str, live: bool) -> None:
    snap = ws.tasks.get(task_id)
    if snap is None:
        st.warning("This training task no longer exists.")
        return
    if live and snap.finished:
        st.rerun()  # the whole page: the model appears and the timer stops
    status = "stopping…" if snap.cancel_requested and not snap.finished else str(snap.status)
    st.markdown(f"**Training:** {status}")
    st.progress(snap.fraction or 0.0, text=snap.progress_text or "waiting for the worker")
    if snap.curve:
        st.plotly_chart(curve_figure(snap.curve), key="ql_curve")
    if snap.error:
        st.error(widgets.plain(snap.error))
    if not snap.finished:
        st.button(
            "Stop",
            key="ql_stop",
            disabled=snap.cancel_requested,
            icon=":material/stop:",
            on_click=widgets.guarded(ws.tasks.request_cancel),
            args=(task_id,),
        )
    if snap.result and snap.result.get("model_id"):
        st.session_state.setdefault(MODEL, snap.result["model_id"])


def curve_figure(curve: list[dict[str, Any]]) -> go.Figure:
    """Mean reward per episode (the learning curve)."""
    frame = pd.DataFrame(curve)
    fig = go.Figure(go.Scattergl(x=frame["episode"], y=frame["reward"], mode="lines"))
    fig.update_layout(title="Learning curve: mean reward per decision, by episode", height=280)
    fig.update_xaxes(title="episode")
    return fig


# -- models ------------------------------------------------------------------------------------
def model_picker(ws: Workstation) -> str | None:
    records = ws.qlearning.list()
    if not records:
        st.info("Pick two or more strategies, then **Train**. Training runs in the background.")
        return None
    labels = {r.id: f"{r.name} · {r.created_at:%Y-%m-%d %H:%M} · {r.id}" for r in records}
    if st.session_state.get(MODEL) not in labels:
        st.session_state[MODEL] = records[0].id
    return st.selectbox("Q-learning model", list(labels), format_func=labels.get, key=MODEL)


def model_view(ws: Workstation, model_id: str) -> None:
    """The out-of-sample comparison, the policy per state and the Q-table heatmap."""
    try:
        model = ws.qlearning.load(model_id)
    except WorkstationError as exc:
        st.error(widgets.plain(str(exc)))
        return
    record = ws.models.require(model_id)
    fold = record.folds[0] if record.folds else {}
    st.subheader("Out of sample, with costs")
    st.caption(
        f"Test span {fold.get('test_start', '?')[:10]} → {fold.get('test_end', '?')[:10]} "
        f"(trained to {fold.get('train_end', '?')[:10]}); every contender through the same "
        "backtest engine and costs."
    )
    fmt.dataframe(comparison_table(record.metrics.get("test", {})), key="ql_oos")
    curves = _test_curves(ws, model_id)
    if curves:
        st.plotly_chart(curves, key="ql_equity")
    st.subheader("Policy per state")
    policy = policy_table(model)
    weights = {n: st.column_config.NumberColumn(n, format="percent") for n in model.strategies}
    fmt.dataframe(
        policy,
        hide_index=True,
        key="ql_policy",
        column_config=weights,
    )
    st.plotly_chart(q_heatmap(model), key="ql_heatmap")


def comparison_table(test: dict[str, dict[str, float | None]]) -> pd.DataFrame:
    """One row per contender (q_weights first), metrics formatted."""
    order = sorted(test, key=lambda k: (k != "q_weights", k != "equal_weight", k))
    rows = {
        name: {label: _cell(key, test[name].get(key)) for key, label in METRICS.items()}
        for name in order
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def policy_table(model: QModel) -> pd.DataFrame:
    """Each state: its training visits, the greedy weights (equal in an unvisited state)."""
    rows = []
    for s, state in enumerate(model.states):
        visits = int(sum(model.visits[s]))
        row = {"state": state, "visits": visits}
        row |= dict(zip(model.strategies, model.weights(state), strict=True))
        row["note"] = "" if visits else "never seen in training: equal weights"
        rows.append(row)
    return pd.DataFrame(rows)


def q_heatmap(model: QModel) -> go.Figure:
    """Q-values, states × actions (unvisited states blank)."""
    q = np.array(model.q, dtype=float)
    q[np.array(model.visits).sum(axis=1) == 0] = np.nan
    matrix = pd.DataFrame(q, index=model.states, columns=action_labels(model.actions))
    title = "Q-table (expected discounted reward) — actions are weights " + "/".join(
        model.strategies
    )
    fig = charts.heatmap_figure(matrix, title, fmt=".4f", x_title="action", z_title="Q")
    fig.update_layout(height=max(320, 28 * len(model.states)))
    return fig


def _test_curves(ws: Workstation, model_id: str) -> go.Figure | None:
    """Test-span equity of each contender, from the training task that made the model."""
    for snap in ws.tasks.list(TASK_KIND, limit=50):
        result = snap.result or {}
        if result.get("model_id") == model_id and result.get("equity_test"):
            data = result["equity_test"]
            index = pd.DatetimeIndex(data["ts"])
            series = {k: pd.Series(v, index=index) for k, v in data.items() if k != "ts"}
            return charts.curves_figure(series, "Test span equity (rebased to 1)")
    return None


def _cell(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key in ("sharpe", "turnover"):
        return f"{value:.2f}"
    return fmt.pct(value)


__all__ = ["render_qlearning"]
