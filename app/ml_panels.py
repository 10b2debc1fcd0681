"""ML lab panels: the training form, the live task, the results of a report, saved models."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pydantic import ValidationError

from app import format as fmt
from app import widgets
from app.param_form import param_inputs
from core.ml import BUNDLED_UNIVERSE, BoosterParams, FeatureSet, MLTrainRequest
from core.workstation import Workstation

TASK_KEY = "ml_task"


def train_form(ws: Workstation) -> MLTrainRequest | None:
    """Universe, span, walk-forward, features and booster inputs; a request on Start."""
    symbols = [s for s in ws.market.symbols()["symbol"] if s not in ("SP500", "SPX", "IXIC")]
    with st.form("ml_form", border=False):
        chosen = st.multiselect(
            "Universe", symbols, default=list(BUNDLED_UNIVERSE), key="ml_symbols"
        )
        c1, c2, c3, c4 = st.columns(4)
        start = c1.date_input("From", date(1990, 1, 1), key="ml_start")
        end = c2.date_input("To (nothing after is read)", date(2022, 12, 31), key="ml_end")
        horizon = c3.number_input("Label horizon h (bars)", 1, 63, 5, key="ml_horizon")
        top = c4.number_input("Top N held", 1, 100, 5, key="ml_top")
        c1, c2, c3, c4 = st.columns(4)
        train = c1.number_input("Train bars per fold", 20, 5000, 756, key="ml_train")
        test = c2.number_input("Test bars per fold", 1, 1000, 63, key="ml_test")
        window = c3.selectbox("Train window", ["rolling", "expanding"], key="ml_window")
        cost = c4.number_input("Cost (bps of turnover)", 0.0, 500.0, 10.0, key="ml_cost")
        c1, c2, c3 = st.columns(3)
        tune = c1.number_input("Optuna trials per fold (0 = off)", 0, 200, 0, key="ml_tune")
        seed = c2.number_input("Seed", 0, 10_000, 0, key="ml_seed")
        name = c3.text_input("Model name", "", key="ml_name")
        with st.expander("Features"):
            features = param_inputs(FeatureSet, "ml_feat")
        with st.expander("XGBoost"):
            model = param_inputs(BoosterParams, "ml_xgb")
        submitted = st.form_submit_button("Start training", type="primary", key="ml_start_btn")
    if not submitted:
        return None
    try:
        return MLTrainRequest(
            symbols=tuple(chosen),
            start=start,
            end=end,
            horizon=int(horizon),
            train=int(train),
            test=int(test),
            window=window,
            top=int(top),
            cost_bps=float(cost),
            tune_trials=int(tune),
            seed=int(seed),
            name=name,
            features=features,
            model=model,
        )
    except ValidationError as exc:
        widgets.show_error(exc, where="ML lab")
        return None


def start(ws: Workstation, request: MLTrainRequest) -> str:
    """Submit the training task, start its worker, remember it for the live panel."""
    task_id = ws.tasks.submit("ml_train", request.model_dump(mode="json"))
    ws.tasks.start_worker(task_id)
    st.session_state[TASK_KEY] = task_id
    return task_id


def live(ws: Workstation) -> None:
    """The current task: progress and Cancel while it runs, the results when done."""
    task_id = st.session_state.get(TASK_KEY)
    if not task_id:
        st.info("Configure a training above and start it; it runs in a worker process.")
        return
    snap = ws.tasks.get(task_id)
    running = snap is not None and not snap.finished
    _progress_fragment(ws, task_id, run_every="2s" if running else None)


def _progress_fragment(ws: Workstation, task_id: str, run_every) -> None:
    @st.fragment(run_every=run_every)
    def panel() -> None:
        snap = ws.tasks.get(task_id)
        if snap is None:
            st.warning(f"task {task_id} is gone")
            return
        st.progress(snap.fraction or 0.0, text=f"{snap.status.value}: {snap.progress_text}")
        if not snap.finished:
            if st.button("Cancel", key="ml_cancel"):
                ws.tasks.request_cancel(task_id)
            if snap.curve:
                curve = pd.DataFrame(snap.curve)
                st.caption("Rank IC of each finished fold")
                st.bar_chart(curve.set_index("fold")["rank_ic"])
            return
        if snap.error:
            st.error(snap.error)
        elif snap.result and snap.result.get("model_id"):
            results(ws, snap.result)
        else:
            st.info("cancelled before a fold finished")

    panel()


def results(ws: Workstation, report: dict, prefix: str = "ml_run") -> None:
    """A report's numbers and charts, the canaries, the model card and 'backtest with it'."""
    top, bench, index = (
        report.get("top_n") or {},
        report.get("benchmark") or {},
        report.get("index") or {},
    )
    st.subheader(f"Model {report['model_id']}")
    if report.get("stopped"):
        st.warning("stopped early: the results cover the folds that finished")
    cols = st.columns(6)
    cols[0].metric("Rank IC", _fmt(report.get("rank_ic"), ".4f"))
    cols[1].metric("Rank IC t (NW)", _fmt(report.get("rank_ic_tstat"), ".2f"))
    cols[2].metric("Rank ICIR", _fmt(report.get("rank_icir"), ".3f"))
    cols[3].metric("IC", _fmt(report.get("ic"), ".4f"))
    cols[4].metric("Top-N total return", _fmt(top.get("total_return"), ".1%"))
    cols[5].metric("Equal weight", _fmt(bench.get("total_return"), ".1%"))
    st.caption(
        f"Test folds only. {report.get('tstat_method', '')}; hit rate "
        f"{_fmt(report.get('hit_rate'), '.1%')}; configurations tried "
        f"{report.get('configurations_tried', 1)}; top-N deflated Sharpe "
        f"{_fmt(top.get('deflated_sharpe'), '.2f')}; index (buy and hold) "
        f"{_fmt(index.get('total_return'), '.1%')}."
    )
    series, curves = report.get("series") or {}, report.get("curves") or {}
    left, right = st.columns(2)
    with left:
        st.plotly_chart(ic_figure(series), key=f"{prefix}_ic")
        st.plotly_chart(
            quantile_figure(report.get("quantile_returns") or []), key=f"{prefix}_quant"
        )
    with right:
        st.plotly_chart(histogram_figure(series), key=f"{prefix}_hist")
        st.plotly_chart(equity_figure(curves), key=f"{prefix}_equity")
    st.plotly_chart(
        importance_figure(report.get("feature_importance") or {}), key=f"{prefix}_importance"
    )
    canaries = report.get("canaries") or {}
    if canaries:
        st.markdown("**Leak canaries**")
        fmt.dataframe(
            pd.DataFrame(
                [
                    {
                        "canary": k,
                        "passed": v.get("passed"),
                        **{x: y for x, y in v.items() if x != "passed" and not isinstance(y, list)},
                    }
                    for k, v in canaries.items()
                ]
            ),
            key=f"{prefix}_canaries",
        )
    with st.expander("Model card"):
        st.json(ws.ml.show(report["model_id"]), expanded=False)
    if st.button("Backtest with this model", key=f"{prefix}_backtest"):
        record = ws.models.require(report["model_id"])
        st.session_state["bt_strategy"] = "ml_selection"
        st.session_state["bt_symbols"] = list(record.universe)
        st.session_state["bt_ml_selection_model_id"] = report["model_id"]
        st.switch_page("../pages/backtest.py")


def models_view(ws: Workstation) -> None:
    """The saved walk-forward models; the chosen one's results."""
    models = ws.ml.list()
    if not models:
        st.info("no saved models yet")
        return
    table = pd.DataFrame(models)
    fmt.dataframe(table.drop(columns=["universe"]), key="ml_models_table")
    chosen = st.selectbox(
        "Model",
        table["model_id"],
        key="ml_model_pick",
        format_func=lambda i: f"{i} · {table.set_index('model_id').loc[i, 'name']}",
    )
    card = ws.ml.show(chosen)
    report = {**card["metrics"], **_saved_series(ws, chosen), "model_id": chosen}
    results(ws, report, "ml_saved")


@st.cache_data(max_entries=4, ttl=600, show_spinner=False)
def _saved_series(_ws: Workstation, model_id: str) -> dict:
    """A saved model's daily ICs and curves (a model id names fixed content: cacheable)."""
    return _ws.ml.series(model_id)


# -- figures ---------------------------------------------------------------------------------
def ic_figure(series: dict) -> go.Figure:
    fig = go.Figure()
    dates = pd.to_datetime(series.get("dates", []))
    fig.add_trace(go.Scattergl(x=dates, y=series.get("cum_ic", []), name="cumulative IC"))
    fig.add_trace(go.Scattergl(x=dates, y=series.get("cum_rank_ic", []), name="cumulative Rank IC"))
    fig.update_layout(title="IC and Rank IC over time (cumulative)", height=320)
    return fig


def histogram_figure(series: dict) -> go.Figure:
    fig = go.Figure(go.Histogram(x=series.get("rank_ic", []), nbinsx=50, name="Rank IC"))
    fig.update_layout(title="Daily Rank IC", height=320)
    return fig


def quantile_figure(quantiles: list) -> go.Figure:
    labels = [f"Q{i + 1}" for i in range(len(quantiles))]
    fig = go.Figure(go.Bar(x=labels, y=[np.nan if q is None else q * 1e4 for q in quantiles]))
    fig.update_layout(title="Mean forward return by score quantile (bps)", height=320)
    return fig


def equity_figure(curves: dict) -> go.Figure:
    fig = go.Figure()
    dates = pd.to_datetime(curves.get("dates", []))
    for key, label in (
        ("top_n", "top N (costs)"),
        ("equal_weight", "equal weight (costs)"),
        ("index", "index (buy and hold)"),
    ):
        if curves.get(key):
            fig.add_trace(go.Scattergl(x=dates, y=curves[key], name=label))
    fig.update_layout(title="Top-N against the benchmarks", height=320, yaxis_type="log")
    return fig


def importance_figure(importance: dict) -> go.Figure:
    gain = importance.get("gain") or {}
    shap = importance.get("shap") or {}
    names = list(gain)[:20]
    fig = go.Figure()
    total = sum(gain.values()) or 1
    fig.add_trace(go.Bar(x=names, y=[gain[n] / total for n in names], name="gain (share)"))
    if shap:
        s_total = sum(shap.values()) or 1
        fig.add_trace(
            go.Bar(x=names, y=[shap.get(n, 0) / s_total for n in names], name="mean |SHAP| (share)")
        )
    fig.update_layout(title="Feature importance (mean over folds)", height=340, barmode="group")
    return fig


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
