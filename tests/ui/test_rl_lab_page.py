"""The RL lab page: a finished training's comparison, curves and weights; a refused request."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from core.tasks import TaskStatus
from core.workstation import Workstation

REQUEST = {
    "symbols": ["AAPL", "KO", "XOM"],
    "train_start": "2014-01-01",
    "train_end": "2015-12-31",
    "test_end": "2016-06-30",
    "timesteps": 64,
    "seed": 0,
    "env": {"episode_steps": 10},
    "ppo": {"n_steps": 32, "n_envs": 2, "batch_size": 32, "n_epochs": 1, "net_width": 8},
}


@pytest.fixture
def trained():
    """A tiny PPO trained in this process, as a finished rl_train task in the app's database."""
    ws = Workstation.open(os.environ["WORKSTATION_DATABASE_URL"])
    task_id = ws.tasks.submit("rl_train", REQUEST | {"walk_forward": 2})
    assert ws.tasks.run(task_id) is TaskStatus.DONE
    task = ws.tasks.get(task_id)
    ws.close()
    return task


def test_the_page_shows_the_out_of_sample_comparison(app, trained):
    at = app("rl_lab")
    assert not at.exception, at.exception
    result = trained.result
    text = " ".join(m.value for m in at.markdown)
    assert result["model_id"] in text
    table = at.dataframe[0].value  # the test table (the training one is below it)
    assert list(table["policy"]) == [
        "PPO", "Equal weight", "Minimum variance", "Maximum Sharpe", "Buy and hold",
    ]  # fmt: skip
    assert table.loc[1, "Sharpe"] == f"{result['test']['equal_weight']['sharpe']:.2f}"
    assert table.loc[4, "Total return"] == f"{result['test']['buy_hold']['total_return']:.2%}"
    charts = {
        c.proto.spec and json.loads(c.proto.spec)["layout"]["title"]["text"]
        for c in at.get("plotly_chart")
    }
    assert {
        "Learning curve",
        "Equity (test, starting at 1)",
        "PPO weights over time (test)",
    } <= charts
    caption = " ".join(c.value for c in at.caption).replace("\\", "")  # Markdown escapes
    dsr = result["deflated_sharpe"]["dsr"]
    assert f"Deflated Sharpe of PPO over 1 configuration(s) tried: {dsr:.2f}" in caption
    assert "Stop" not in [b.label for b in at.button]  # finished: nothing to stop


def test_a_refused_request_shows_why_and_queues_nothing(app, trained):
    at = app("rl_lab")
    at.multiselect(key="rl_symbols").set_value(["AAPL", "KO"])
    at.date_input(key="rl_train_end").set_value("2022-12-27")  # no test span left
    at.button(key="rl_submit").click().run()
    assert not at.exception, at.exception
    assert any("test span" in e.value for e in at.error)
    assert len(at.selectbox(key="rl_task").options) == 1  # only the trained one


def test_the_q_learning_tab_shows_its_panel_or_says_it_is_missing(app):
    at = app("rl_lab")
    assert not at.exception, at.exception
    missing = "The Q-learning allocator is not available in this build."
    shown = [i.value for i in at.info]
    if importlib.util.find_spec("app.rl_qlearning_panels") is None:
        assert missing in shown
    else:
        assert missing not in shown


def test_stop_asks_a_running_training_to_cancel(app):
    ws = Workstation.open(os.environ["WORKSTATION_DATABASE_URL"])
    task_id = ws.tasks.submit("rl_train", REQUEST)  # queued: no worker in this test
    at = app("rl_lab")
    assert not at.exception, at.exception
    assert any("queued" in m.value for m in at.markdown)
    at.button(key="rl_stop").click().run()
    assert not at.exception, at.exception
    assert ws.tasks.get(task_id).cancel_requested
    ws.close()
