from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


@pytest.fixture(autouse=True)
def fresh_app_state(tmp_path, monkeypatch):
    """Each page test gets its own database and empty Streamlit caches."""
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/app.db")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app():
    def start(page: str | None = None) -> AppTest:
        at = AppTest.from_file(MAIN, default_timeout=60).run()
        assert not at.exception, at.exception
        if page:
            at.switch_page(f"../pages/{page}.py").run()
            assert not at.exception, at.exception
        return at

    return start
