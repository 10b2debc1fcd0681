import pytest

from tests.ui.backtest_defaults import page_default_config
from tests.ui.plain_text import text
from tests.ui.tabs import open_tab


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def test_backtest_page_runs_the_default_sma_crossover(app):
    at = app("backtest")
    assert at.selectbox(key="bt_strategy").value == "sma_crossover"
    assert at.number_input(key="bt_sma_crossover_fast").value == 10  # from the params model
    assert at.number_input(key="bt_sma_crossover_slow").value == 50

    at.button(key="bt_run").click().run()
    assert not at.exception, at.exception

    from app.services import workstation

    expected = workstation().backtests.run(page_default_config(), save=False)
    metrics = {m.label: m.value for m in _tab(at, "Chart").metric}
    assert metrics["Final equity"] == f"{expected.final_equity:,.0f}"
    assert metrics["Trades"] == str(expected.metrics["n_trades"])
    assert not _tab(at, "Trades").dataframe  # a hidden tab's table is not drawn
    table = open_tab(at, "bt_view", "Trades").dataframe[0]
    assert len(table.value) == expected.metrics["n_trades"]
    import json

    columns = json.loads(table.proto.columns)
    # daily bars: dates without a 00:00:00 on every row; headings for a person
    assert columns["entry_time"]["label"] == "Entry"
    assert columns["entry_time"]["type_config"]["format"] == "YYYY-MM-DD"
    assert columns["entry_price"]["label"] == "Entry price"
    compare = open_tab(at, "bt_view", "Compare runs")
    assert len(compare.multiselect) == 1  # the run was saved
    assert len(compare.dataframe) == 1


def test_invalid_parameters_are_reported_not_run(app):
    at = app("backtest")
    at.number_input(key="bt_sma_crossover_fast").set_value(60)
    at.number_input(key="bt_sma_crossover_slow").set_value(50)
    at.button(key="bt_run").click().run()

    assert [text(e) for e in at.error] == ["parameters: fast (60) must be shorter than slow (50)"]
    assert not [m for m in at.metric if m.label == "Final equity"]


def test_an_impossible_sizing_is_explained_and_not_run(app):
    at = app("backtest")
    at.selectbox(key="bt_sizing").set_value("percent")
    at.number_input(key="bt_size").set_value(50.0)  # 5,000 % of equity
    at.button(key="bt_run").click().run()
    assert not at.exception, at.exception
    assert [text(e) for e in at.error] == [
        "sizing: percent: Input should be less than or equal to 10"
    ]
    assert not [m for m in at.metric if m.label == "Final equity"]


def test_commission_is_offered_up_to_ten_percent(app):
    at = app("backtest")
    assert at.number_input(key="bt_commission").max == pytest.approx(10.0)  # % of notional


def test_monte_carlo_and_stress_tabs_after_a_run(app):
    at = app("backtest")
    at.button(key="bt_run").click().run()
    open_tab(at, "bt_view", "Monte Carlo")
    at.number_input(key="mc_paths").set_value(2000)
    at.button(key="mc_run").click().run()
    assert not at.exception, at.exception

    mc = {m.label: m.value for m in _tab(at, "Monte Carlo").metric}
    assert mc["P(profit)"].endswith("%") and 0 <= float(mc["P(profit)"][:-1]) <= 100
    assert not _tab(at, "Stress").metric  # worked out only when its tab is open
    stress = {m.label: m.value for m in open_tab(at, "bt_view", "Stress").metric}
    assert stress["Stressed max drawdown"].startswith("-")
    # the crisis scenario deepens the drawdown relative to the original run
    assert float(stress["Stressed max drawdown"][:-1]) < float(stress["Original max drawdown"][:-1])


def test_stress_of_a_short_run_is_shown_past_its_end(app):
    at = app("backtest")
    at.date_input(key="bt_start").set_value(__import__("datetime").date(2018, 6, 1))
    at.button(key="bt_run").click().run()
    open_tab(at, "bt_view", "Stress")
    # each choice reads as its id (what --scenario takes) and what it does
    assert at.selectbox(key="st_scenario").options[0] == "gfc_2008 · -45 % over 120 days"
    assert at.selectbox(key="st_scenario").options[-1] == "Custom…"
    at.selectbox(key="st_scenario").set_value("gfc_2008").run()
    assert not at.exception, at.exception
    assert _tab(at, "Stress").metric[1].value.startswith("-")


def test_monte_carlo_and_stress_keep_the_user_in_their_tab(app):
    """Run Monte Carlo and a new stress scenario used to jump back to the Chart tab."""
    at = app("backtest")
    at.button(key="bt_run").click().run()
    assert at.session_state["bt_view"] == "Chart"  # the tabs are a widget with state
    at.session_state["bt_view"] = "Monte Carlo"  # the user opens the tab
    at.number_input(key="mc_paths").set_value(1000)
    at.button(key="mc_run").click().run()
    assert not at.exception, at.exception
    assert at.session_state["bt_view"] == "Monte Carlo"
    assert "P(profit)" in {m.label for m in _tab(at, "Monte Carlo").metric}

    at.session_state["bt_view"] = "Stress"
    at.selectbox(key="st_scenario").set_value("gfc_2008").run()
    assert not at.exception, at.exception
    assert at.session_state["bt_view"] == "Stress"
    assert "Stressed max drawdown" in {m.label for m in _tab(at, "Stress").metric}


def test_dates_follow_the_chosen_instruments_history(app):
    """SPX has bars 1999-01-04..2018-12-31, AAPL 1990-01-02..2022-12-28 (the bundled data)."""
    from datetime import date

    at = app("backtest")
    start, end = at.date_input(key="bt_start"), at.date_input(key="bt_end")
    assert (start.value, end.value) == (date(1999, 1, 4), date(2018, 12, 31))
    at.selectbox(key="bt_symbol").set_value("AAPL").run()
    assert not at.exception, at.exception
    start, end = at.date_input(key="bt_start"), at.date_input(key="bt_end")
    assert (start.value, end.value) == (date(1990, 1, 2), date(2022, 12, 28))
    assert (start.min, end.max) == (date(1990, 1, 2), date(2022, 12, 28))
    at.date_input(key="bt_start").set_value(date(2000, 3, 1)).run()
    assert at.date_input(key="bt_start").value == date(2000, 3, 1)  # kept while on AAPL
    at.selectbox(key="bt_symbol").set_value("SPX").run()
    assert not at.exception, at.exception
    start, end = at.date_input(key="bt_start"), at.date_input(key="bt_end")
    assert (start.value, end.value) == (date(1999, 1, 4), date(2018, 12, 31))
    assert (start.min, end.max) == (date(1999, 1, 4), date(2018, 12, 31))
