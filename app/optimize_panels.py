"""Optimize page panels: the job form (its parameter inputs in app/optimize_params.py), the job
list and the live job panel. The search itself runs in a worker process; these only submit
jobs, read snapshots and write the cancel command."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts, widgets
from app import format as fmt
from app.backtest_panels import METRIC_LABELS, _date_range, _execution_inputs
from app.optimize_params import fix_inputs, range_inputs
from core.backtest import BacktestConfig
from core.config import DATA_DIR
from core.errors import REFUSALS, WorkstationError
from core.optimize import METHODS, OptimizationJob, make_allocation_request, make_request
from core.strategies import get_strategy, registry
from core.workstation import Workstation

JOB = "opt_job"
PAUSED = "opt_paused"
REFRESH = "2s"
# a job queued less than START_WINDOW seconds ago is polled every FAST_REFRESH: its status
# leaves "queued" on the page as soon as its worker claims it
FAST_REFRESH = "0.25s"
START_WINDOW = 20.0
START_WAIT = 3.0  # seconds Start waits for the worker to take its job (then: fast polling)
METHOD_LABELS = {
    "grid": "Grid",
    "random": "Random",
    "mcmc": "MCMC (Metropolis–Hastings)",
    "de": "Differential evolution",
    "bayes": "Bayesian (Optuna TPE)",
}
LOG_DIR = DATA_DIR / "logs"
LOCAL_POOL = ""


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
    pinned = fix_inputs(cls.Params, f"opt_{strategy}")
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
        ranges, fixed = range_inputs(cls.Params, f"opt_{strategy}", pinned)
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
        c1, c2 = st.columns(2)  # three abreast cut "Anchored" to "An…"
        train = c1.number_input("Train bars", min_value=20, value=750, step=50, key="opt_wf_train")
        test = c2.number_input("Test bars", min_value=5, value=250, step=25, key="opt_wf_test")
        anchored = st.checkbox(
            "Anchored", key="opt_wf_anchored", help="training windows all start at the first bar"
        )
        scheduler = scheduler_input(ws)
        execution, cash = _execution_inputs(prefix="opt")
        submitted = st.form_submit_button(
            "Start optimisation", type="primary", width="stretch", key="opt_submit"
        )
    if not submitted or execution is None:
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
            scheduler=allowed_scheduler(ws, scheduler),
            walk_forward={"train": train, "test": test, "anchored": anchored} if wf else None,
            fixed=fixed,
        )
    except REFUSALS as exc:
        widgets.show_error(exc)
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
        start = st.date_input("From", value=date(2010, 1, 4), key="opt_alloc_start")
        end = st.date_input("To", value=date(2018, 12, 31), key="opt_alloc_end")
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
            scheduler=allowed_scheduler(ws, st.session_state.get("opt_scheduler")),
        )
    except REFUSALS as exc:
        widgets.show_error(exc)
        return None


def scheduler_input(ws: Workstation) -> str:
    """Where the trials run: a local process pool, or one of the Dask schedulers listed in the
    settings (``WORKSTATION_DASK_SCHEDULERS``). No free-text address: a scheduler exchanges
    pickled code with this process, so the browser may only pick a trusted one."""
    return st.selectbox(
        "Evaluate on",
        [LOCAL_POOL, *ws.settings.dask_schedulers],
        format_func=lambda a: "local process pool" if a == LOCAL_POOL else f"Dask at {a}",
        key="opt_scheduler",
        help="more schedulers: list them in WORKSTATION_DASK_SCHEDULERS (a JSON list)",
    )


def allowed_scheduler(ws: Workstation, address: str | None) -> str | None:
    """``address`` if the settings list it (None for the local pool); refused otherwise."""
    if not address:
        return None
    if address not in ws.settings.dask_schedulers:
        raise WorkstationError(
            f"scheduler: {address!r} is not among the schedulers listed in "
            "WORKSTATION_DASK_SCHEDULERS"
        )
    return address


def constraints_from(max_drawdown_pct: float, min_trades: int) -> dict[str, tuple[str, float]]:
    """The form's constraints: -100 % drawdown and 0 trades mean none."""
    constraints: dict[str, tuple[str, float]] = {}
    if max_drawdown_pct > -100:
        constraints["max_drawdown"] = (">=", max_drawdown_pct / 100)
    if min_trades > 0:
        constraints["n_trades"] = (">=", float(min_trades))
    return constraints


# -- submitting --------------------------------------------------------------------------------
def launch(ws: Workstation, job_id: str) -> int:
    """Start the worker process for ``job_id`` (tests replace this to run in-process)."""
    return ws.jobs.start_worker(job_id, log_dir=LOG_DIR)


def submit(ws: Workstation, request: dict[str, Any]) -> str | None:
    store = ws.jobs.store
    job_id = store.submit(request)
    try:
        pid = launch(ws, job_id)
    except OSError as exc:
        store.fail(job_id, f"could not start the worker: {exc}")
        st.error(widgets.plain(f"Could not start the worker: {exc}"))
        return job_id
    if pid:
        store.set_pid(job_id, pid)
    with st.spinner("Starting the worker…"):  # the page that follows shows it running
        ws.jobs.wait_for_worker(job_id, timeout=START_WAIT)
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
    jobs = ws.jobs.list(20)
    if not jobs:
        st.info("Set the ranges, then **Start optimisation**. Jobs run in the background.")
        return None
    labels = {j.id: job_label(j) for j in jobs}
    if st.session_state.get(JOB) not in labels:
        st.session_state[JOB] = jobs[0].id
    job_id = st.selectbox("Job", list(labels), format_func=labels.get, key=JOB)
    recent = st.expander(f"Recent jobs ({len(jobs)})", key="opt_recent", on_change="rerun")
    with recent:
        if recent.open:  # drawn only when looked at
            fmt.dataframe(
                jobs_table(jobs),
                hide_index=True,
                key="opt_jobs_table",
                column_config={
                    "progress": st.column_config.ProgressColumn(min_value=0, max_value=1)
                },
            )
    return job_id


def refresh_interval(
    job: OptimizationJob | None, paused: bool, now: datetime | None = None
) -> str | None:
    """How often the live panel refreshes: never when finished or paused; fast while a job
    just submitted waits for its worker."""
    if job is None or job.finished or paused:
        return None
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if job.status == "queued" and (now - job.created_at).total_seconds() < START_WINDOW:
        return FAST_REFRESH
    return REFRESH


def live_panel(ws: Workstation, job_id: str) -> OptimizationJob | None:
    """The job's status; refreshes itself while the job runs (unless paused)."""
    job = ws.jobs.get(job_id)
    every = refresh_interval(job, st.session_state.get(PAUSED, False))
    st.fragment(run_every=every, key="opt_live")(_job_status)(
        ws, job_id, every is not None, every == FAST_REFRESH
    )
    return job


@widgets.guarded  # a fragment's own reruns happen outside the page's guard
def _job_status(ws: Workstation, job_id: str, live: bool, fast: bool = False) -> None:
    store = ws.jobs
    job = store.get(job_id)
    if job is None:
        st.warning("This job no longer exists.")
        return
    if live and job.finished:
        st.rerun()  # the whole page: results appear and the timer stops
    if fast and job.status != "queued":
        st.rerun()  # the worker has it: back to the normal interval
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.markdown(f"**Status:** {status_text(job)}")
    c2.metric("Best score", _num(job.best_score))
    c3.metric("Done", f"{job.done:,}" + (f" / {job.total:,}" if job.total else ""))
    st.progress(job.fraction, text=progress_text(job))
    if job.best_params:
        st.caption(widgets.plain("Best so far: " + params_text(job.best_params)))
    if job.history:
        st.plotly_chart(convergence_figure(job.history), key="opt_convergence")
    if job.error:
        st.error(widgets.plain(job.error))
    if not job.finished:
        st.button(
            "Cancel",
            key="opt_cancel",
            disabled=job.cancel_requested,
            icon=":material/stop:",
            on_click=widgets.guarded(store.request_cancel),
            args=(job_id,),
        )


def status_text(job: OptimizationJob) -> str:
    if job.status == "running" and job.cancel_requested:
        return "cancelling…"
    return job.status


def progress_text(job: OptimizationJob) -> str:
    return job.progress_text


def params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={fmt.param(v)}" for k, v in params.items())


def convergence_figure(history: list[Any]) -> go.Figure:
    """Best score so far per trial: ``[trial, best]`` pairs (or, in old jobs, bare scores)."""
    pairs = [v if isinstance(v, (list, tuple)) else [i, v] for i, v in enumerate(history, 1)]
    fig = go.Figure(
        go.Scattergl(
            x=[t for t, _ in pairs],
            y=[math.nan if v is None else v for _, v in pairs],
            mode="lines",
            name="best so far",
        )
    )
    fig.update_layout(
        title="Convergence", xaxis_title="trial", yaxis_title="best score", uirevision="convergence"
    )
    return charts._layout(fig, 260)


def surface_figure(surface: dict[str, Any], metric: str) -> go.Figure:
    """Score over a two-parameter grid."""
    frame = pd.DataFrame(surface["points"], columns=[surface["x"], surface["y"], "score"])
    matrix = frame.pivot_table(
        index=surface["y"], columns=surface["x"], values="score", dropna=False
    )
    return charts.heatmap_figure(
        matrix,
        f"{metric} over the grid",
        x_title=surface["x"],
        y_title=surface["y"],
        z_title=metric,
    )


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
