"""Risk page on the seeded demo portfolio: measures, limits used, kill switch, limits form."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from core.db import AuditEventRow
from core.demo import DEMO_NAME
from core.risk import (
    RiskLimits,
    load_limits,
    load_trading_state,
    parse_limit_updates,
    portfolio_risk,
    save_limits,
    set_trading_state,
)
from core.workstation import Workstation
from tests.ui.plain_text import MARKDOWN_NAME, MARKDOWN_NAME_ESCAPED, assert_literal, text

HALTED = "Halted book"


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
    assert metrics["VaR 95% (1d)"] == f"{expected.var_95:.2%}"
    assert metrics["CVaR 99% (1d)"] == f"{expected.cvar_99:.2%}"
    assert metrics["Beta to SP500"] == f"{expected.beta:.2f}"
    beta = next(m for m in at.metric if m.label == "Beta to SP500")
    assert beta.delta == f"corr. {expected.correlation:.2f}"
    assert beta.proto.direction == 2  # NONE: a correlation beside beta, not a rise
    var = _tab(at, "Measures").dataframe[0].value
    assert len(var) == 8 and set(var["method"]) == {
        "Historical",
        "Normal",
        "Student t",
        "Monte Carlo",
    }
    shares = _tab(at, "Measures").dataframe[1].value["share"]
    assert shares.sum() == pytest.approx(100.0)  # percent

    limits = _tab(at, "Limits").dataframe[0].value.set_index("rule")
    # the demo holds about 31 % in AAPL against the default 10 % cap
    assert limits.loc["max_position_weight", "outcome"] == "block"
    assert "AAPL" in limits.loc["max_position_weight", "message"]
    assert limits.loc["min_cash", "outcome"] == "block"  # 172 of cash
    assert len(_tab(at, "Limits").get("progress")) == 6  # every ratio rule has a gauge

    stress = _tab(at, "Stress").dataframe[0].value.set_index("scenario")
    assert stress.loc["gfc_2008", "return"] == pytest.approx(-45.0, abs=0.1)  # %; cash 0.01 %
    assert metrics["Controller level"] == expected.drawdown["level"]
    assert len(at.get("plotly_chart")) == 1


def _state_control(at, name):
    return at.segmented_control(key=f"risk_state_choice::{name}")


def _state_events(ws, name):
    with ws.sessions() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.kind == "trading_state", AuditEventRow.portfolio == name)
            .order_by(AuditEventRow.id)
        ).all()
        return [row.payload for row in rows]


def test_kill_switch_halts_and_is_audited(app, ws):
    at = app("risk")
    assert _state_control(at, DEMO_NAME).value == "active"
    _state_control(at, DEMO_NAME).set_value("halted").run()
    at.text_input(key=f"risk_state_reason::{DEMO_NAME}").set_value("desk closed")
    at.button(key=f"risk_state_apply::{DEMO_NAME}").click().run()
    assert not at.exception, at.exception
    with ws.sessions() as session:
        assert load_trading_state(session, DEMO_NAME).value == "halted"
    assert any("Halted" in m.value for m in at.markdown)
    limits = _tab(at, "Limits").dataframe[0].value.set_index("rule")
    assert limits.loc["trading_state", "outcome"] == "block"
    assert _state_events(ws, DEMO_NAME) == [
        {"from": "active", "to": "halted", "reason": "desk closed"}
    ]
    # after applying, the control shows the new stored state and the note is cleared
    assert _state_control(at, DEMO_NAME).value == "halted"
    assert at.text_input(key=f"risk_state_reason::{DEMO_NAME}").value == ""


@pytest.fixture
def halted_book(ws):
    ws.portfolios.create(HALTED, 10_000.0)
    with ws.sessions.begin() as session:
        set_trading_state(session, HALTED, "halted", reason="desk closed")
    return HALTED


def test_switching_portfolio_shows_the_selected_portfolios_stored_state(
    app, ws, halted_book, table_counts
):
    """The reported bug: after switching from an active portfolio to a halted one, the control
    still showed Active, and "adding a note" with Apply re-activated trading."""
    at = app("risk")
    assert at.selectbox(key="risk_portfolio").value == DEMO_NAME
    assert _state_control(at, DEMO_NAME).value == "active"
    at.selectbox(key="risk_portfolio").set_value(halted_book).run()
    assert not at.exception, at.exception
    assert _state_control(at, halted_book).value == "halted"
    assert any("Halted" in m.value for m in at.markdown)
    before = table_counts(ws)
    at.text_input(key=f"risk_state_reason::{halted_book}").set_value("just adding a note").run()
    apply = at.button(key=f"risk_state_apply::{halted_book}")
    assert apply.disabled  # no change of state: nothing to apply
    assert table_counts(ws) == before
    with ws.sessions() as session:
        assert load_trading_state(session, halted_book).value == "halted"
    # and back: the demo's control shows the demo's state again, not the halted one
    at.selectbox(key="risk_portfolio").set_value(DEMO_NAME).run()
    assert _state_control(at, DEMO_NAME).value == "active"


def test_lifting_a_halt_needs_an_explicit_confirmation(app, ws, halted_book):
    at = app("risk")
    at.selectbox(key="risk_portfolio").set_value(halted_book).run()
    _state_control(at, halted_book).set_value("active").run()
    apply = at.button(key=f"risk_state_apply::{halted_book}")
    assert apply.disabled
    confirm = at.checkbox(key=f"risk_state_confirm::{halted_book}::halted::active")
    assert confirm.value is False and "lifting the halted state" in confirm.label
    with ws.sessions() as session:
        assert load_trading_state(session, halted_book).value == "halted"
    confirm.check().run()
    at.text_input(key=f"risk_state_reason::{halted_book}").set_value("desk open").run()
    at.button(key=f"risk_state_apply::{halted_book}").click().run()
    assert not at.exception, at.exception
    with ws.sessions() as session:
        assert load_trading_state(session, halted_book).value == "active"
    assert _state_events(ws, halted_book)[-1] == {
        "from": "halted",
        "to": "active",
        "reason": "desk open",
    }
    # tightening needs no confirmation
    _state_control(at, halted_book).set_value("reducing_only").run()
    assert not at.button(key=f"risk_state_apply::{halted_book}").disabled
    assert not [c for c in at.checkbox if c.key and c.key.startswith("risk_state_confirm")]


def test_kill_switch_follows_a_state_changed_elsewhere(app, ws):
    at = app("risk")
    _state_control(at, DEMO_NAME).set_value("reducing_only").run()  # chosen, not applied
    with ws.sessions.begin() as session:  # e.g. `python -m core risk state ... halted`
        set_trading_state(session, DEMO_NAME, "halted", actor="cli", reason="desk closed")
    at.run()
    assert _state_control(at, DEMO_NAME).value == "halted"
    assert at.button(key=f"risk_state_apply::{DEMO_NAME}").disabled


def test_kill_switch_shows_the_stored_state_after_visiting_another_page(app):
    at = app("risk")
    assert _state_control(at, DEMO_NAME).value == "active"
    at.switch_page("../pages/home.py").run()  # Streamlit drops the controls' values here
    at.switch_page("../pages/risk.py").run()
    assert not at.exception, at.exception
    assert _state_control(at, DEMO_NAME).value == "active"
    assert at.number_input(key="lim_max_position_weight").value == pytest.approx(0.10)


def test_limits_editor_shows_the_selected_portfolios_stored_limits(app, ws):
    ws.portfolios.create("Tight", 10_000.0)
    with ws.sessions.begin() as session:
        save_limits(
            session,
            "Tight",
            parse_limit_updates(RiskLimits(), ["max_position_weight=0.33", "min_cash=none"]),
        )
    at = app("risk")
    assert at.number_input(key="lim_max_position_weight").value == pytest.approx(0.10)
    at.number_input(key="lim_max_position_weight").set_value(0.5)  # edited, not saved
    at.selectbox(key="risk_portfolio").set_value("Tight").run()
    assert at.number_input(key="lim_max_position_weight").value == pytest.approx(0.33)
    assert at.multiselect(key="lim_off").value == ["min_cash", "min_adv"]  # min_adv: default
    at.selectbox(key="risk_portfolio").set_value(DEMO_NAME).run()
    assert at.number_input(key="lim_max_position_weight").value == pytest.approx(0.10)
    assert at.multiselect(key="lim_off").value == ["min_adv"]


def test_portfolio_names_render_as_plain_text_on_the_risk_page(app, ws):
    ws.portfolios.create(MARKDOWN_NAME, 10_000.0)
    at = app("risk")
    at.selectbox(key="risk_portfolio").set_value(MARKDOWN_NAME).run()
    _state_control(at, MARKDOWN_NAME).set_value("halted").run()
    at.button(key=f"risk_state_apply::{MARKDOWN_NAME}").click().run()
    assert not at.exception, at.exception
    shown = [s.value for s in at.success]
    assert shown == [MARKDOWN_NAME_ESCAPED + r"\: trading halted"]
    assert_literal(shown[0], f"{MARKDOWN_NAME}: trading halted")


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
    (error,) = [text(e) for e in at.error]
    assert error.startswith("risk limits: trading_hours.stock: ") and "09:30-16:00" in error
    assert "pydantic" not in error and "http" not in error
    with ws.sessions() as session:
        assert load_limits(session, DEMO_NAME).trading_hours is None


def test_the_kill_switch_stays_usable_when_the_measures_fail(app, ws, monkeypatch):
    from app import risk_panels
    from core.risk import RiskError

    def fails(*args, **kwargs):
        raise RiskError("risk: only 12 days of common price history for ['NEW']")

    monkeypatch.setattr(risk_panels, "portfolio_risk", fails)
    at = app("risk")
    assert [text(e) for e in at.error] == ["risk: only 12 days of common price history for ['NEW']"]
    _state_control(at, DEMO_NAME).set_value("halted").run()
    at.button(key=f"risk_state_apply::{DEMO_NAME}").click().run()
    with ws.sessions() as session:
        assert load_trading_state(session, DEMO_NAME).value == "halted"


def test_the_trading_state_cannot_be_clicked_into_nothing(app, ws):
    """Clicking the selected "Active" used to un-select it (Apply then did nothing): the control
    is required (the browser ignores the click) and an empty value is restored to the stored
    state on the next run."""
    at = app("risk")
    control = _state_control(at, DEMO_NAME)
    assert control.proto.required
    control.set_value(None).run()
    assert not at.exception, at.exception
    assert _state_control(at, DEMO_NAME).value == "active"
    # and a real choice still goes through
    _state_control(at, DEMO_NAME).set_value("halted").run()
    at.button(key=f"risk_state_apply::{DEMO_NAME}").click().run()
    with ws.sessions() as session:
        assert load_trading_state(session, DEMO_NAME).value == "halted"


def test_saving_one_limit_in_the_editor_saves_that_limit_only(app, ws):
    """Changing one limit on a portfolio without saved limits switched on every example
    default (which blocked all buys on a freshly rebalanced portfolio)."""
    ws.portfolios.create("Fresh", 10_000.0)
    at = app("risk")
    at.selectbox(key="risk_portfolio").set_value("Fresh").run()
    at.number_input(key="lim_max_position_weight").set_value(0.25)
    _tab(at, "Edit limits").button[0].click().run()
    assert not at.exception, at.exception
    with ws.sessions() as session:
        saved = load_limits(session, "Fresh")
    assert saved.max_position_weight == 0.25
    # every other rule as stored before: none (nothing was enforced), warn_at its default
    for key in ("max_top3_weight", "min_cash", "max_daily_turnover", "max_drawdown"):
        assert getattr(saved, key) is None, key
    assert saved.daily_loss_limit is None and saved.min_adv is None
    assert saved.trading_hours is None and saved.warn_at == 0.8
    assert ws.risk.limits_saved("Fresh")
    # the editor now shows what is stored: the unset rules listed as switched off
    assert "max_top3_weight" in at.multiselect(key="lim_off").value


def test_save_limits_keeps_the_user_in_the_edit_tab(app, ws):
    """Save limits used to jump back to the Measures tab."""
    at = app("risk")
    assert at.session_state["risk_view"] == "Measures"  # the tabs are a widget with state
    at.session_state["risk_view"] = "Edit limits"
    at.text_input(key="lim_trading_hours").set_value("stock=9am")  # refused
    _tab(at, "Edit limits").button[0].click().run()
    assert at.session_state["risk_view"] == "Edit limits"
    assert any("trading_hours" in text(e) for e in _tab(at, "Edit limits").error)
    at.text_input(key="lim_trading_hours").set_value("")
    at.number_input(key="lim_min_cash").set_value(0.001)
    _tab(at, "Edit limits").button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["risk_view"] == "Edit limits"
    assert ws.risk.limits(DEMO_NAME).min_cash == 0.001
    # the result shows in the tab where the user saved
    assert [text(m) for m in _tab(at, "Edit limits").success] == [f"Limits of {DEMO_NAME} saved"]
