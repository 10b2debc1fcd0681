"""Optimize page: the form from the params model, a job run, its live panel and results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from app import optimize_panels as panels
from app import optimize_params
from app import optimize_results as results
from core.optimize import OptimizationJob, run_job
from core.strategies import get_strategy, param_space
from tests.ui.plain_text import assert_literal


@pytest.fixture
def in_process(monkeypatch):
    """The worker start replaced by running the job in this process."""
    started = []

    def launch(ws, job_id):
        started.append(job_id)
        run_job(ws.jobs, job_id)
        return 0

    monkeypatch.setattr(panels, "launch", launch)
    return started


def _frame(at, column):
    """The table that has ``column`` (read-only dataframes cannot be found by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_form_has_ranges_from_the_params_model(app):
    at = app("optimize")
    assert not at.exception, at.exception
    assert at.selectbox(key="opt_strategy").value == "sma_crossover"
    specs = {s.name: s for s in param_space(get_strategy("sma_crossover").Params)}
    fast = at.slider(key="opt_sma_crossover_fast")
    assert fast.value == optimize_params.default_range(specs["fast"])[:2] == (5, 20)
    assert fast.min == 2 and fast.max == 200  # the declared bounds
    assert at.number_input(key="opt_sma_crossover_fast_step").value == 4
    assert at.checkbox(key="opt_sma_crossover_long_short").value  # search both
    assert at.selectbox(key="opt_method").value == "grid"
    assert any("Start optimisation" in i.value for i in at.info)


def test_start_runs_a_job_and_shows_the_best_params(app, in_process):
    at = app("optimize")
    at.date_input(key="opt_start").set_value(datetime(2010, 1, 4).date())
    at.slider(key="opt_sma_crossover_fast").set_value((5, 15))
    at.number_input(key="opt_sma_crossover_fast_step").set_value(5)
    at.slider(key="opt_sma_crossover_slow").set_value((30, 50))
    at.number_input(key="opt_sma_crossover_slow_step").set_value(10)
    at.checkbox(key="opt_sma_crossover_long_short").uncheck()
    at.button(key="opt_submit").click().run()
    assert not at.exception, at.exception
    assert len(in_process) == 1

    from app.services import workstation

    job = workstation().jobs.store.get(in_process[0])
    assert job.status == "done" and job.done == 9
    at.run()  # a later refresh reads the finished job
    assert not at.exception, at.exception
    assert "**Status:** done" in [m.value for m in at.markdown]
    best = _frame(at, "parameter")
    assert dict(zip(best["parameter"], best["value"], strict=True)) == {
        k: str(v) for k, v in job.best_params.items()
    }
    assert len(_frame(at, "trial")) == 9
    assert at.get("plotly_chart")  # convergence and the 3 x 3 heatmap
    assert not [b for b in at.button if b.key == "opt_cancel"]  # finished: nothing to cancel

    at.text_input(key="opt_save_name").set_value("SMA tuned")
    at.button(key="opt_save").click().run()
    assert [s.value for s in at.success] == ["Saved 'SMA tuned'"]


def test_a_fixed_parameter_keeps_one_value_and_is_not_searched(app, in_process):
    at = app("optimize")
    assert at.slider(key="opt_sma_crossover_fast")  # searched by default
    at.checkbox(key="opt_sma_crossover_fast_fix").check().run()
    assert not at.exception, at.exception
    assert not [s for s in at.slider if s.key == "opt_sma_crossover_fast"]  # no range now
    value = at.number_input(key="opt_sma_crossover_fast_value")
    assert value.value == 10  # the declared default
    value.set_value(12)
    at.date_input(key="opt_start").set_value(datetime(2010, 1, 4).date())
    at.slider(key="opt_sma_crossover_slow").set_value((30, 50))
    at.number_input(key="opt_sma_crossover_slow_step").set_value(10)
    at.checkbox(key="opt_sma_crossover_long_short").uncheck()
    at.button(key="opt_submit").click().run()
    assert not at.exception, at.exception

    from app.services import workstation

    job = workstation().jobs.get(in_process[0])
    assert job.request["fixed"] == {"fast": 12}
    assert "fast" not in job.request["ranges"]
    assert job.status == "done" and job.done == 3  # slow 30, 40, 50; fast held at 12
    assert job.result["searched"] == ["slow"]
    assert job.best_params["fast"] == 12


def test_a_running_job_refreshes_and_can_be_cancelled(app):
    from app.services import workstation
    from core.backtest import BacktestConfig
    from core.optimize import make_request

    at = app("optimize")
    ws = workstation()
    store = ws.jobs.store
    request = make_request(BacktestConfig(strategy="sma_crossover", symbols=("SPX",)))
    job_id = store.submit(request)
    store.start(job_id, pid=os.getpid())  # a live worker
    store.update_progress(job_id, 30, 100, 0.5, {"fast": 10, "slow": 50}, [0.1, 0.3, 0.5])
    at.run()
    assert at.selectbox(key=panels.JOB).value == job_id
    assert at.get("progress")[0].value == 30
    at.button(key="opt_cancel").click().run()
    assert not at.exception, at.exception
    assert store.get(job_id).cancel_requested
    assert "**Status:** cancelling…" in [m.value for m in at.markdown]


def _progress_texts(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def test_the_live_panel_counts_a_queued_grid_and_a_random_search_truly(app, monkeypatch):
    from app.services import workstation
    from core.backtest import BacktestConfig
    from core.optimize import make_request

    at = app("optimize")
    store = workstation().jobs.store
    config = BacktestConfig(strategy="sma_crossover", symbols=("SPX",))
    # 4 fast (5, 9, 13, 17) × 8 slow (30, 35, ... 65): a 32-point grid, every point feasible
    grid = {"fast": (5, 17, 4), "slow": (30, 65, 5), "long_short": (0, 0)}
    job_id = store.submit(make_request(config, method="grid", ranges=grid, trials=100))
    at.session_state[panels.JOB] = job_id
    at.run()
    assert not at.exception, at.exception
    assert _progress_texts(at) == ["0 of 32 evaluations (0%)"]  # queued: not "0 of 100"
    assert "0 / 32" in [m.value for m in at.metric]

    # 3 × 2 = 6 points drawn 50 times (seed 0 draws all six): the panel counts distinct ones
    small = {"fast": (5, 15, 5), "slow": (30, 40, 10), "long_short": (0, 0)}
    request = make_request(config, method="random", ranges=small, trials=50, seed=0)
    job_id = store.submit(request)
    store.start(job_id, pid=os.getpid())
    store.update_progress(job_id, 3, 6, 0.5, {"fast": 10, "slow": 30}, [[1, 0.1], [3, 0.5]])
    at.run()  # the new job is listed
    at.selectbox(key=panels.JOB).set_value(job_id).run()
    assert not at.exception, at.exception
    assert _progress_texts(at) == ["3 of 6 distinct points (50%); 44 of 50 draws were repeats"]


def _job(status, cancel=False, done=3, total=10):
    now = datetime(2026, 1, 1)
    return OptimizationJob(
        id="x",
        status=status,
        request={},
        created_at=now,
        updated_at=now,
        done=done,
        total=total,
        cancel_requested=cancel,
    )


def test_live_refresh_stops_when_finished_or_paused():
    assert panels.refresh_interval(_job("running"), paused=False) == panels.REFRESH
    assert panels.refresh_interval(_job("queued"), paused=False) == panels.REFRESH
    # queued for less than START_WINDOW seconds: polled fast until its worker claims it
    created = _job("queued").created_at
    soon, later = (created + timedelta(seconds=s) for s in (1, panels.START_WINDOW + 1))
    assert panels.refresh_interval(_job("queued"), paused=False, now=soon) == panels.FAST_REFRESH
    assert panels.refresh_interval(_job("running"), paused=False, now=soon) == panels.REFRESH
    assert panels.refresh_interval(_job("queued"), paused=False, now=later) == panels.REFRESH
    assert panels.refresh_interval(_job("running"), paused=True) is None
    for status in ("done", "failed", "cancelled"):
        assert panels.refresh_interval(_job(status), paused=False) is None
    assert panels.refresh_interval(None, paused=False) is None


def test_status_progress_and_constraints_texts():
    assert panels.status_text(_job("running", cancel=True)) == "cancelling…"
    assert panels.progress_text(_job("running")) == "3 of 10 evaluations (30%)"
    assert panels.progress_text(_job("running", total=None)) == "3 evaluations"
    assert panels.constraints_from(-100, 0) == {}
    assert panels.constraints_from(-20, 5) == {
        "max_drawdown": (">=", -0.2),
        "n_trades": (">=", 5.0),
    }
    figure = panels.convergence_figure([None, 0.1, 0.4])  # a job stored before [trial, best]
    assert list(figure.data[0].y)[1:] == [0.1, 0.4]
    figure = panels.convergence_figure([[1, None], [700, 0.1], [1372, 0.4]])  # thinned
    assert list(figure.data[0].x) == [1, 700, 1372] and list(figure.data[0].y)[1:] == [0.1, 0.4]
    surface = {"x": "fast", "y": "slow", "points": [[5, 30, 0.1], [10, 30, 0.2], [5, 40, None]]}
    heat = panels.surface_figure(surface, "sharpe")
    assert heat.data[0].z.shape == (2, 2)


def test_heatmap_axes_are_titled_and_ticked_at_the_grid_values():
    # a grid of fast 5, 9, 13 and slow 30, 45: plotly's automatic ticks would read 4, 6, 8...
    points = [[f, s, 0.01 * f + 0.001 * s] for f in (5, 9, 13) for s in (30, 45)]
    heat = panels.surface_figure({"x": "fast", "y": "slow", "points": points}, "sharpe")
    layout = heat.layout
    assert layout.xaxis.title.text == "fast" and layout.yaxis.title.text == "slow"
    assert list(layout.xaxis.tickvals) == [5, 9, 13] and list(layout.xaxis.ticktext) == [
        "5",
        "9",
        "13",
    ]
    assert list(layout.yaxis.tickvals) == [30, 45]
    assert heat.data[0].z[1][2] == pytest.approx(0.01 * 13 + 0.001 * 45)  # row slow=45, col 13
    assert "fast %{x}" in heat.data[0].hovertemplate and "sharpe" in heat.data[0].hovertemplate


def test_a_grid_without_a_heatmap_says_why():
    from app.optimize_results import no_surface_reason

    reason = no_surface_reason({"searched": ["fast", "slow", "long_short"]})
    assert "3 parameters (fast, slow, long_short)" in reason and "exactly two" in reason
    assert "too many points" in no_surface_reason({"searched": ["fast", "slow"]})


def _titles(at) -> list[str]:
    """The titles of the page's plotly charts."""
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def _narrow_grid(at, start=(2010, 1, 4)):
    at.date_input(key="opt_start").set_value(datetime(*start).date())
    at.slider(key="opt_sma_crossover_fast").set_value((5, 15))
    at.number_input(key="opt_sma_crossover_fast_step").set_value(5)
    at.slider(key="opt_sma_crossover_slow").set_value((30, 50))
    at.number_input(key="opt_sma_crossover_slow_step").set_value(10)
    at.checkbox(key="opt_sma_crossover_long_short").uncheck()


def test_an_mcmc_job_shows_traces_posteriors_and_credible_intervals(app, in_process):
    at = app("optimize")
    _narrow_grid(at)
    at.selectbox(key="opt_method").set_value("mcmc")
    at.number_input(key="opt_trials").set_value(120)
    at.button(key="opt_submit").click().run()
    assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception

    from app.services import workstation

    result = workstation().jobs.store.get(in_process[0]).result
    titles = _titles(at)
    for name in ("fast", "slow"):
        assert f"Trace: {name}" in titles and f"Posterior: {name}" in titles
    table = _frame(at, "credible low")
    bounds = zip(table["credible low"], table["credible high"], strict=True)
    shown = dict(zip(table["parameter"], bounds, strict=True))
    assert shown == {k: tuple(v) for k, v in result["credible_intervals"].items()}
    assert set(shown) == {"fast", "slow"}
    histogram = result["histograms"]["fast"]
    n_kept = 30 - result["burn_in"]  # 120 trials = 4 chains × 30 iterations
    assert [sum(c) for c in histogram["counts"]] == [n_kept] * 4
    assert len(result["trace"]["chains"]["slow"]) == 4


def test_a_walk_forward_job_shows_stitched_equity_and_windows(app, in_process):
    at = app("optimize")
    _narrow_grid(at, start=(2005, 1, 3))
    at.checkbox(key="opt_wf").check()
    at.number_input(key="opt_wf_train").set_value(500)
    at.number_input(key="opt_wf_test").set_value(250)
    at.button(key="opt_submit").click().run()
    at.run()
    assert not at.exception, at.exception

    from app.services import workstation

    job = workstation().jobs.store.get(in_process[0])
    assert job.status == "done" and job.request["walk_forward"]["train"] == 500
    assert "Walk-forward equity" in _titles(at) and "Score per window" in _titles(at)
    windows = _frame(at, "out-of-sample score")
    assert len(windows) == job.result["n_windows"] >= 4
    assert list(windows["fast"]) == [w["params"]["fast"] for w in job.result["windows"]]
    assert list(windows["test_start"][:2]) == [500, 750]


LISTED = "tcp://127.0.0.1:8786"


def test_the_page_offers_only_the_local_pool_by_default(app):
    at = app("optimize")
    assert at.selectbox(key="opt_scheduler").options == ["local process pool"]
    assert not [t for t in at.text_input if t.key == "opt_scheduler"]  # no free-text address


def test_the_page_offers_only_the_schedulers_listed_in_the_settings(app, monkeypatch):
    """A Dask scheduler exchanges pickled code: the browser picks among trusted ones only."""
    monkeypatch.setenv("WORKSTATION_DASK_SCHEDULERS", json.dumps([LISTED]))
    monkeypatch.setattr(panels, "launch", lambda ws, job_id: 0)
    monkeypatch.setattr(panels, "START_WAIT", 0.1)  # no worker comes: Start stops waiting
    at = app("optimize")
    picker = at.selectbox(key="opt_scheduler")
    assert picker.options == ["local process pool", f"Dask at {LISTED}"]
    picker.set_value(LISTED)
    at.button(key="opt_submit").click().run()
    assert not at.exception, at.exception

    from app.services import workstation

    job = workstation().jobs.store.list()[0]
    assert job.request["scheduler"] == LISTED


def test_an_unlisted_scheduler_is_refused(monkeypatch):
    from core.config import Settings
    from core.errors import WorkstationError

    class Listed:
        settings = Settings(dask_schedulers=[LISTED])

    assert panels.allowed_scheduler(Listed, "") is None  # the local pool
    assert panels.allowed_scheduler(Listed, LISTED) == LISTED
    with pytest.raises(WorkstationError, match="not among the schedulers listed"):
        panels.allowed_scheduler(Listed, "tcp://scheduler.invalid:8786")


def test_a_job_whose_worker_died_shows_failed_not_running(app):
    from app.services import workstation
    from core.backtest import BacktestConfig
    from core.optimize import make_request

    at = app("optimize")
    store = workstation().jobs.store
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    job_id = store.submit(make_request(BacktestConfig(strategy="sma_crossover", symbols=("SPX",))))
    store.start(job_id, pid=child.pid)
    at.run()
    assert not at.exception, at.exception
    assert "**Status:** failed" in [m.value for m in at.markdown]
    (error,) = at.error
    assert_literal(error.value, f"worker died: process {child.pid} is gone")
    assert not [b for b in at.button if b.key == "opt_cancel"]


def test_posterior_and_trace_figures():
    histogram = {"edges": [4.5, 5.5, 6.5], "counts": [[3, 1], [0, 4]]}
    fig = results.posterior_figure(histogram, "fast", {"fast": [5, 6]})
    assert [list(t.x) for t in fig.data] == [[5.0, 6.0], [5.0, 6.0]]
    assert [list(t.y) for t in fig.data] == [[3, 1], [0, 4]]
    assert [s.x0 for s in fig.layout.shapes] == [5, 6]
    trace = {"iterations": [0, 2, 4], "chains": {"fast": [[5, 6, 6], [7, 7, 6]]}}
    fig = results.trace_figure(trace, "fast", burn_in=2)
    assert len(fig.data) == 2 and list(fig.data[1].y) == [7, 7, 6]
    assert fig.layout.shapes[0].x1 == 2


def test_an_allocation_job_shows_the_strategies_by_assets_weights(app, in_process):
    at = app("optimize")
    assert at.multiselect(key="opt_alloc_strategies").value == ["sma_crossover", "donchian"]
    at.multiselect(key="opt_alloc_symbols").set_value(["SPX", "XOM"])
    at.number_input(key="opt_alloc_trials").set_value(5)
    at.date_input(key="opt_alloc_start").set_value(datetime(2012, 1, 3).date())
    at.button(key="opt_alloc_submit").click().run()
    assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception

    from app.services import workstation

    job = workstation().jobs.store.get(in_process[-1])
    assert job.status == "done" and job.method == "allocation"
    result = job.result
    assert "Weights: strategies × assets" in _titles(at)
    streams = _frame(at, "out-of-sample volatility")
    shown = {(r.strategy, r.asset): r.weight / 100 for r in streams.itertuples()}  # percent
    stored = {(s, a): w for s, row in result["weights"].items() for a, w in row.items()}
    # the table shows a weight within 1e-9 of zero as 0 (app.format.tidy)
    assert shown == pytest.approx(stored, abs=1e-9) and len(shown) == 4
    assert sum(shown.values()) == pytest.approx(1.0)
    matrix = results.weights_matrix(result)
    assert matrix.shape == (2, 2) and matrix.loc["donchian", "XOM"] == stored[("donchian", "XOM")]
