"""RL lab: train a PPO portfolio agent in the background and compare it out of sample;
the Q-learning strategy allocator in its own tab."""

import streamlit as st

from app import rl_panels as panels
from app import widgets
from app.services import workstation

ws = workstation()
st.title("RL lab")

ppo_tab, q_tab = widgets.view_tabs(["PPO weights", "Q-learning allocator"], key="rl_view")
with ppo_tab:
    form, results = st.columns([1, 2.4], gap="large")
    with form:
        request = panels.request_form(ws)
        if request is not None:
            panels.submit(ws, request)
    with results:
        task_id = panels.task_picker(ws)
        if task_id is not None:
            st.toggle("Pause live refresh", key=panels.PAUSED)
            task = panels.live_panel(ws, task_id)
            if task is not None and task.finished:
                panels.result_panel(task)
with q_tab:
    panels.qlearning_tab(ws)
