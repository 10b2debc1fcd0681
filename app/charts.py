"""Plotly figure builders: plain functions from frames to figures (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.chart_points import MAX_LINE_POINTS, MAX_PRICE_POINTS, downsample_bars, thin_line

UP, DOWN, LINE = "#26a69a", "#ef5350", "#42a5f5"
HOVER_MONEY = "%{y:,.2f}"  # tooltips: money with separators, fractions as percentages
HOVER_PCT = "%{y:.2%}"

__all__ = ["MAX_LINE_POINTS", "MAX_PRICE_POINTS", "downsample_bars", "thin_line"]


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
    drawdown = thin_line(equity / equity.cummax() - 1)
    equity = thin_line(equity)
    fig.add_trace(
        go.Scatter(
            x=equity.index,
            y=equity,
            name="Equity",
            line=dict(color=LINE),
            hovertemplate=HOVER_MONEY,
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=drawdown.index,
            y=drawdown,
            name="Drawdown",
            fill="tozeroy",
            line=dict(color=DOWN, width=1),
            hovertemplate=HOVER_PCT,
        ),
        2,
        1,
    )
    fig.update_yaxes(tickformat=",.0f", hoverformat=",.2f", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%", row=2, col=1)
    fig.update_layout(title=title)
    return _layout(fig, 420)


def price_figure(
    bars: pd.DataFrame, symbol: str, *, candles: bool, log_scale: bool = False
) -> go.Figure:
    """Candlesticks (or a close line) with volume bars when the data has volume.

    More than :data:`MAX_PRICE_POINTS` bars are merged (:func:`downsample_bars`) and drawn
    without weekend breaks (invisible at that density)."""
    dense = len(bars) > MAX_PRICE_POINTS
    bars = downsample_bars(bars)
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
            go.Scatter(x=bars.index, y=bars["close"], name=symbol, line=dict(color=LINE)), 1, 1
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
    if _weekday_daily(bars.index) and not dense:
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
        go.Pie(
            labels=labels,
            values=values,
            hole=0.55,
            sort=False,
            texttemplate="%{label}<br>%{percent:.1%}",  # not plotly's 3 significant digits
            hovertemplate="%{label}: %{value:,.2f} (%{percent:.2%})<extra></extra>",
        )
    )
    fig.update_layout(title="Allocation", showlegend=False)
    return _layout(fig, 320)


def add_trade_markers(fig: go.Figure, trades: pd.DataFrame, symbol: str) -> go.Figure:
    """Entry (▲ long / ▼ short) and exit (✕) markers on a price figure's first row."""
    own = trades[trades["symbol"] == symbol]
    if own.empty:
        return fig
    long_ = own["direction"] == "long"
    for mask, name, marker, color in (
        (long_, "Long entry", "triangle-up", UP),
        (~long_, "Short entry", "triangle-down", DOWN),
    ):
        part = own[mask]
        if len(part):
            fig.add_trace(
                go.Scatter(
                    x=part["entry_time"],
                    y=part["entry_price"],
                    mode="markers",
                    name=name,
                    marker=dict(symbol=marker, size=10, color=color),
                ),
                1,
                1,
            )
    fig.add_trace(
        go.Scatter(
            x=own["exit_time"],
            y=own["exit_price"],
            mode="markers",
            name="Exit",
            marker=dict(symbol="x", size=9, color="#ffca28"),
            customdata=own["pnl_net"],
            hovertemplate="exit %{y:.2f}<br>P&L %{customdata:,.2f}",
        ),
        1,
        1,
    )
    return fig


def curves_figure(curves: dict[str, pd.Series], title: str = "Equity") -> go.Figure:
    """Several equity curves on one chart (runs compared)."""
    fig = go.Figure()
    for name, series in curves.items():
        series = thin_line(series)
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series.values,
                name=name,
                mode="lines",
                hovertemplate=HOVER_MONEY,
            )
        )
    fig.update_layout(title=title)
    return _layout(fig, 380)


def fan_figure(fan, levels, title: str = "Monte Carlo equity fan") -> go.Figure:
    """Quantile bands of simulated equity per step (5–95 % and 25–75 %), median line."""
    steps = list(range(fan.shape[0]))
    fig = go.Figure()
    for lo, hi, alpha in ((0, 4, 0.15), (1, 3, 0.3)):
        fig.add_trace(
            go.Scatter(
                x=steps, y=fan[:, hi], line=dict(width=0), showlegend=False, hoverinfo="skip"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=fan[:, lo],
                fill="tonexty",
                line=dict(width=0),
                fillcolor=f"rgba(66,165,245,{alpha})",
                name=f"{levels[lo]:.0%}–{levels[hi]:.0%}",
            )
        )
    fig.add_trace(go.Scatter(x=steps, y=fan[:, 2], name="median", line=dict(color=LINE)))
    fig.update_layout(title=title, xaxis_title="periods ahead")
    fig.update_yaxes(tickformat=",.0f", hoverformat=",.2f")
    return _layout(fig, 360)


def histogram_figure(values, title: str, percent: bool = False) -> go.Figure:
    fig = go.Figure(go.Histogram(x=values, nbinsx=60, marker_color=LINE))
    fig.update_layout(title=title, bargap=0.02, showlegend=False)
    if percent:
        fig.update_xaxes(tickformat=".0%", hoverformat=".2%")
    return _layout(fig, 280)


REGIME_COLORS = {"bull": UP, "bear": DOWN, "sideways": "#90a4ae", "high_volatility": "#ffb74d"}


def regime_name(label: object) -> str:
    """A regime label as a person reads it: ``high_volatility`` → ``high volatility``."""
    return str(label).replace("_", " ")


def regime_price_figure(close: pd.Series, regimes: pd.Series, title: str) -> go.Figure:
    """The close line coloured by the regime in force at each bar."""
    fig = go.Figure()
    aligned = regimes.reindex(close.index).ffill()
    for label in pd.unique(aligned.dropna()):
        segment = close.where((aligned == label) | (aligned.shift(-1) == label))
        fig.add_trace(
            go.Scatter(
                x=close.index,
                y=segment,
                mode="lines",
                name=regime_name(label),
                line=dict(color=REGIME_COLORS.get(label, LINE), width=1.5),
            )
        )
    fig.update_layout(title=title)
    fig.update_yaxes(type="log", hoverformat=",.2f")
    return _layout(fig, 420)


def probabilities_figure(probabilities: pd.DataFrame) -> go.Figure:
    """Filtered regime probabilities over time, stacked to 1."""
    fig = go.Figure()
    for label in probabilities.columns:
        fig.add_trace(
            go.Scatter(
                x=probabilities.index,
                y=probabilities[label],
                name=regime_name(label),
                stackgroup="p",
                mode="lines",
                line=dict(width=0.5),
                fillcolor=REGIME_COLORS.get(label),
                marker_color=REGIME_COLORS.get(label),
            )
        )
    fig.update_layout(title="Filtered probabilities (data up to each bar)", yaxis_range=[0, 1])
    fig.update_yaxes(tickformat=".0%", hoverformat=".1%")
    return _layout(fig, 260)


def heatmap_figure(
    matrix: pd.DataFrame,
    title: str,
    fmt: str = ".3f",
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    z_title: str = "value",
) -> go.Figure:
    """``matrix`` (rows → y, columns → x) as a heatmap with its values written in the cells.

    Numeric axes get a tick at each of the matrix's own row and column values (a grid of
    5, 9, 13 reads 5, 9, 13, not plotly's 4, 6, 8); the hover names both axes and the value.
    """
    x, y = _plain_values(matrix.columns), _plain_values(matrix.index)
    x_name, y_name = x_title or "x", y_title or "y"
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=x,
            y=y,
            colorscale="Blues",
            text=matrix.to_numpy(),
            texttemplate=f"%{{text:{fmt}}}",
            hovertemplate=f"{x_name} %{{x}}<br>{y_name} %{{y}}<br>{z_title} %{{z:{fmt}}}"
            "<extra></extra>",
            colorbar=dict(title=z_title),
        )
    )
    fig.update_layout(title=title)
    fig.update_xaxes(title=x_title, **_grid_ticks(x))
    fig.update_yaxes(title=y_title, autorange="reversed", **_grid_ticks(y))
    fig = _layout(fig, 320)
    fig.update_layout(hovermode="closest")
    return fig


def _plain_values(labels: pd.Index) -> list:
    """Index labels as Python values (numpy scalars unwrapped)."""
    return [v.item() if hasattr(v, "item") else v for v in labels]


def _grid_ticks(values: list) -> dict:
    """Ticks at exactly ``values`` when they are numbers (categories tick themselves)."""
    if not values or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    ):
        return {}
    text = [f"{v:g}" for v in values]
    return dict(tickmode="array", tickvals=values, ticktext=text)


def frontier_figure(
    frontier: pd.DataFrame, assets: pd.DataFrame, chosen: tuple[float, float], label: str
) -> go.Figure:
    """Efficient frontier (``volatility``, ``expected_return`` columns), the single assets
    and the chosen allocation, all annual."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frontier["volatility"],
            y=frontier["expected_return"],
            name="Efficient frontier",
            mode="lines+markers",
            line=dict(color=LINE),
            marker=dict(size=5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=assets["volatility"],
            y=assets["expected_return"],
            name="Assets",
            mode="markers+text",
            text=list(assets.index),
            textposition="top center",
            marker=dict(color="#9e9e9e", size=7),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[chosen[0]],
            y=[chosen[1]],
            name=label,
            mode="markers",
            marker=dict(color=UP, size=14, symbol="star"),
        )
    )
    fig.update_xaxes(title="Volatility (annual)", tickformat=".0%", hoverformat=".2%")
    fig.update_yaxes(title="Expected return (annual)", tickformat=".0%", hoverformat=".2%")
    fig = _layout(fig, 380)
    fig.update_layout(title="Efficient frontier", hovermode="closest")
    return fig


def risk_contribution_figure(weights: pd.Series, shares: pd.Series) -> go.Figure:
    """Each asset's weight beside its share of the portfolio volatility."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(weights.index), y=weights, name="Weight", marker_color=LINE))
    fig.add_trace(
        go.Bar(x=list(shares.index), y=shares, name="Share of volatility", marker_color=DOWN)
    )
    fig.update_layout(title="Risk contributions", barmode="group")
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%")
    fig = _layout(fig, 320)
    fig.update_layout(hovermode="x")
    return fig


def drawdown_bands_figure(frame: pd.DataFrame, warning: float, critical: float) -> go.Figure:
    """Drawdown below the running peak (from ``core.risk.drawdown_series``) over shaded
    normal / warning / critical bands."""
    fig = go.Figure()
    depth = _add_drawdown_bands(fig, frame["drawdown"], warning, critical)
    below = -thin_line(frame["drawdown"])
    fig.add_trace(
        go.Scatter(
            x=below.index,
            y=below,
            name="Drawdown",
            line_color=DOWN,
            fill="tozeroy",
            hovertemplate=HOVER_PCT,
        )
    )
    fig.update_layout(title="Drawdown and controller bands", showlegend=False)
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%", range=[-depth, 0.005])
    return _layout(fig, 300)


def equity_drawdown_bands_figure(
    equity: pd.DataFrame, warning: float, critical: float
) -> go.Figure:
    """Equity on top; below, the drawdown over the controller's normal, warning and critical
    bands (the paper console's chart).

    Parameters
    ----------
    equity : DataFrame with columns ``ts``, ``equity`` and ``drawdown``
        One row per snapshot; ``drawdown`` is the fraction below the running peak (≥ 0).
    warning, critical : float
        The drawdown controller's levels, as fractions (0.10 = 10 %).

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows sharing the time axis: equity, then the drawdown (negative) over the bands.
    """
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.05
    )
    by_time = equity.set_index("ts")
    value, below = thin_line(by_time["equity"]), -thin_line(by_time["drawdown"])
    fig.add_trace(
        go.Scatter(
            x=value.index,
            y=value,
            name="Equity",
            line=dict(color=LINE),
            hovertemplate=HOVER_MONEY,
        ),
        1,
        1,
    )
    # the drawdown trace first: hrects skip subplots that have no data yet
    fig.add_trace(
        go.Scatter(
            x=below.index,
            y=below,
            name="Drawdown",
            fill="tozeroy",
            line=dict(color=DOWN, width=1),
            hovertemplate=HOVER_PCT,
        ),
        2,
        1,
    )
    depth = _add_drawdown_bands(fig, equity["drawdown"], warning, critical, row=2, col=1)
    fig.update_yaxes(tickformat=",.0f", hoverformat=",.2f", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%", range=[-depth, 0.005], row=2, col=1)
    fig.update_layout(title="Equity, and drawdown against the controller's bands")
    return _layout(fig, 440)


def _add_drawdown_bands(
    fig: go.Figure, drawdown: pd.Series, warning: float, critical: float, **cell
) -> float:
    """Shade the normal, warning and critical drawdown bands (drawn as negative returns) on
    ``fig`` (in the subplot ``cell``, row=/col=, when given); the depth of the last band."""
    depth = max(float(drawdown.max()) * 1.1, critical * 1.25)
    for low, high, color, name in (
        (0.0, warning, "rgba(38,166,154,0.12)", "normal"),
        (warning, critical, "rgba(255,167,38,0.18)", "warning"),
        (critical, depth, "rgba(239,83,80,0.18)", "critical"),
    ):
        fig.add_hrect(
            y0=-low,
            y1=-high,
            fillcolor=color,
            line_width=0,
            layer="below",
            annotation_text=name,
            annotation_position="bottom left",
            **cell,
        )
    return depth
