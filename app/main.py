"""Entry point: ``streamlit run app/main.py`` from the repository root."""

from __future__ import annotations

import streamlit as st

from app.registry import PAGES

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


st.navigation(_navigation()).run()
