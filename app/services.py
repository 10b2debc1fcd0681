"""The page-facing handle on ``core``: one Workstation per server process."""

from __future__ import annotations

import streamlit as st

from core.workstation import Workstation


@st.cache_resource(show_spinner="Opening the workstation database…")
def workstation() -> Workstation:
    """Open (and on first start migrate and seed) the database named by the settings."""
    return Workstation.open(warm_workers=True)
