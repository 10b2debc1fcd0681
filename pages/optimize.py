"""Optimize: search a strategy's parameters in a background worker and follow it live."""

import streamlit as st

from app import optimize_panels as panels
from app import optimize_results
from app.services import workstation

ws = workstation()
st.title("Optimize")

form, results = st.columns([1, 2.6], gap="large")
with form:
    request = panels.request_form(ws)
    if request is not None:
        panels.submit(ws, request)
    with st.expander("Strategies × assets allocation"):
        allocation = panels.allocation_form(ws)
        if allocation is not None:
            panels.submit(ws, allocation)
with results:
    job_id = panels.job_picker(ws)
    if job_id is not None:
        st.toggle("Pause live refresh", key=panels.PAUSED)
        job = panels.live_panel(ws, job_id)
        if job is not None and job.finished:
            optimize_results.result_panel(ws, job)
