"""Audit: the append-only, hash-chained log with filters, chain verification and the
compliance report of a date range."""

import streamlit as st

from app import audit_panels
from app.services import workstation

ws = workstation()
st.title("Audit")

log, verify, report = st.tabs(["Log", "Verify", "Compliance report"])
with log:
    audit_panels.log_table(ws)
with verify:
    audit_panels.verify_panel(ws)
with report:
    audit_panels.report_panel(ws)
