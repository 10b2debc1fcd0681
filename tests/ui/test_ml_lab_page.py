"""The ML lab page: a finished training task's results, the saved model's card and charts."""

from __future__ import annotations

import pytest

from core.workstation import Workstation
from tests.ml.conftest import TINY


def _trained(tmp_path) -> tuple[str, dict]:
    """A tiny training run in this process as a task on the app's database."""
    ws = Workstation.open(f"sqlite:///{tmp_path}/app.db", seed_demo=False)
    try:
        task = ws.tasks.submit("ml_train", {**TINY, "canaries": True})
        ws.tasks.run(task)
        return task, ws.tasks.get(task).result
    finally:
        ws.close()


@pytest.mark.slow
def test_a_finished_task_shows_its_ics_benchmarks_canaries_and_charts(app, tmp_path):
    task, report = _trained(tmp_path)
    at = app("ml_lab")
    at.session_state["ml_task"] = task
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rank IC"] == f"{report['rank_ic']:.4f}"
    assert metrics["Rank IC t (NW)"] == f"{report['rank_ic_tstat']:.2f}"
    assert metrics["Top-N total return"] == f"{report['top_n']['total_return']:.1%}"
    assert metrics["Equal weight"] == f"{report['benchmark']['total_return']:.1%}"
    canaries = next(d.value for d in at.dataframe if "canary" in d.value.columns)
    assert list(canaries["canary"]) == ["shuffled_labels", "causality", "planted"]
    assert canaries["passed"].all()
    assert (
        len(at.get("plotly_chart")) >= 5
    )  # IC, histogram, quantiles, equity, importance (x2 tabs)


def test_the_saved_models_tab_lists_the_model_and_backtests_with_it(app, tmp_path):
    _, report = _trained(tmp_path)
    at = app("ml_lab")
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "folds" in d.value.columns)
    assert list(table["model_id"]) == [report["model_id"]]
    assert at.selectbox(key="ml_model_pick").value == report["model_id"]
    at.button(key="ml_saved_backtest").click().run()
    assert not at.exception, at.exception
    assert at.session_state["bt_strategy"] == "ml_selection"
    assert at.session_state["bt_ml_selection_model_id"] == report["model_id"]


@pytest.mark.slow
def test_start_trains_in_a_worker_and_the_page_shows_the_result(app, tmp_path):
    import time
    from datetime import date

    at = app("ml_lab")
    at.multiselect(key="ml_symbols").set_value(["AAPL", "MSFT", "JPM", "KO", "PG", "XOM"])
    at.date_input(key="ml_start").set_value(date(2000, 1, 1))
    at.date_input(key="ml_end").set_value(date(2003, 6, 30))
    at.number_input(key="ml_train").set_value(252)
    at.number_input(key="ml_test").set_value(126)
    at.text_input(key="ml_feat_windows").set_value("5,20")
    at.number_input(key="ml_xgb_n_estimators").set_value(10)
    at.button(key="ml_start_btn").click().run()
    assert not at.exception, at.exception
    task = at.session_state["ml_task"]
    ws = Workstation.open(f"sqlite:///{tmp_path}/app.db", seed_demo=False)
    try:
        deadline = time.monotonic() + 180
        while not (snap := ws.tasks.get(task)).finished and time.monotonic() < deadline:
            time.sleep(0.5)
        assert snap.result and snap.result["model_id"], snap.error
        assert snap.request["train"] == 252 and snap.request["features"]["windows"] == "5,20"
    finally:
        ws.close()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rank IC"] == f"{snap.result['rank_ic']:.4f}"
