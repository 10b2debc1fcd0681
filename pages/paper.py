"""Paper trading console: sessions, a live panel, manual orders and parameter changes.

Trading happens in each session's worker process; this page reads what it commits and
sends it commands.
"""

import streamlit as st

from app import paper_live, widgets
from app import paper_panels as panels
from app.services import workstation
from app.widgets import flash

ws = workstation()
st.title("Paper trading")
flash()

name = panels.session_picker(ws)
if name:
    paper_live.live_panel(ws, name)
    ticket, params, export = widgets.view_tabs(
        ["Order ticket", "Parameters", "Export & reconcile"], key="paper_view"
    )
    with ticket:  # only the open tab is drawn (see widgets.view_tabs)
        if ticket.open:
            panels.order_ticket(ws, name)
    with params:
        if params.open:
            panels.params_editor(ws, name)
    with export:
        if export.open:
            panels.export_and_reconcile(ws, name)

# drawn only while open: its twenty inputs cost every rerun of the console when nobody looks
new = panels.new_session_expander(name is None)
with new:
    if new.open:
        panels.new_session_form(ws)
