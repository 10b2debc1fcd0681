"""``.streamlit/config.toml``: what the browser may see and send (read as Streamlit reads it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit import config as st_config

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


@pytest.fixture(scope="module")
def settings() -> dict:
    return tomllib.loads(CONFIG.read_text())


def test_tracebacks_never_reach_the_browser(settings):
    assert settings["client"]["showErrorDetails"] == "none"


def test_the_toolbar_has_no_deploy_button(settings):
    # "viewer" hides the developer options: Deploy, Rerun, Clear cache (Streamlit 1.67)
    assert settings["client"]["toolbarMode"] == "viewer"


def test_uploads_are_limited_to_what_an_import_handles(settings):
    assert settings["server"]["maxUploadSize"] == 50  # MB; Streamlit's default is 200


def test_the_server_listens_on_loopback_only(settings):
    assert settings["server"]["address"] == "127.0.0.1"


def test_every_option_is_one_streamlit_knows(settings):
    known = st_config._config_options_template
    for section, options in settings.items():
        for option in options:
            assert f"{section}.{option}" in known, f"{section}.{option}"


def test_streamlit_reads_the_file(monkeypatch):
    """Parsed the way ``streamlit run`` parses it from the repository root."""
    monkeypatch.chdir(CONFIG.parents[1])
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("client.showErrorDetails") == "none"
        assert st_config.get_option("client.toolbarMode") == "viewer"
        assert st_config.get_option("server.maxUploadSize") == 50
    finally:
        st_config.get_config_options(force_reparse=True)
