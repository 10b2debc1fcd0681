"""The RL lab's Q-learning tab (``app/rl_qlearning_panels.render_qlearning``), through AppTest.

The RL lab page belongs to the PPO side; this test runs the tab alone in a one-line page.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def qlearning_page():
    from app import rl_qlearning_panels
    from app.services import workstation

    rl_qlearning_panels.launch = lambda ws, task_id: ws.tasks.run(task_id)  # no worker process
    rl_qlearning_panels.render_qlearning(workstation())


@pytest.mark.slow
def test_train_from_the_tab_then_see_the_comparison_policy_and_q_table():
    at = AppTest.from_function(qlearning_page, default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("Train" in i.value for i in at.info)  # nothing trained yet
    assert at.multiselect(key="ql_strategies").value == ["sma_crossover", "rsi_reversal"]
    at.number_input(key="ql_episodes").set_value(10)
    at.text_input(key="ql_train_end").set_value("2012-12-31")
    at.text_input(key="ql_params").set_value('{"sma_crossover": {"fast": 20, "slow": 100}}')
    at.button(key="ql_train").click().run()
    assert not at.exception, at.exception

    assert [m.value for m in at.markdown] == ["**Training:** done"]
    oos, policy = (d.value for d in at.dataframe)  # the comparison, then the policy
    assert list(oos.index) == ["q_weights", "equal_weight", "rsi_reversal", "sma_crossover"]
    assert list(oos.columns) == [
        "Return",
        "CAGR",
        "Sharpe",
        "Volatility",
        "Max drawdown",
        "Turnover (×/yr)",
    ]
    assert len(policy) == 8  # 2 regimes × 2 volatility × 2 return buckets
    weights = policy[["sma_crossover", "rsi_reversal"]].sum(axis=1)
    assert weights.round(7).eq(100.0).all()  # percent
    assert policy["visits"].sum() > 0
    from tests.ui.test_numbers import RAW_FLOAT, _rendered_texts, _unformatted_float_columns

    assert not _unformatted_float_columns(at)
    assert not [t for _, t in _rendered_texts(at) if RAW_FLOAT.search(t)]
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # learning curve, test equity, Q-table heatmap


def test_a_request_the_settings_refuse_is_shown_and_starts_nothing():
    at = AppTest.from_function(qlearning_page, default_timeout=60).run()
    at.multiselect(key="ql_strategies").set_value(["sma_crossover"])
    at.button(key="ql_train").click().run()
    assert not at.exception, at.exception
    assert any("strategies" in e.value and "at least 2" in e.value for e in at.error)
    assert not at.get("plotly_chart")


def queued_page():
    from app import rl_qlearning_panels
    from app.services import workstation

    rl_qlearning_panels.launch = lambda ws, task_id: 0  # the worker never starts: stays queued
    rl_qlearning_panels.render_qlearning(workstation())


def test_stop_requests_the_cancel_of_the_task_shown():
    at = AppTest.from_function(queued_page, default_timeout=60).run()
    at.number_input(key="ql_episodes").set_value(5)
    at.button(key="ql_train").click().run()
    assert not at.exception, at.exception
    assert [m.value for m in at.markdown] == ["**Training:** queued"]
    stop = at.button(key="ql_stop")
    assert not stop.disabled
    stop.click().run()
    assert not at.exception, at.exception
    # a task no worker has claimed yet is cancelled at once; the Stop button goes away
    assert [m.value for m in at.markdown] == ["**Training:** cancelled"]
    assert not [b for b in at.button if b.key == "ql_stop"]

    from app.services import workstation

    (task,) = workstation().tasks.list("qlearning_train")
    assert task.cancel_requested and task.request["episodes"] == 5
    assert task.status == "cancelled"


def test_sleeve_parameters_the_strategy_refuses_are_named():
    at = AppTest.from_function(queued_page, default_timeout=60).run()
    at.text_input(key="ql_params").set_value('{"sma_crossover": {"fast": 0}}')
    at.button(key="ql_train").click().run()
    assert not at.exception, at.exception
    assert any(
        "params of sma" in e.value and "greater than or equal to 2" in e.value for e in at.error
    )
    at.text_input(key="ql_params").set_value("{fast")
    at.button(key="ql_train").click().run()
    assert any("not JSON" in e.value for e in at.error)
    assert not at.markdown  # no task was started
