"""ML lab: walk-forward XGBoost stock selection, trained in a worker, honest ICs."""

import streamlit as st

from app import ml_panels
from app.services import workstation

ws = workstation()
st.title("ML lab")
st.caption(
    "XGBoost ranks the universe by its expected forward return; one model per walk-forward "
    "fold, a purge gap of h + 1 bars, everything measured on the test folds only, with costs."
)
train_tab, models_tab = st.tabs(["Train", "Saved models"])
with train_tab:
    request = ml_panels.train_form(ws)
    if request is not None:
        ml_panels.start(ws, request)
    ml_panels.live(ws)
with models_tab:
    ml_panels.models_view(ws)
