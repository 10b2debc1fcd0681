"""Allocation page: weights, measures, frontier, risk bars, errors and applying targets."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from core.marketdata import load_bundled
from core.workstation import Workstation
from tests.ui.plain_text import text

SYMBOLS = ["AAPL", "JNJ", "KO", "MSFT", "XOM"]


def daily_equal_weight_returns() -> np.ndarray:
    """The default window, computed here with pandas: 2018-01-01 to 2022-12-30."""
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in SYMBOLS})
    returns = closes.loc["2018-01-01":"2022-12-30"].pct_change().iloc[1:]
    return returns.mean(axis=1).to_numpy()


def test_equal_weight_shows_one_over_n_and_its_measures(app):
    at = app("allocation")
    at.selectbox(key="al_method").set_value("equal").run()
    assert not at.exception, at.exception

    table = at.dataframe[0].value
    assert list(table["symbol"]) == SYMBOLS
    assert list(table["weight"]) == [20.0] * 5  # the table shows percentages
    assert table["risk_share"].sum() == pytest.approx(100.0)
    daily = daily_equal_weight_returns()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Expected return"] == f"{daily.mean() * 252:.2%}"
    assert metrics["Volatility"] == f"{daily.std(ddof=1) * np.sqrt(252):.2%}"
    assert len(at.get("plotly_chart")) == 2  # frontier and risk contributions


def test_risk_parity_shows_equal_risk_shares(app):
    at = app("allocation")
    at.selectbox(key="al_method").set_value("risk_parity").run()
    assert not at.exception, at.exception
    shares = at.dataframe[0].value["risk_share"]
    np.testing.assert_allclose(shares, 20.0, rtol=1e-8)  # percent


def test_max_weight_caps_the_default_max_sharpe(app):
    at = app("allocation")
    before = at.dataframe[0].value["weight"]
    assert before.max() > 30.0  # percent
    at.number_input(key="al_max_weight").set_value(0.3).run()
    after = at.dataframe[0].value["weight"]
    assert after.max() == pytest.approx(30.0, abs=1e-7)
    assert after.sum() == pytest.approx(100.0)


def test_mean_variance_target_return_is_met(app):
    at = app("allocation")
    at.selectbox(key="al_method").set_value("mean_variance").run()
    at.radio(key="al_mv_goal").set_value("Target return").run()
    at.number_input(key="al_target").set_value(0.2).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Expected return"] == "20.00%"


def test_infeasible_cap_is_explained(app):
    at = app("allocation")
    at.number_input(key="al_max_weight").set_value(0.1).run()
    assert not at.exception, at.exception
    assert "max weight 0.1 × 5 assets = 0.5 < 1" in text(at.error[0])
    assert not at.get("plotly_chart")


def test_apply_to_portfolio_sets_its_target_weights(app):
    at = app("allocation")
    at.selectbox(key="al_method").set_value("min_variance").run()
    shown = at.dataframe[0].value.set_index("symbol")["weight"]
    name = at.selectbox(key="al_portfolio").value
    at.button(key="al_apply").click().run()
    assert not at.exception, at.exception
    assert text(at.success[0]).startswith(f"Target weights of {name!r} set")

    ws = Workstation.open(os.environ["WORKSTATION_DATABASE_URL"])
    try:
        stored = ws.export_portfolio(name).target_weights
    finally:
        ws.close()
    assert stored == pytest.approx((shown / 100).to_dict(), abs=1e-11)  # shown in percent


def test_dates_follow_the_chosen_symbols_common_history(app):
    """AAPL and SPX share 1999-01-04..2018-12-31; AAPL alone has 1990-01-02..2022-12-28."""
    from datetime import date

    at = app("allocation")
    at.multiselect(key="al_symbols").set_value(["AAPL", "SPX"]).run()
    assert not at.exception, at.exception
    start, end = at.date_input(key="al_start"), at.date_input(key="al_end")
    assert (start.min, end.max) == (date(1999, 1, 4), date(2018, 12, 31))
    assert (start.value, end.value) == (date(2018, 1, 1), date(2018, 12, 31))  # clipped
    at.multiselect(key="al_symbols").set_value(["AAPL"]).run()
    start, end = at.date_input(key="al_start"), at.date_input(key="al_end")
    assert (start.min, end.max) == (date(1990, 1, 2), date(2022, 12, 28))
    assert (start.value, end.value) == (date(2018, 1, 1), date(2022, 12, 28))
