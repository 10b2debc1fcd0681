"""Regimes page panels: the cached fit, the state table, per-regime strategy performance."""

from __future__ import annotations

import streamlit as st

from app import charts
from app import format as fmt
from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig
from core.regimes import RegimeAnalysis, analyze, performance_by_regime
from core.strategies import registry
from core.workstation import Workstation


@st.cache_data(max_entries=16, show_spinner="Fitting the hidden Markov model…")
def _analysis(
    _ws: Workstation, symbol: str, n_states: int, seed: int, starts: int
) -> RegimeAnalysis:
    return analyze(_ws.market.bars(symbol)["close"], n_states=n_states, seed=seed, n_starts=starts)


def fit(ws: Workstation, symbol: str, n_states: int, seed: int, starts: int) -> RegimeAnalysis:
    return _analysis(ws, symbol, n_states, seed, starts)


def state_names(analysis: RegimeAnalysis) -> dict[str, str]:
    """Each state's label with its fitted annual mean and volatility beside it, so that a
    label can be checked against the state it names: ``bull (mean +23.1 %, vol 8.7 %)``."""
    return {
        row.label: f"{charts.regime_name(row.label)} "
        f"(mean {fmt.pct(row.mean_annual, signed=True)}, vol {fmt.pct(row.vol_annual)})"
        for row in analysis.states.itertuples()
    }


def current_view(analysis: RegimeAnalysis) -> None:
    """The regime now and each state's filtered probability, named with its mean and vol."""
    names = state_names(analysis)
    probs = analysis.filtered.iloc[-1]
    cols = st.columns([1.5] + [1] * len(probs))  # room for "high volatility" at 1280 px
    cols[0].metric(
        "Current regime",
        charts.regime_name(analysis.current),
        help=f"Most probable state, filtered: {names[analysis.current]}",
    )
    for col, (label, p) in zip(cols[1:], probs.items(), strict=True):
        col.metric(f"P({charts.regime_name(label)})", fmt.pct(p), help=names[label])
    st.caption(" · ".join(names.values()) + " (annualised, fitted per state)")


def transition_figure(analysis: RegimeAnalysis):
    """The transition matrix: rows ("from") name each state by its label, mean and volatility,
    columns ("to") by its label alone (the long names on both axes left the cells no room)."""
    names = state_names(analysis)
    short = {label: charts.regime_name(label) for label in names}
    matrix = analysis.transition.rename(index=names, columns=short)
    return charts.heatmap_figure(
        matrix,
        "Transition matrix (per bar)",
        fmt=".1%",
        x_title="to",
        y_title="from",
        z_title="probability",
    )


def state_table(analysis: RegimeAnalysis) -> None:
    fmt.dataframe(
        analysis.states.assign(label=analysis.states["label"].map(charts.regime_name)),
        hide_index=True,
        key="rg_states_table",
        column_config={
            "label": "Regime",
            "mean_annual": st.column_config.NumberColumn("Mean (ann.)", format="percent"),
            "vol_annual": st.column_config.NumberColumn("Volatility (ann.)", format="percent"),
            "expected_duration": st.column_config.NumberColumn(
                "Duration (bars)", format="%.1f", help="expected: 1 / (1 − p(stay))"
            ),
            "share": st.column_config.NumberColumn("Share of bars", format="percent"),
        },
    )


def performance_view(ws: Workstation, symbol: str, analysis: RegimeAnalysis) -> None:
    """A strategy's daily returns split by the regime in force (Viterbi, descriptive)."""
    st.subheader("Strategy performance by regime")
    names = [n for n, cls in registry().items() if not cls.multi_asset]
    strategy = st.selectbox(
        "Strategy (default parameters, 0.1 % commission)",
        names,
        index=names.index("sma_crossover"),
        key="rg_strategy",
    )
    config = BacktestConfig(
        strategy=strategy,
        symbols=(symbol,),
        execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
    )
    result = ws.backtests.run(config, save=False)
    table = performance_by_regime(result.returns, analysis.viterbi, analysis.periods_per_year)
    fmt.dataframe(
        table.assign(regime=table["regime"].map(charts.regime_name)),
        hide_index=True,
        key="rg_perf",
        column_config={
            "mean_annual": st.column_config.NumberColumn("Mean (ann.)", format="percent"),
            "vol_annual": st.column_config.NumberColumn("Volatility (ann.)", format="percent"),
            "sharpe": st.column_config.NumberColumn("Sharpe", format="%.2f"),
            "total_return": st.column_config.NumberColumn("Compounded return", format="percent"),
        },
    )
