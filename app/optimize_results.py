"""Optimize page results: the overfitting report, the best parameters' backtest, MCMC
traces and posteriors, walk-forward and allocation views, and saving the chosen parameters."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import charts, widgets
from app import format as fmt
from app.backtest_panels import metrics_table
from app.optimize_panels import _num, params_text, surface_figure
from core.errors import REFUSALS
from core.optimize import OptimizationJob
from core.strategies import save_strategy_config
from core.workstation import Workstation


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
        fmt.dataframe(
            pd.DataFrame(
                [{"parameter": k, "value": fmt.param(v)} for k, v in result["best_params"].items()]
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
            fmt.dataframe(
                metrics_table(result["metrics"]),
                hide_index=True,
                height="content",
                key="opt_metrics_table",
            )
    surface_view(job, result, metric)
    if "acceptance_rate" in result:
        mcmc_view(result)
    if result.get("top_trials"):
        st.markdown("**Top trials**")
        fmt.dataframe(pd.DataFrame(result["top_trials"]), hide_index=True, key="opt_top_trials")


def surface_view(job: OptimizationJob, result: dict[str, Any], metric: str) -> None:
    """A grid's score heatmap, or why there is none."""
    if result.get("surface"):
        st.plotly_chart(surface_figure(result["surface"], metric), key="opt_surface")
    elif job.request.get("method") == "grid":
        st.caption(no_surface_reason(result))


def no_surface_reason(result: dict[str, Any]) -> str:
    """Why a finished grid search shows no heatmap of its score."""
    searched = [str(name) for name in result.get("searched") or []]
    if len(searched) != 2:
        names = ", ".join(searched) or "none"
        return (
            f"No heatmap: the grid searched {len(searched)} parameters ({names}); a heatmap "
            'needs exactly two. Fix the others (or untick a bool\'s "search both") to see one.'
        )
    return "No heatmap: the grid has too many points to draw one."


def mcmc_view(result: dict[str, Any]) -> None:
    """Acceptance, R-hat and credible intervals; trace plots and posterior histograms."""
    st.metric("Acceptance rate", f"{result['acceptance_rate']:.1%}")
    table = credible_table(result)
    if len(table):
        level = result.get("credible_level", 0.9)
        st.markdown(f"**Posterior: {level:.0%} credible intervals**")
        fmt.dataframe(table, hide_index=True, key="opt_mcmc_table")
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
    fmt.dataframe(streams, hide_index=True, key="opt_alloc_streams")


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
        fmt.dataframe(windows, hide_index=True, key="opt_wf_windows")
    if oos:
        st.markdown("**Stitched out-of-sample metrics**")
        fmt.dataframe(metrics_table(oos), hide_index=True, key="opt_wf_metrics")


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
        except REFUSALS as exc:
            widgets.show_error(exc)
        else:
            st.success(widgets.plain(f"Saved {name!r}"))
