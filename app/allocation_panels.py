"""Allocation page panels: the request form, the cached computation, results, applying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from app import charts, widgets
from app import format as fmt
from core.allocation import (
    METHODS,
    AllocationError,
    AllocationResult,
    AllocationSpec,
    GroupCap,
    allocate,
    apply_to_portfolio,
    efficient_frontier,
    estimate,
    load_prices,
)
from core.errors import REFUSALS
from core.workstation import Workstation

DEFAULT_SYMBOLS = ("AAPL", "JNJ", "KO", "MSFT", "XOM")
LABELS = {
    "equal": "Equal weight",
    "inverse_vol": "Inverse volatility",
    "min_variance": "Minimum variance",
    "mean_variance": "Mean-variance",
    "max_sharpe": "Maximum Sharpe",
    "risk_parity": "Risk parity (equal risk contributions)",
    "min_cvar": "Minimum CVaR 95 %",
    "hrp": "Hierarchical risk parity",
}


DEFAULT_WINDOW = (date(2018, 1, 1), date(2022, 12, 30))


@dataclass(frozen=True)
class Request:
    symbols: tuple[str, ...]
    start: date
    end: date
    spec: AllocationSpec


@dataclass(frozen=True)
class Outcome:
    result: AllocationResult
    frontier: pd.DataFrame  # expected_return, volatility, sharpe per point
    assets: pd.DataFrame  # expected_return, volatility per symbol (index)


def request_form(ws: Workstation) -> Request | None:
    """Symbols, window, method and constraints; None (with the reason shown) if unusable."""
    available = list(ws.market.symbols()["symbol"])
    symbols = st.multiselect("Symbols", available, default=list(DEFAULT_SYMBOLS), key="al_symbols")
    start, end = _dates(ws, symbols)
    method = st.selectbox(
        "Method",
        METHODS,
        index=METHODS.index("max_sharpe"),
        format_func=LABELS.get,
        key="al_method",
    )
    params: dict = {"method": method}
    if method == "mean_variance":
        params.update(_mean_variance_inputs())
    params["max_weight"] = st.number_input(
        "Max weight per asset", 0.01, 1.0, 1.0, 0.05, key="al_max_weight"
    )
    params["risk_free_rate"] = st.number_input(
        "Risk-free rate (annual)", -0.05, 0.2, 0.0, 0.005, format="%.3f", key="al_rf"
    )
    if st.checkbox("Ledoit-Wolf shrinkage of the covariance", key="al_shrink"):
        params["shrinkage"] = "ledoit_wolf"
    groups = st.text_area(
        "Group caps (optional, one per line)",
        placeholder="staples=KO,PEP,PG:0.3",
        key="al_groups",
        help="NAME=SYMBOL,SYMBOL:CAP — at most CAP of the portfolio in those symbols together",
    )
    try:
        params["group_caps"] = tuple(GroupCap.parse(g) for g in groups.splitlines() if g.strip())
        spec = AllocationSpec(**params)
    except REFUSALS as exc:  # a group cap's or the spec's (pydantic) refusal
        widgets.show_error(exc)
        return None
    if not symbols:
        st.info("Choose at least one symbol.")
        return None
    return Request(tuple(symbols), start, end, spec)


def _dates(ws: Workstation, symbols: list[str]) -> tuple[date, date]:
    """From/To within the chosen symbols' common history (reset when the choice changes)."""
    catalogue = ws.market.symbols().set_index("symbol")
    chosen = catalogue.loc[symbols] if symbols else catalogue
    first, last = max(chosen["start"]).date(), min(chosen["end"]).date()
    if first > last:  # no common history: let the service refuse the request with its reason
        first, last = min(chosen["start"]).date(), max(chosen["end"]).date()
    return widgets.history_dates(
        first, last, ("al_start", "al_end"), tuple(symbols), DEFAULT_WINDOW
    )


def _mean_variance_inputs() -> dict:
    goal = st.radio(
        "Objective", ["Risk aversion", "Target return"], horizontal=True, key="al_mv_goal"
    )
    if goal == "Target return":
        return {
            "target_return": st.number_input(
                "Target return (annual)", -1.0, 5.0, 0.15, 0.01, key="al_target"
            )
        }
    return {
        "risk_aversion": st.number_input(
            "Risk aversion δ (max μᵀw − δ/2·wᵀΣw)", 0.01, 100.0, 1.0, 0.5, key="al_delta"
        )
    }


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Optimising…")
def _outcome(_ws: Workstation, symbols: tuple[str, ...], start, end, spec_json: str) -> Outcome:
    spec = AllocationSpec.model_validate_json(spec_json)
    prices = load_prices(_ws.market, symbols, start, end)
    result = allocate(prices, spec)
    moments = estimate(prices, spec.shrinkage)
    points = efficient_frontier(moments, spec, n_points=25)
    frontier = pd.DataFrame([p.model_dump(exclude={"weights"}) for p in points])
    assets = pd.DataFrame(
        {"expected_return": moments.mu, "volatility": moments.cov.diagonal() ** 0.5},
        index=list(moments.symbols),
    )
    return Outcome(result, frontier, assets)


def compute(ws: Workstation, request: Request) -> Outcome | None:
    try:
        return _outcome(
            ws, request.symbols, request.start, request.end, request.spec.model_dump_json()
        )
    except AllocationError as exc:
        widgets.show_error(exc)
        return None


def results_view(outcome: Outcome) -> None:
    result = outcome.result
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Expected return", f"{result.expected_return:.2%}", help="annual, mean daily × 252")
    c2.metric("Volatility", f"{result.volatility:.2%}", help="annual, sample covariance × 252")
    c3.metric("Sharpe", f"{result.sharpe:.2f}")
    c4.metric("CVaR 95 %", f"{result.cvar_95:.2%}", help="daily historical; positive = loss")
    st.caption(
        f"{LABELS[result.method]} on {result.n_returns} daily returns, "
        f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}."
    )
    weights = pd.Series(result.weights)
    shares = pd.Series(result.risk_contributions) / (result.volatility or 1.0)
    left, right = st.columns([1, 1.6])
    with left:
        table = pd.DataFrame(
            {"symbol": weights.index, "weight": weights.values, "risk_share": shares.values}
        )
        fmt.dataframe(
            table,
            hide_index=True,
            key="al_weights",
            column_config={
                "symbol": "Symbol",
                "weight": st.column_config.NumberColumn("Weight", format="percent"),
                "risk_share": st.column_config.NumberColumn("Share of risk", format="percent"),
            },
        )
    with right:
        chosen = (result.volatility, result.expected_return)
        st.plotly_chart(
            charts.frontier_figure(outcome.frontier, outcome.assets, chosen, LABELS[result.method]),
            key="al_frontier",
        )
    st.plotly_chart(charts.risk_contribution_figure(weights, shares), key="al_risk")


def apply_panel(ws: Workstation, result: AllocationResult) -> None:
    st.subheader("Apply to a portfolio")
    names = ws.portfolios.names()
    if not names:
        st.info("No portfolio yet: create one on the Portfolio Lab page.")
        return
    c1, c2 = st.columns([2, 1])
    name = c1.selectbox("Portfolio", names, key="al_portfolio")
    c2.write("")
    if c2.button("Apply to portfolio", key="al_apply", type="primary"):
        try:
            applied = apply_to_portfolio(ws.portfolios, name, result)
        except REFUSALS as exc:
            widgets.show_error(exc)
            return
        listed = ", ".join(f"{s} {w:.1%}" for s, w in applied.items() if w > 0)
        st.success(widgets.plain(f"Target weights of {name!r} set: {listed}"))
