"""Derivatives page figures: plain functions from arrays to plotly figures (no Streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.charts import LINE

_COLOURS = (LINE, "#ab47bc", "#ffa726", "#26a69a")


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 300):
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis_title=x_title,
        yaxis_title=y_title,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def lines_figure(
    x: np.ndarray, series: dict[str, np.ndarray], title: str, x_title: str, y_title: str = ""
) -> go.Figure:
    """One line per named series over ``x``."""
    fig = go.Figure()
    for colour, (name, y) in zip(_COLOURS, series.items(), strict=False):
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line={"color": colour}))
    return _layout(fig, title, x_title, y_title)


def price_delta_figure(
    x: np.ndarray, price: np.ndarray, delta: np.ndarray, title: str, x_title: str
) -> go.Figure:
    """Price (left axis) and delta (right axis) over ``x``."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=price, name="price", line={"color": LINE}))
    fig.add_trace(
        go.Scatter(x=x, y=delta, name="delta", line={"color": _COLOURS[1]}), secondary_y=True
    )
    fig.update_yaxes(title_text="delta", secondary_y=True, showgrid=False)
    return _layout(fig, title, x_title, "price")


def payoff_figure(
    spots: np.ndarray,
    at_expiry: np.ndarray,
    today: np.ndarray,
    breakevens: tuple[float, ...],
    spot: float,
) -> go.Figure:
    """A strategy's P&L at expiry and today over spots, with breakevens and the spot marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=spots, y=at_expiry, name="at expiry", line={"color": LINE}))
    fig.add_trace(
        go.Scatter(x=spots, y=today, name="today", line={"color": "#ffa726", "dash": "dash"})
    )
    fig.add_hline(y=0, line={"color": "grey", "width": 1})
    for b in breakevens:
        fig.add_vline(x=b, line={"color": "#ef5350", "dash": "dot", "width": 1})
    fig.add_vline(x=spot, line={"color": "grey", "dash": "dash", "width": 1})
    return _layout(fig, "P&L over spot", "spot", "P&L", height=360)
