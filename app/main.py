"""Entry point: ``streamlit run app/main.py`` from the repository root.

Every page runs under one error guard (``app.widgets.guard``): the workstation's own errors
are shown as their message, anything unexpected as a short reference whose traceback goes to
the server's log — never to the browser (``.streamlit/config.toml`` also sets
``client.showErrorDetails = "none"`` for whatever escapes it).
"""

from __future__ import annotations

import streamlit as st

from app.registry import PAGES
from app.widgets import guard

st.set_page_config(page_title="Quant Workstation", page_icon=":material/monitoring:", layout="wide")


def _navigation() -> dict[str, list]:
    sections: dict[str, list] = {}
    for spec in PAGES:
        page = st.Page(
            spec.path,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.url_path == "home",
        )
        sections.setdefault(spec.section, []).append(page)
    return sections


page = st.navigation(_navigation())
with guard():
    page.run()
