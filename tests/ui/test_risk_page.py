"""Risk page on the seeded demo portfolio: measures, limits used, kill switch, limits form."""

from __future__ import annotations

import os

import pytest

from core.demo import DEMO_NAME
from core.risk import load_limits, load_trading_state, portfolio_risk
from core.workstation import Workstation


@pytest.fixture
def ws():
    workstation = Workstation.open(os.environ["WORKSTATION_DATABASE_URL"])
    yield workstation
    workstation.close()


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def test_risk_page_shows_the_demo_measures_and_limits(app, ws):
    at = app("risk")
    assert at.selectbox(key="risk_portfolio").value == DEMO_NAME
    expected = portfolio_risk(ws, DEMO_NAME)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["VaR 95% (1d)"] == f"{expected['var_95']:.2%}"
    assert metrics["CVaR 99% (1d)"] == f"{expected['cvar_99']:.2%}"
    assert metrics["Beta to SP500"] == f"{expected['beta']:.2f}"
    var = _tab(at, "Measures").dataframe[0].value
    assert len(var) == 8 and set(var["method"]) == {
        "historical",
        "normal",
        "student_t",
        "monte_carlo",
    }
    shares = _tab(at, "Measures").dataframe[1].value["share"]
    assert shares.sum() == pytest.approx(1.0)

    limits = _tab(at, "Limits").dataframe[0].value.set_index("rule")
    # the demo holds about 31 % in AAPL against the default 10 % cap
    assert limits.loc["max_position_weight", "outcome"] == "block"
    assert "AAPL" in limits.loc["max_position_weight", "message"]
    assert limits.loc["min_cash", "outcome"] == "block"  # 172 of cash
    assert len(_tab(at, "Limits").get("progress")) == 6  # every ratio rule has a gauge

    stress = _tab(at, "Stress").dataframe[0].value.set_index("scenario")
    assert stress.loc["gfc_2008", "return"] == pytest.approx(-0.45, abs=1e-3)  # cash 0.01 %
    assert metrics["Controller level"] == expected["drawdown"]["level"]
    assert len(at.get("plotly_chart")) == 1


def test_kill_switch_halts_and_is_audited(app, ws):
    at = app("risk")
    at.segmented_control(key="risk_state_choice").set_value("halted")
    at.text_input(key="risk_state_reason").set_value("desk closed")
    at.button(key="risk_state_apply").click().run()
    assert not at.exception, at.exception
    with ws.sessions() as session:
        assert load_trading_state(session, DEMO_NAME).value == "halted"
    assert any("Halted" in m.value for m in at.markdown)
    limits = _tab(at, "Limits").dataframe[0].value.set_index("rule")
    assert limits.loc["trading_state", "outcome"] == "block"


def test_limits_form_saves_and_rejects_bad_hours(app, ws):
    at = app("risk")
    at.number_input(key="lim_max_position_weight").set_value(0.35)
    at.multiselect(key="lim_off").set_value(["min_cash"])
    _tab(at, "Edit limits").button[0].click().run()
    assert not at.exception, at.exception
    with ws.sessions() as session:
        saved = load_limits(session, DEMO_NAME)
    assert saved.max_position_weight == 0.35 and saved.min_cash is None
    limits = _tab(at, "Limits").dataframe[0].value.set_index("rule")
    assert limits.loc["max_position_weight", "outcome"] == "warn"  # 31 % of 35 % ≥ 80 %
    assert "min_cash" not in limits.index

    at.text_input(key="lim_trading_hours").set_value("stock=9am")
    _tab(at, "Edit limits").button[0].click().run()
    assert any("09:30-16:00" in e.value for e in at.error)
    with ws.sessions() as session:
        assert load_limits(session, DEMO_NAME).trading_hours is None
