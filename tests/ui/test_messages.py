"""One style of message in the browser: the error guard every page runs under (a message, never
a traceback) and names shown as plain text, never interpreted as Markdown."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from app.widgets import plain
from core.execution import CommissionModel
from core.paper import PaperService
from core.portfolio import PortfolioError, PortfolioService
from tests.ui.plain_text import MARKDOWN_NAME, MARKDOWN_NAME_ESCAPED, assert_literal, text

REFERENCE = re.compile(r"Something went wrong \(ref ([0-9A-F]{6})\)\. Details are in the log\.")


# -- the guard ---------------------------------------------------------------------------------
def test_an_unexpected_error_shows_a_reference_and_logs_the_traceback(app, monkeypatch, caplog):
    def broken(self, *args, **kwargs):
        raise RuntimeError("internal detail: the user must not see this")

    monkeypatch.setattr(PaperService, "list", broken)  # the home page lists paper sessions
    with caplog.at_level(logging.ERROR, logger="app"):
        at = app()  # asserts that no exception element reached the page
    (error,) = at.error
    match = REFERENCE.fullmatch(text(error))
    assert match, text(error)
    assert not at.exception
    shown = [e.value for kind in (at.error, at.markdown, at.caption, at.exception) for e in kind]
    assert not [value for value in shown if "internal detail" in value]
    (record,) = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.exc_info[0] is RuntimeError  # the traceback goes to the log
    assert "internal detail" in str(record.exc_info[1])


def test_a_workstation_error_shows_its_own_message(app, monkeypatch):
    def refused(self, *args, **kwargs):
        raise PortfolioError("paper sessions: the session table is locked")

    monkeypatch.setattr(PaperService, "list", refused)
    at = app()
    assert [text(e) for e in at.error] == ["paper sessions: the session table is locked"]
    assert not at.exception


def test_a_pydantic_error_shows_where_and_what_without_urls(app, monkeypatch):
    def invalid(self, *args, **kwargs):
        CommissionModel(rate=-1)

    monkeypatch.setattr(PaperService, "list", invalid)
    at = app()
    (error,) = [text(e) for e in at.error]
    assert error == "commission model: rate: Input should be greater than or equal to 0"
    assert not at.exception


def test_an_unexpected_error_in_a_form_callback_shows_a_reference(app, monkeypatch):
    at = app("portfolio_lab")

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(PortfolioService, "create", broken)
    at.sidebar.text_input(key="create_name").set_value("Anything")
    at.sidebar.button[0].click().run()  # the callback runs before the page, outside its guard
    assert not at.exception, at.exception
    assert [e for e in at.sidebar.error if REFERENCE.fullmatch(text(e))]
    assert "disk on fire" not in str([e.value for e in at.sidebar.error])


# -- names as plain text -----------------------------------------------------------------------
@pytest.fixture
def no_demo(monkeypatch):
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def test_a_portfolio_name_shows_literally_on_the_home_page(app, no_demo):
    from app.services import workstation

    workstation().portfolios.create(MARKDOWN_NAME, 1000.0)
    at = app()
    assert at.subheader[0].value == MARKDOWN_NAME_ESCAPED
    assert_literal(at.subheader[0].value, MARKDOWN_NAME)


def test_a_portfolio_name_shows_literally_in_the_lab(app):
    at = app("portfolio_lab")
    at.sidebar.text_input(key="create_name").set_value(MARKDOWN_NAME)
    at.sidebar.text_input(key="create_description").set_value("_italic_ <b>html</b> $x^2$")
    at.sidebar.button[0].click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lab_portfolio").value == MARKDOWN_NAME
    (created,) = at.success
    assert created.value == rf"Created portfolio '{MARKDOWN_NAME_ESCAPED}'\."
    assert_literal(created.value, f"Created portfolio '{MARKDOWN_NAME}'.")
    caption = next(c for c in at.caption if "italic" in c.value)
    assert_literal(caption.value, "_italic_ <b>html</b> $x^2$")
    label = at.checkbox(key="delete_confirm").label
    assert_literal(label, f"I understand that deleting '{MARKDOWN_NAME}' removes its history")
    merge = at.selectbox(key="merge_other").label
    assert_literal(merge, f"Merge '{MARKDOWN_NAME}' with")


def test_an_error_naming_a_portfolio_shows_it_literally(app):
    at = app("portfolio_lab")
    for _ in range(2):  # the second create is refused: the name is taken
        at.sidebar.text_input(key="create_name").set_value(MARKDOWN_NAME)
        at.sidebar.button[0].click().run()
    (error,) = at.sidebar.error
    literal = text(error)
    assert MARKDOWN_NAME in literal and "already exists" in literal
    assert_literal(error.value, literal)


@given(hs.text(alphabet=hs.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_plain_escapes_every_markdown_character(name):
    assert_literal(plain(name), " ".join(name.splitlines()))


def test_plain_keeps_ordinary_text_as_it_is():
    assert plain("Demo — US large caps") == "Demo — US large caps"
    assert plain("2024 value tilt, 5 names") == "2024 value tilt, 5 names"


def _save_panel_app():
    from datetime import datetime

    from app.optimize_results import save_panel
    from app.services import workstation
    from core.optimize import OptimizationJob

    now = datetime(2026, 1, 1)
    job = OptimizationJob(
        id="j1",
        status="done",
        request={"config": {"strategy": "sma_crossover"}},
        created_at=now,
        updated_at=now,
        result={"best_params": {"fast": 5, "slow": 20}},
    )
    save_panel(workstation(), job)


def test_a_strategy_configuration_name_shows_literally():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_save_panel_app, default_timeout=60).run()
    at.text_input(key="opt_save_name").set_value(MARKDOWN_NAME)
    at.button(key="opt_save").click().run()
    assert not at.exception, at.exception
    (saved,) = at.success
    assert_literal(saved.value, f"Saved '{MARKDOWN_NAME}'")
    at.button(key="opt_save").click().run()  # the name is taken now: refused, shown literally
    (error,) = at.error
    assert_literal(error.value, f"a strategy configuration named '{MARKDOWN_NAME}' already exists")
