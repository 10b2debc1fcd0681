"""Optimize page: the form from the params model, a job run, its live panel and results."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import optimize_panels as panels
from core.optimize import OptimizationJob, run_job
from core.strategies import get_strategy, param_space


@pytest.fixture
def in_process(monkeypatch):
    """The worker start replaced by running the job in this process."""
    started = []

    def launch(ws, job_id):
        started.append(job_id)
        run_job(ws, job_id)
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
    assert fast.value == panels.default_range(specs["fast"])[:2] == (5, 20)
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

    job = panels.JobStore(workstation().sessions).get(in_process[0])
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


def test_a_running_job_refreshes_and_can_be_cancelled(app):
    from app.services import workstation
    from core.backtest import BacktestConfig
    from core.optimize import make_request

    at = app("optimize")
    ws = workstation()
    store = panels.JobStore(ws.sessions)
    request = make_request(BacktestConfig(strategy="sma_crossover", symbols=("SPX",)))
    job_id = store.submit(request)
    store.start(job_id, pid=123)
    store.update_progress(job_id, 30, 100, 0.5, {"fast": 10, "slow": 50}, [0.1, 0.3, 0.5])
    at.run()
    assert at.selectbox(key=panels.JOB).value == job_id
    assert at.get("progress")[0].value == 30
    at.button(key="opt_cancel").click().run()
    assert not at.exception, at.exception
    assert store.get(job_id).cancel_requested
    assert "**Status:** cancelling…" in [m.value for m in at.markdown]


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
    figure = panels.convergence_figure([None, 0.1, 0.4])
    assert list(figure.data[0].y)[1:] == [0.1, 0.4]
    surface = {"x": "fast", "y": "slow", "points": [[5, 30, 0.1], [10, 30, 0.2], [5, 40, None]]}
    heat = panels.surface_figure(surface, "sharpe")
    assert heat.data[0].z.shape == (2, 2)
