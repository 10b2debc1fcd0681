"""Backtest page panels: the run form (built from the strategy's parameters model) and the
result views. Each reads widgets, calls core and renders."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app import charts, widgets
from app import format as fmt
from app.format import unsigned_zero
from app.param_form import param_inputs
from core.backtest import BacktestConfig, BacktestResult, RiskOverlay
from core.errors import REFUSALS
from core.execution import (
    MAX_COMMISSION_RATE,
    ExecutionConfig,
    ExecutionConfigError,
    execution_config,
)
from core.strategies import get_strategy, registry
from core.workstation import Workstation

RESULT = "bt_result"
PERCENT_KEYS = {
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "var_95",
    "cvar_95",
    "var_99",
    "cvar_99",
    "win_rate",
    "exposure",
}
METRIC_LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "volatility": "Volatility (ann.)",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "max_drawdown": "Max drawdown",
    "calmar": "Calmar",
    "var_95": "VaR 95%",
    "cvar_95": "CVaR 95%",
    "var_99": "VaR 99%",
    "cvar_99": "CVaR 99%",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "average_trade": "Average trade",
    "exposure": "Exposure",
    "turnover": "Turnover (ann.)",
    "n_trades": "Trades",
}


def run_form(ws: Workstation) -> BacktestConfig | None:
    """The strategy, data, parameter and cost inputs; a config when Run is pressed."""
    names = list(registry())
    strategy = st.selectbox(
        "Strategy",
        names,
        index=names.index("sma_crossover"),
        key="bt_strategy",
        format_func=lambda n: registry()[n].label or n,
    )
    cls = get_strategy(strategy)
    st.caption((cls.__doc__ or "").strip())
    symbols = list(ws.market.symbols()["symbol"])
    if cls.multi_asset:
        chosen = st.multiselect(
            "Instruments", symbols, default=["AAPL", "MSFT", "JNJ", "XOM"], key="bt_symbols"
        )
    else:
        chosen = [st.selectbox("Instrument", symbols, index=symbols.index("SPX"), key="bt_symbol")]
    start, end = _date_range(ws, chosen)
    with st.form("bt_form", border=False):
        st.markdown("**Parameters**")
        raw = param_inputs(cls.Params, f"bt_{strategy}")
        execution, cash = _execution_inputs()
        risk = risk_overlay_inputs()
        submitted = st.form_submit_button(
            "Run backtest", type="primary", width="stretch", key="bt_run"
        )
    if not submitted or execution is None:
        return None
    try:
        params = cls.Params.model_validate(raw)
    except ValidationError as exc:  # "parameters: fast: Input should be ..." without URLs
        widgets.show_error(exc, where="parameters")
        return None
    try:
        return BacktestConfig(
            strategy=strategy,
            params=params.model_dump(),
            symbols=tuple(chosen),
            start=start,
            end=end,
            cash=cash,
            execution=execution,
            risk=risk,
        )
    except ValidationError as exc:
        widgets.show_error(exc, where="backtest")
        return None


def _date_range(
    ws: Workstation, symbols: list[str], prefix: str = "bt"
) -> tuple[date | None, date | None]:
    if not symbols:
        return None, None
    catalogue = ws.market.symbols().set_index("symbol").loc[symbols]
    first, last = max(catalogue["start"]).date(), min(catalogue["end"]).date()
    keys = (f"{prefix}_start", f"{prefix}_end")
    return widgets.history_dates(first, last, keys, tuple(symbols))


def _execution_inputs(prefix: str = "bt") -> tuple[ExecutionConfig | None, float]:
    """The cost, fill and sizing inputs; the execution config is None (and the reason shown)
    while they do not make one."""
    with st.expander("Costs, fills and sizing"):
        cash = st.number_input(
            "Starting cash", min_value=1.0, value=100_000.0, step=10_000.0, key=f"{prefix}_cash"
        )
        commission = st.number_input(
            "Commission (% of notional)",
            min_value=0.0,
            max_value=MAX_COMMISSION_RATE * 100,
            value=0.1,
            step=0.05,
            key=f"{prefix}_commission",
        )
        slippage = st.number_input(
            "Slippage (bp)", min_value=0.0, value=0.0, step=1.0, key=f"{prefix}_slippage"
        )
        fill = st.radio(
            "Market orders fill at",
            ["next_open", "same_close"],
            horizontal=True,
            key=f"{prefix}_fill",
            format_func=lambda x: "next open" if x == "next_open" else "same close",
        )
        sizing = st.selectbox(
            "Sizing", ["all_in", "percent", "fixed", "vol_target", "kelly"], key=f"{prefix}_sizing"
        )
        size = st.number_input(
            "Size (units for fixed, share of equity for percent)",
            min_value=0.0001,
            value=1.0,
            key=f"{prefix}_size",
        )
        allow_short = st.checkbox("Allow short selling", value=True, key=f"{prefix}_short")
    try:
        execution = execution_config(
            fill_timing=fill,
            commission=commission / 100,
            slippage_bps=slippage,
            sizing=sizing,
            size=size if sizing in ("fixed", "percent") else None,
            allow_short=allow_short,
        )
    except ExecutionConfigError as exc:  # e.g. a percent size above 10 (1,000 % of equity)
        widgets.show_error(exc)
        return None, cash
    return execution, cash


def run(ws: Workstation, config: BacktestConfig) -> BacktestResult | None:
    bar = st.progress(0.0, text="Running backtest…")
    try:
        result = ws.backtests.run(
            config, progress=lambda f: bar.progress(min(f, 1.0), text=f"Running… {f:.0%}")
        )
    except REFUSALS as exc:
        bar.empty()
        widgets.show_error(exc)
        return None
    bar.empty()
    st.session_state[RESULT] = result
    return result


def metrics_table(metrics: dict[str, float]) -> pd.DataFrame:
    rows = [(METRIC_LABELS[k], _fmt(k, v)) for k, v in metrics.items() if k in METRIC_LABELS]
    return pd.DataFrame(rows, columns=["Metric", "Value"])


def _fmt(key: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key == "n_trades":
        return f"{int(value)}"
    if key in PERCENT_KEYS:
        text = f"{value:.2%}"
    else:
        text = f"{value:,.2f}" if key == "average_trade" else f"{value:.3f}"
    return unsigned_zero(text)  # "-0.00%" reads as a loss


def result_overview(ws: Workstation, result: BacktestResult) -> None:
    m = result.metrics
    cols = st.columns([1.4, 1, 0.95, 1.35, 0.5])  # by width: fifths cut "-35.49%" at 1280 px
    cols[0].metric("Final equity", f"{result.final_equity:,.0f}", f"{m['total_return']:+.2%}")
    cols[1].metric("CAGR", _fmt("cagr", m["cagr"]))
    cols[2].metric("Sharpe", _fmt("sharpe", m["sharpe"]))
    cols[3].metric("Max drawdown", _fmt("max_drawdown", m["max_drawdown"]))
    cols[4].metric("Trades", _fmt("n_trades", m["n_trades"]))
    if result.config.risk.active:
        st.caption(f":material/shield: Risk overlay on · {result.config.risk.describe()}")
    symbol = (
        result.trades["symbol"].iloc[0]
        if len(result.trades)
        else (result.config.symbols or ("",))[0]
    )
    if symbol and ws.market.has_symbol(symbol):
        bars = ws.market.bars(symbol, result.equity.index[0], result.equity.index[-1])
        from core.marketdata import has_ohlc

        fig = charts.price_figure(bars, symbol, candles=has_ohlc(bars) and len(bars) <= 1500)
        st.plotly_chart(charts.add_trade_markers(fig, result.trades, symbol), key="bt_price")
    st.plotly_chart(
        charts.equity_figure(result.equity.to_frame("equity"), "Equity and drawdown"),
        key="bt_equity",
    )


def trades_view(result: BacktestResult) -> None:
    rebalances = result.extra.get("rebalances")
    if rebalances is not None and len(rebalances):
        with st.expander(f"Rebalances ({len(rebalances)})"):
            fmt.dataframe(
                rebalances,
                hide_index=True,
                key="bt_rebalances",
                column_config={
                    "max_drift": st.column_config.NumberColumn("Largest drift", format="percent"),
                    "est_cost": st.column_config.NumberColumn("Est. cost", format="%,.2f"),
                },
            )
    trades = result.trades
    if trades.empty:
        st.info("No completed trades.")
        return
    times = pd.concat([trades["entry_time"], trades["exit_time"]]).dropna()
    daily = bool((times == times.dt.normalize()).all())  # daily bars: no 00:00:00 on every row
    when = "YYYY-MM-DD" if daily else "YYYY-MM-DD HH:mm"
    fmt.dataframe(
        trades.drop(columns=["entry_bar", "exit_bar"]),
        hide_index=True,
        key="bt_trades",
        column_config={
            "symbol": st.column_config.TextColumn("Symbol"),
            "direction": st.column_config.TextColumn("Side"),
            "entry_time": st.column_config.DatetimeColumn("Entry", format=when),
            "exit_time": st.column_config.DatetimeColumn("Exit", format=when),
            "qty": st.column_config.NumberColumn("Qty", format="%.8g"),
            "entry_price": st.column_config.NumberColumn("Entry price", format="%,.2f"),
            "exit_price": st.column_config.NumberColumn("Exit price", format="%,.2f"),
            "pnl": st.column_config.NumberColumn("P&L", format="%,.2f"),
            "pnl_net": st.column_config.NumberColumn("P&L net", format="%,.2f"),
            "commission": st.column_config.NumberColumn("Commission", format="%,.2f"),
            "status": st.column_config.TextColumn("Status"),
        },
    )
    st.download_button(
        "Download trades (CSV)",
        trades.to_csv(index=False),
        f"trades-{result.run_id}.csv",
        "text/csv",
        key="bt_dl_trades",
    )


def compare_view(ws: Workstation, shown: bool = True) -> None:
    """Pick saved runs; their metrics and curves when ``shown`` (the tab is open)."""
    runs = ws.backtests.runs()
    if runs.empty:
        st.info("Saved runs appear here after you run a backtest.")
        return
    labels = {r.id: f"{r.name} · {r.params} · {r.id[:6]}" for r in runs.itertuples()}
    chosen = st.multiselect(
        "Runs to compare",
        list(labels),
        default=list(labels)[:2],
        format_func=labels.get,
        key="bt_compare",
    )
    if not chosen or not shown:
        return
    fmt.dataframe(compare_table(ws.backtests.compare(chosen)), key="bt_compare_table")
    curves = {labels[r][:40]: ws.backtests.load_run(r)["equity"] for r in chosen}
    st.plotly_chart(charts.curves_figure(curves), key="bt_compare_chart")


def compare_table(table: pd.DataFrame) -> pd.DataFrame:
    """Metrics (rows) × runs, each value formatted by its metric (a column mixes kinds)."""
    shown = pd.DataFrame(
        {run: [_fmt(key, value) for key, value in col.items()] for run, col in table.items()},
        index=[METRIC_LABELS.get(key, key) for key in table.index],
    )
    return shown


def montecarlo_view(result: BacktestResult) -> None:
    """Resample the run's daily returns (or its trades) into many possible futures."""
    from core.whatif import MonteCarloConfig, monte_carlo_trades, run_monte_carlo

    c1, c2, c3, c4 = st.columns(4)
    source = c1.radio("Resample", ["daily returns", "trades"], key="mc_source")
    method = c2.selectbox(
        "Method",
        ["bootstrap", "block_bootstrap", "normal", "student_t"],
        key="mc_method",
        disabled=source == "trades",
    )
    paths = c3.number_input("Paths", 100, 50_000, 10_000, step=1000, key="mc_paths")
    horizon = c4.number_input("Horizon (periods)", 5, 2520, 252, step=21, key="mc_horizon")
    seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="mc_seed")
    if not st.button("Run Monte Carlo", key="mc_run"):
        return
    equity = result.final_equity
    try:
        if source == "trades":
            config = MonteCarloConfig(
                method="bootstrap", n_paths=paths, horizon=horizon, seed=seed, initial_equity=equity
            )
            mc = monte_carlo_trades(result.trades["pnl_net"].to_numpy(), None, config)
        else:
            config = MonteCarloConfig(
                method=method, n_paths=paths, horizon=horizon, seed=seed, initial_equity=equity
            )
            mc = run_monte_carlo(result.returns.to_numpy(), config)
    except REFUSALS as exc:
        widgets.show_error(exc)
        return
    cols = st.columns(4)
    cols[0].metric("P(profit)", f"{mc.probability_of_profit:.1%}")
    cols[1].metric("Median return", f"{mc.median_return:+.2%}")
    cols[2].metric("VaR 95% (horizon)", f"{mc.var_95:+.2%}")
    cols[3].metric("CVaR 95% (horizon)", f"{mc.cvar_95:+.2%}")
    st.plotly_chart(charts.fan_figure(mc.fan, mc.fan_levels), key="mc_fan")
    left, right = st.columns(2)
    left.plotly_chart(charts.histogram_figure(mc.final_equity, "Final equity"), key="mc_final")
    right.plotly_chart(
        charts.histogram_figure(mc.max_drawdowns, "Max drawdown", percent=True), key="mc_dd"
    )


def stress_view(result: BacktestResult, shown: bool = True) -> None:
    """Replay the run's returns through a historical or user-defined shock (worked out and
    drawn when ``shown``: the tab is open; its inputs always keep their values)."""
    from core.whatif import STRESS_SCENARIOS, StressScenario, stress_equity

    names = [*STRESS_SCENARIOS, "custom"]
    name = st.selectbox(
        "Scenario",
        names,
        key="st_scenario",
        format_func=lambda n: (
            widgets.scenario_label(STRESS_SCENARIOS[n]) if n in STRESS_SCENARIOS else "Custom…"
        ),
    )
    if name == "custom":
        c1, c2, c3, c4 = st.columns(4)
        scenario = StressScenario(
            name="custom",
            description="user-defined",
            price_shock=c1.number_input("Price shock", -0.99, 1.0, -0.2, 0.01, key="st_shock"),
            shock_days=c2.number_input("Over days", 1, 500, 20, key="st_days"),
            vol_multiplier=c3.number_input("Vol ×", 0.1, 10.0, 2.0, 0.1, key="st_vol"),
            duration_days=c4.number_input("Vol lasts days", 1, 1000, 60, key="st_duration"),
        )
    else:
        scenario = STRESS_SCENARIOS[name]
        st.caption(scenario.description)
    if not shown:
        return
    stressed = stress_equity(result.equity.to_numpy(), scenario, seed=0)
    index = result.equity.index
    extra = len(stressed.equity) - len(index)
    if extra > 0:  # the stress window outlasts the run: continue on business days
        index = index.append(pd.bdate_range(index[-1] + pd.Timedelta(days=1), periods=extra))
    curve = pd.Series(stressed.equity, index=index[: len(stressed.equity)])
    cols = st.columns(3)
    cols[0].metric(
        "Stressed final equity",
        f"{curve.iloc[-1]:,.0f}",
        f"{curve.iloc[-1] / result.final_equity - 1:+.2%}",
    )
    cols[1].metric("Stressed max drawdown", f"{stressed.max_drawdown:.2%}")
    cols[2].metric("Original max drawdown", f"{result.metrics['max_drawdown']:.2%}")
    st.plotly_chart(
        charts.curves_figure({"original": result.equity, scenario.name: curve}, "Stressed equity"),
        key="st_chart",
    )


# -- the risk overlay (shared with paper sessions; off by default in both) ---------------------
def risk_overlay_inputs(prefix: str = "bt") -> RiskOverlay:
    """The drawdown controller and pre-trade checks, as ``paper run`` and ``backtest`` take them."""
    with st.expander("Risk overlay (off)"):
        left, right = st.columns(2)
        drawdown = left.checkbox("Drawdown controller", value=False, key=f"{prefix}_drawdown")
        scale = left.slider(
            "Scale once critical (20 % below the peak)", 0.0, 1.0, 0.5, 0.05, key=f"{prefix}_scale"
        )
        checks = right.checkbox("Pre-trade checks (default limits)", key=f"{prefix}_checks")
    return RiskOverlay(drawdown=drawdown, critical_scale=scale, pre_trade=checks)
