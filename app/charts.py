"""Plotly figure builders: plain functions from frames to figures (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

UP, DOWN, LINE = "#26a69a", "#ef5350", "#42a5f5"


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        hovermode="x unified",
        legend=dict(orientation="h", y=1.02, x=0),
        template="plotly_dark",
    )
    return fig


def equity_figure(curve: pd.DataFrame, title: str = "Equity") -> go.Figure:
    """Equity with the drawdown from its running peak underneath."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04
    )
    equity = curve["equity"]
    drawdown = equity / equity.cummax() - 1
    fig.add_trace(go.Scattergl(x=curve.index, y=equity, name="Equity", line=dict(color=LINE)), 1, 1)
    fig.add_trace(
        go.Scattergl(
            x=curve.index,
            y=drawdown,
            name="Drawdown",
            fill="tozeroy",
            line=dict(color=DOWN, width=1),
        ),
        2,
        1,
    )
    fig.update_yaxes(tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=2, col=1)
    fig.update_layout(title=title)
    return _layout(fig, 420)


def price_figure(
    bars: pd.DataFrame, symbol: str, *, candles: bool, log_scale: bool = False
) -> go.Figure:
    """Candlesticks (or a close line) with volume bars when the data has volume."""
    with_volume = bars["volume"].notna().any()
    fig = make_subplots(
        rows=2 if with_volume else 1,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.78, 0.22] if with_volume else [1.0],
        vertical_spacing=0.03,
    )
    if candles:
        fig.add_trace(
            go.Candlestick(
                x=bars.index,
                open=bars["open"],
                high=bars["high"],
                low=bars["low"],
                close=bars["close"],
                name=symbol,
                increasing_line_color=UP,
                decreasing_line_color=DOWN,
            ),
            1,
            1,
        )
    else:
        fig.add_trace(
            go.Scattergl(x=bars.index, y=bars["close"], name=symbol, line=dict(color=LINE)), 1, 1
        )
    if with_volume:
        colors = [
            UP if c >= o else DOWN
            for o, c in zip(bars["open"].fillna(bars["close"]), bars["close"], strict=True)
        ]
        fig.add_trace(
            go.Bar(x=bars.index, y=bars["volume"], name="Volume", marker_color=colors), 2, 1
        )
    fig.update_layout(xaxis_rangeslider_visible=False, title=symbol, showlegend=False)
    if log_scale:
        fig.update_yaxes(type="log", row=1, col=1)
    if _weekday_daily(bars.index):
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])  # no empty weekends
    return _layout(fig, 520)


def _weekday_daily(index: pd.DatetimeIndex) -> bool:
    """Daily bars that never fall on a weekend (equities, indices)."""
    if len(index) < 2 or (index.normalize() != index).any():
        return False
    return bool((index.day_of_week < 5).all())


def allocation_figure(positions: pd.DataFrame, cash: float) -> go.Figure:
    """Market value per position plus cash, as a donut."""
    labels = [*positions["symbol"], "Cash"]
    values = [*positions["market_value"].abs(), max(cash, 0.0)]
    fig = go.Figure(
        go.Pie(labels=labels, values=values, hole=0.55, sort=False, textinfo="label+percent")
    )
    fig.update_layout(title="Allocation", showlegend=False)
    return _layout(fig, 320)
