"""One page on each backend: the Audit page reads the seeded demo's log from the database
the settings name (SQLite, and PostgreSQL when the tests have one), verifies its chain,
and names the event edited behind its back."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.ui.plain_text import text as shown

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")

pytestmark = pytest.mark.both_backends


@pytest.fixture
def audit_page(db_url, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", db_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(MAIN, default_timeout=90).run()
    assert not at.exception, at.exception
    at.switch_page("../pages/audit.py").run()
    assert not at.exception, at.exception
    yield at
    st.cache_resource.clear()


def test_the_audit_page_verifies_the_chain_in_the_configured_database(audit_page, db_url):
    at = audit_page
    log = next(t for t in at.tabs if t.label == "Log").dataframe[0].value
    # the demo: created, 8 fills, the target weights
    assert sorted(log["kind"]) == sorted(["portfolio_created", *["fill"] * 8, "target_weights_set"])
    at.button(key="audit_verify").click().run()
    assert "Chain intact: 10 events verified." in [shown(s) for s in at.success]
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 4"))
    engine.dispose()
    at.button(key="audit_verify").click().run()
    assert shown(at.error[0]).startswith("Chain broken at event 4: event 4 (fill)")
