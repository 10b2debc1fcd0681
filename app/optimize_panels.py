"""Optimize page panels: the job form (ranges from the strategy's parameters model), the job
list and the live job panel. The search itself runs in a worker process; these only submit
jobs, read snapshots and write the cancel command."""

from __future__ import annotations

import math
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts
from app.backtest_panels import METRIC_LABELS, _date_range, _execution_inputs, metrics_table
from core.backtest import BacktestConfig
from core.optimize import (
    METHODS,
    JobStore,
    OptimizationJob,
    make_allocation_request,
    make_request,
    start_worker,
)
from core.optimize._jobs import ROOT
from core.strategies import ParamSpec, get_strategy, param_space, registry, save_strategy_config
from core.workstation import Workstation

JOB = "opt_job"
PAUSED = "opt_paused"
REFRESH = "2s"
METHOD_LABELS = {
    "grid": "Grid",
    "random": "Random",
    "mcmc": "MCMC (Metropolis–Hastings)",
    "de": "Differential evolution",
    "bayes": "Bayesian (Optuna TPE)",
}
LOG_DIR = ROOT / "data" / "logs"


# -- form --------------------------------------------------------------------------------------
def request_form(ws: Workstation) -> dict[str, Any] | None:
    """Strategy, data, search and cost inputs; a checked job request when Start is pressed."""
    names = list(registry())
    strategy = st.selectbox(
        "Strategy",
        names,
        index=names.index("sma_crossover"),
        key="opt_strategy",
        format_func=lambda n: registry()[n].label or n,
    )
    cls = get_strategy(strategy)
    symbols = list(ws.market.symbols()["symbol"])
    if cls.multi_asset:
        chosen = st.multiselect(
            "Instruments", symbols, default=["AAPL", "MSFT", "JNJ", "XOM"], key="opt_symbols"
        )
    else:
        chosen = [st.selectbox("Instrument", symbols, index=symbols.index("SPX"), key="opt_symbol")]
    start, end = _date_range(ws, chosen, prefix="opt")
    with st.form("opt_form", border=False):
        c1, c2 = st.columns(2)
        method = c1.selectbox("Method", METHODS, key="opt_method", format_func=METHOD_LABELS.get)
        metrics = list(METRIC_LABELS)
        metric = c2.selectbox(
            "Maximise",
            metrics,
            index=metrics.index("sharpe"),
            key="opt_objective",
            format_func=METRIC_LABELS.get,
        )
        c1, c2 = st.columns(2)
        max_dd = c1.number_input(
            "Max drawdown at least (%)",
            min_value=-100.0,
            max_value=0.0,
            value=-100.0,
            step=5.0,
            key="opt_max_dd",
            help="-100 means no limit",
        )
        min_trades = c2.number_input(
            "Min trades", min_value=0, value=0, step=1, key="opt_min_trades"
        )
        st.markdown("**Parameter ranges**")
        ranges = range_inputs(cls.Params, f"opt_{strategy}")
        c1, c2 = st.columns(2)
        trials = c1.number_input(
            "Trials", min_value=1, max_value=20_000, value=100, step=10, key="opt_trials"
        )
        seed = c2.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="opt_seed")
        wf = st.checkbox(
            "Walk-forward",
            key="opt_wf",
            help="optimise on each training window, score on the next test window",
        )
        c1, c2, c3 = st.columns(3)
        train = c1.number_input("Train bars", min_value=20, value=750, step=50, key="opt_wf_train")
        test = c2.number_input("Test bars", min_value=5, value=250, step=25, key="opt_wf_test")
        anchored = c3.checkbox("Anchored", key="opt_wf_anchored")
        scheduler = st.text_input(
            "Dask scheduler (optional)",
            key="opt_scheduler",
            placeholder="tcp://127.0.0.1:8786",
            help="empty: a local process pool; an address: evaluate on that Dask cluster",
        )
        execution, cash = _execution_inputs(prefix="opt")
        submitted = st.form_submit_button(
            "Start optimisation", type="primary", width="stretch", key="opt_submit"
        )
    if not submitted:
        return None
    try:
        config = BacktestConfig(
            strategy=strategy,
            symbols=tuple(chosen),
            start=start,
            end=end,
            cash=cash,
            execution=execution,
        )
        return make_request(
            config,
            method=method,
            metric=metric,
            constraints=constraints_from(max_dd, min_trades),
            ranges=ranges,
            trials=int(trials),
            seed=int(seed),
            scheduler=scheduler,
            walk_forward={"train": train, "test": test, "anchored": anchored} if wf else None,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        st.error(str(exc))
        return None


def allocation_form(ws: Workstation) -> dict[str, Any] | None:
    """Strategies, assets and the allocation's risk settings; a job request when started."""
    single = [n for n, cls in registry().items() if not cls.multi_asset]
    symbols = list(ws.market.symbols()["symbol"])
    with st.form("opt_alloc_form", border=False):
        strategies = st.multiselect(
            "Strategies",
            single,
            default=[n for n in ("sma_crossover", "donchian") if n in single],
            key="opt_alloc_strategies",
            format_func=lambda n: registry()[n].label or n,
        )
        chosen = st.multiselect(
            "Assets",
            symbols,
            default=[s for s in ("SPX", "XOM") if s in symbols],
            key="opt_alloc_symbols",
        )
        c1, c2 = st.columns(2)
        start = c1.date_input("From", value=date(2010, 1, 4), key="opt_alloc_start")
        end = c2.date_input("To", value=date(2018, 12, 31), key="opt_alloc_end")
        c1, c2, c3 = st.columns(3)
        trials = c1.number_input(
            "Trials per pair", min_value=1, max_value=2000, value=30, key="opt_alloc_trials"
        )
        risk = c2.number_input(
            "Risk aversion λ", min_value=0.0, value=1.0, step=0.5, key="opt_alloc_lambda"
        )
        diversity = c3.number_input(
            "Diversification δ", min_value=0.0, value=0.1, step=0.05, key="opt_alloc_delta"
        )
        train = st.slider("Share of bars to tune on", 0.3, 0.9, 0.7, 0.05, key="opt_alloc_train")
        submitted = st.form_submit_button("Optimise allocation", key="opt_alloc_submit")
    if not submitted:
        return None
    try:
        base = BacktestConfig(
            strategy=strategies[0] if strategies else "sma_crossover",
            symbols=tuple(chosen[:1]) or ("SPX",),
            start=start,
            end=end,
        )
        return make_allocation_request(
            base,
            strategies,
            chosen,
            trials=int(trials),
            train_fraction=float(train),
            risk_aversion=float(risk),
            diversification=float(diversity),
            scheduler=st.session_state.get("opt_scheduler"),
        )
    except ValueError as exc:
        st.error(str(exc))
        return None


def constraints_from(max_drawdown_pct: float, min_trades: int) -> dict[str, tuple[str, float]]:
    """The form's constraints: -100 % drawdown and 0 trades mean none."""
    constraints: dict[str, tuple[str, float]] = {}
    if max_drawdown_pct > -100:
        constraints["max_drawdown"] = (">=", max_drawdown_pct / 100)
    if min_trades > 0:
        constraints["n_trades"] = (">=", float(min_trades))
    return constraints


def default_range(spec: ParamSpec) -> tuple[float, float, float]:
    """A starting range around the default: half to twice it, about five values."""
    low, high = float(spec.low), float(spec.high)
    default = float(spec.default)
    lo, hi = max(low, default * 0.5), min(high, default * 2)
    if not lo < hi:
        lo, hi = low, high
    raw = (hi - lo) / 4
    if spec.kind == "int":
        step = max(int(spec.step or 1), round(raw))
        return int(lo), int(hi), int(step)
    base = spec.step or raw
    step = max(base, round(raw / base) * base) if base else raw
    return lo, hi, round(step, 10)


def range_inputs(params_model, key: str) -> dict[str, tuple[float, ...]]:
    """A range slider and a step per numeric parameter, "search both" for a bool."""
    ranges: dict[str, tuple[float, ...]] = {}
    for spec in param_space(params_model):
        label = spec.name.replace("_", " ")
        if spec.kind == "bool":
            both = st.checkbox(
                f"{label}: search both", value=True, key=f"{key}_{spec.name}", help=spec.description
            )
            value = float(bool(spec.default))
            ranges[spec.name] = (0.0, 1.0) if both else (value, value)
            continue
        if spec.kind in ("choice", "text"):
            st.caption(f"{label}: {'all choices searched' if spec.kind == 'choice' else 'fixed'}")
            continue
        if spec.low is None or spec.high is None:
            st.caption(f"{label}: fixed at {spec.default} (no declared bounds)")
            ranges[spec.name] = (float(spec.default), float(spec.default))
            continue
        lo, hi, step = default_range(spec)
        c1, c2 = st.columns([3, 1])
        if spec.kind == "int":
            chosen = c1.slider(
                label,
                min_value=int(spec.low),
                max_value=int(spec.high),
                value=(int(lo), int(hi)),
                step=int(spec.step or 1),
                key=f"{key}_{spec.name}",
                help=spec.description,
            )
            size = c2.number_input(
                "step", min_value=1, value=int(step), step=1, key=f"{key}_{spec.name}_step"
            )
        else:
            fine = float(spec.step or (spec.high - spec.low) / 100)
            chosen = c1.slider(
                label,
                min_value=float(spec.low),
                max_value=float(spec.high),
                value=(float(lo), float(hi)),
                step=fine,
                key=f"{key}_{spec.name}",
                help=spec.description,
            )
            size = c2.number_input(
                "step", min_value=fine, value=float(step), step=fine, key=f"{key}_{spec.name}_step"
            )
        ranges[spec.name] = (float(chosen[0]), float(chosen[1]), float(size))
    return ranges


# -- submitting --------------------------------------------------------------------------------
def launch(ws: Workstation, job_id: str) -> int:
    """Start the worker process for ``job_id`` (tests replace this to run in-process)."""
    return start_worker(job_id, ws.settings.database_url, log_dir=LOG_DIR)


def submit(ws: Workstation, request: dict[str, Any]) -> str | None:
    store = JobStore(ws.sessions)
    job_id = store.submit(request)
    try:
        pid = launch(ws, job_id)
    except OSError as exc:
        store.fail(job_id, f"could not start the worker: {exc}")
        st.error(f"Could not start the worker: {exc}")
        return job_id
    if pid:
        store.set_pid(job_id, pid)
    st.session_state[JOB] = job_id
    st.toast("Optimisation started")
    return job_id


# -- jobs --------------------------------------------------------------------------------------
def job_label(job: OptimizationJob) -> str:
    when = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else ""
    symbols = ",".join(job.request.get("config", {}).get("symbols", []))
    return f"{when} · {job.strategy} · {symbols} · {job.method}"


def jobs_table(jobs: list[OptimizationJob]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "created": j.created_at,
                "strategy": j.strategy,
                "method": j.method,
                "status": j.status,
                "progress": j.fraction,
                "best score": j.best_score,
                "id": j.id,
            }
            for j in jobs
        ]
    )


def job_picker(ws: Workstation) -> str | None:
    """The recent jobs and the one to show (the one just started, at first)."""
    jobs = JobStore(ws.sessions).list(20)
    if not jobs:
        st.info("Set the ranges, then **Start optimisation**. Jobs run in the background.")
        return None
    labels = {j.id: job_label(j) for j in jobs}
    if st.session_state.get(JOB) not in labels:
        st.session_state[JOB] = jobs[0].id
    job_id = st.selectbox("Job", list(labels), format_func=labels.get, key=JOB)
    with st.expander(f"Recent jobs ({len(jobs)})"):
        st.dataframe(
            jobs_table(jobs),
            hide_index=True,
            key="opt_jobs_table",
            column_config={"progress": st.column_config.ProgressColumn(min_value=0, max_value=1)},
        )
    return job_id


def refresh_interval(job: OptimizationJob | None, paused: bool) -> str | None:
    """How often the live panel refreshes: never when finished or paused."""
    if job is None or job.finished or paused:
        return None
    return REFRESH


def live_panel(ws: Workstation, job_id: str) -> OptimizationJob | None:
    """The job's status; refreshes itself while the job runs (unless paused)."""
    job = JobStore(ws.sessions).get(job_id)
    every = refresh_interval(job, st.session_state.get(PAUSED, False))
    st.fragment(run_every=every, key="opt_live")(_job_status)(ws, job_id, every is not None)
    return job


def _job_status(ws: Workstation, job_id: str, live: bool) -> None:
    store = JobStore(ws.sessions)
    job = store.get(job_id)
    if job is None:
        st.warning("This job no longer exists.")
        return
    if live and job.finished:
        st.rerun()  # the whole page: results appear and the timer stops
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.markdown(f"**Status:** {status_text(job)}")
    c2.metric("Best score", _num(job.best_score))
    c3.metric("Trials", f"{job.done}" + (f" / {job.total}" if job.total else ""))
    st.progress(job.fraction, text=progress_text(job))
    if job.best_params:
        st.caption("Best so far: " + params_text(job.best_params))
    if job.history:
        st.plotly_chart(convergence_figure(job.history), key="opt_convergence")
    if job.error:
        st.error(job.error)
    if not job.finished:
        st.button(
            "Cancel",
            key="opt_cancel",
            disabled=job.cancel_requested,
            icon=":material/stop:",
            on_click=store.request_cancel,
            args=(job_id,),
        )


def status_text(job: OptimizationJob) -> str:
    if job.status == "running" and job.cancel_requested:
        return "cancelling…"
    return job.status


def progress_text(job: OptimizationJob) -> str:
    if job.total:
        return f"{job.done} of {job.total} evaluations ({job.fraction:.0%})"
    return f"{job.done} evaluations"


def params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def convergence_figure(history: list[float | None]) -> go.Figure:
    """Best score so far per trial."""
    fig = go.Figure(
        go.Scattergl(
            x=list(range(1, len(history) + 1)),
            y=[math.nan if v is None else v for v in history],
            mode="lines",
            name="best so far",
        )
    )
    fig.update_layout(title="Convergence", xaxis_title="trial", yaxis_title="best score")
    return charts._layout(fig, 260)


def surface_figure(surface: dict[str, Any], metric: str) -> go.Figure:
    """Score over a two-parameter grid."""
    frame = pd.DataFrame(surface["points"], columns=[surface["x"], surface["y"], "score"])
    matrix = frame.pivot_table(
        index=surface["y"], columns=surface["x"], values="score", dropna=False
    )
    return charts.heatmap_figure(matrix, f"{metric} over the grid")


# -- results -----------------------------------------------------------------------------------
def result_panel(ws: Workstation, job: OptimizationJob) -> None:
    """Best parameters, metrics, the overfitting guard and the top trials of a finished job."""
    result = job.result or {}
    if result.get("allocation") and job.status != "failed":
        allocation_view(result)
        return
    if result.get("walk_forward") and job.status != "failed":
        walk_forward_view(result)
        return
    if job.status == "failed" or not result.get("best_params"):
        if job.status != "failed":
            st.info("The search ended without a feasible point.")
        return
    if job.status == "cancelled":
        st.warning("Cancelled: these are the best results found before the stop.")
    metric = job.request.get("objective", {}).get("metric", "score")
    best, metrics = st.columns([1, 1.4])
    with best:
        st.markdown("**Best parameters**")
        st.dataframe(
            pd.DataFrame(
                [{"parameter": k, "value": str(v)} for k, v in result["best_params"].items()]
            ),
            hide_index=True,
            key="opt_best_params",
        )
        dsr = result.get("deflated_sharpe")
        if dsr:
            st.metric(
                "Deflated Sharpe (P[true Sharpe > 0])",
                f"{dsr['dsr']:.1%}",
                help=f"Sharpe {dsr['sharpe']:.3f} vs. the best of {dsr['n_trials']} "
                f"luck-only trials {dsr['benchmark']:.3f}",
            )
        pbo = result.get("pbo")
        if pbo:
            st.metric(
                "Probability of backtest overfitting",
                f"{pbo['pbo']:.1%}",
                help=f"CSCV over the best {pbo['n_trials']} trials, {pbo['n_splits']} splits: how "
                "often the in-sample winner ranks below the median out of sample",
            )
        save_panel(ws, job)
    with metrics:
        if result.get("metrics"):
            st.dataframe(metrics_table(result["metrics"]), hide_index=True, key="opt_metrics_table")
    if result.get("surface"):
        st.plotly_chart(surface_figure(result["surface"], metric), key="opt_surface")
    if "acceptance_rate" in result:
        mcmc_view(result)
    if result.get("top_trials"):
        st.markdown("**Top trials**")
        st.dataframe(pd.DataFrame(result["top_trials"]), hide_index=True, key="opt_top_trials")


def mcmc_view(result: dict[str, Any]) -> None:
    """Acceptance, R-hat and credible intervals; trace plots and posterior histograms."""
    st.metric("Acceptance rate", f"{result['acceptance_rate']:.1%}")
    table = credible_table(result)
    if len(table):
        level = result.get("credible_level", 0.9)
        st.markdown(f"**Posterior: {level:.0%} credible intervals**")
        st.dataframe(table, hide_index=True, key="opt_mcmc_table")
    trace, histograms = result.get("trace"), result.get("histograms", {})
    for name in (trace or {}).get("chains", {}):
        left, right = st.columns(2)
        with left:
            figure = trace_figure(trace, name, result.get("burn_in", 0))
            st.plotly_chart(figure, key=f"opt_trace_{name}")
        with right:
            if name in histograms:
                figure = posterior_figure(histograms[name], name, result["credible_intervals"])
                st.plotly_chart(figure, key=f"opt_posterior_{name}")


def credible_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per parameter: mean, sd, credible interval, median, best and R-hat."""
    summary = result.get("posterior_summary")
    if summary:
        frame = pd.DataFrame(summary)
        columns = ["parameter", "mean", "sd", "lower", "median", "upper", "best", "rhat"]
        return frame[columns].rename(
            columns={"lower": "credible low", "upper": "credible high", "rhat": "R-hat"}
        )
    rows = [
        {
            "parameter": name,
            "R-hat": result.get("rhat", {}).get(name),
            "credible low": interval[0] if interval else None,
            "credible high": interval[-1] if interval else None,
        }
        for name, interval in result.get("credible_intervals", {}).items()
    ]
    return pd.DataFrame(rows)


def trace_figure(trace: dict[str, Any], name: str, burn_in: int) -> go.Figure:
    """Each chain's value of ``name`` per iteration; burn-in shaded."""
    fig = go.Figure()
    for c, values in enumerate(trace["chains"][name]):
        fig.add_trace(
            go.Scattergl(x=trace["iterations"], y=values, mode="lines", name=f"chain {c + 1}")
        )
    if burn_in:
        fig.add_vrect(x0=0, x1=burn_in, fillcolor="grey", opacity=0.15, line_width=0)
    fig.update_layout(title=f"Trace: {name}", xaxis_title="iteration", yaxis_title=name)
    return charts._layout(fig, 260)


def posterior_figure(
    histogram: dict[str, Any], name: str, intervals: dict[str, list[float]]
) -> go.Figure:
    """Posterior histogram of ``name`` per chain (kept draws), credible interval marked."""
    edges = histogram["edges"]
    centres = [(a + b) / 2 for a, b in pairwise(edges)]
    widths = [b - a for a, b in pairwise(edges)]
    fig = go.Figure(
        [
            go.Bar(x=centres, y=counts, width=widths, name=f"chain {c + 1}", opacity=0.6)
            for c, counts in enumerate(histogram["counts"])
        ]
    )
    interval = intervals.get(name)
    if interval:
        for bound in (interval[0], interval[-1]):
            fig.add_vline(x=bound, line_dash="dash", line_color="black")
    fig.update_layout(
        barmode="stack", title=f"Posterior: {name}", xaxis_title=name, yaxis_title="draws"
    )
    return charts._layout(fig, 260)


# -- allocation --------------------------------------------------------------------------------
def weights_matrix(result: dict[str, Any]) -> pd.DataFrame:
    """Weights as a strategies × assets table."""
    return pd.DataFrame(result.get("weights") or {}).T.fillna(0.0)


def allocation_view(result: dict[str, Any]) -> None:
    """The strategies × assets weights, the portfolio's figures and each stream."""
    if result.get("stopped"):
        st.warning("Cancelled: the allocation covers the pairs tuned before the stop.")
    if not result.get("weights"):
        st.info("No pair was tuned.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Expected return (annual)", f"{result['expected_return']:.2%}")
    c2.metric("Volatility (annual)", f"{result['volatility']:.2%}")
    c3.metric("Sharpe", _num(result.get("sharpe")))
    matrix = weights_matrix(result)
    st.plotly_chart(
        charts.heatmap_figure(matrix, "Weights: strategies × assets", fmt=".1%"),
        key="opt_alloc_weights",
    )
    streams = pd.DataFrame(
        [
            {
                "strategy": r["strategy"],
                "asset": r["symbol"],
                "weight": result["weights"][r["strategy"]][r["symbol"]],
                "params": params_text(r.get("params") or {}),
                "in-sample score": r.get("score"),
                "out-of-sample return": r.get("mean"),
                "out-of-sample volatility": r.get("volatility"),
            }
            for r in result.get("streams", [])
        ]
    )
    st.dataframe(streams, hide_index=True, key="opt_alloc_streams")


# -- walk-forward ------------------------------------------------------------------------------
def walk_forward_view(result: dict[str, Any]) -> None:
    """Stitched out-of-sample equity beside the in-sample curve, scores and params per window."""
    if result.get("stopped"):
        st.warning("Cancelled: the windows done before the stop.")
    oos = result.get("out_of_sample_metrics") or {}
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Windows", result.get("n_windows", 0))
    c2.metric("Walk-forward efficiency", _num(result.get("efficiency")))
    c3.metric("Mean in-sample score", _num(result.get("in_sample_mean_score")))
    c4.metric("Mean out-of-sample score", _num(result.get("out_of_sample_mean_score")))
    if result.get("equity"):
        st.plotly_chart(walk_forward_figure(result), key="opt_wf_equity")
    windows = window_table(result)
    if len(windows):
        st.plotly_chart(window_scores_figure(windows), key="opt_wf_scores")
        st.markdown("**Windows: parameters chosen in sample, scored out of sample**")
        st.dataframe(windows, hide_index=True, key="opt_wf_windows")
    if oos:
        st.markdown("**Stitched out-of-sample metrics**")
        st.dataframe(metrics_table(oos), hide_index=True, key="opt_wf_metrics")


def walk_forward_figure(result: dict[str, Any]) -> go.Figure:
    """Stitched out-of-sample equity and the in-sample (hindsight) equity, both from 1."""
    x = pd.to_datetime(result["dates"]) if result.get("dates") else None
    curves = {"out of sample (stitched)": result["equity"]}
    if result.get("in_sample_equity"):
        params = params_text(result.get("in_sample_params") or {})
        curves[f"in sample ({params})"] = result["in_sample_equity"]
    fig = go.Figure()
    for label, values in curves.items():
        y = [v / values[0] for v in values]
        fig.add_trace(go.Scattergl(x=x if x is not None else None, y=y, mode="lines", name=label))
    fig.update_layout(title="Walk-forward equity", yaxis_title="growth of 1")
    return charts._layout(fig, 320)


def window_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per window: bars, scores and the chosen parameters (one column each)."""
    rows = []
    for w in result.get("windows") or []:
        row = {k: w[k] for k in ("train_start", "train_stop", "test_start", "test_stop")}
        row.update({"in-sample score": w["in_sample"], "out-of-sample score": w["out_of_sample"]})
        row.update(w.get("params") or {})
        rows.append(row)
    return pd.DataFrame(rows)


def window_scores_figure(windows: pd.DataFrame) -> go.Figure:
    labels = [f"{a}–{b}" for a, b in zip(windows["test_start"], windows["test_stop"], strict=True)]
    fig = go.Figure(
        [
            go.Bar(x=labels, y=windows["in-sample score"], name="in sample"),
            go.Bar(x=labels, y=windows["out-of-sample score"], name="out of sample"),
        ]
    )
    fig.update_layout(barmode="group", title="Score per window", xaxis_title="test bars")
    return charts._layout(fig, 260)


def save_panel(ws: Workstation, job: OptimizationJob) -> None:
    result = job.result or {}
    default = f"{job.strategy} {datetime.now():%Y-%m-%d %H%M}"
    name = st.text_input("Configuration name", value=default, key="opt_save_name")
    if st.button("Save as strategy configuration", key="opt_save"):
        try:
            save_strategy_config(ws.sessions, name, job.strategy, result["best_params"])
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.success(f"Saved {name!r}")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
