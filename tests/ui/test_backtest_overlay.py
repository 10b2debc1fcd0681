"""The Backtest page's risk overlay: off by default; on, the run equals the overlay's backtest
(and a paper session with the same flags) and the page says the overlay was on."""

from __future__ import annotations

from core.backtest import BacktestConfig, RiskOverlay
from core.execution import CommissionModel, ExecutionConfig


def test_the_backtest_page_runs_with_the_drawdown_controller(app):
    at = app("backtest")
    assert at.checkbox(key="bt_drawdown").value is False
    at.checkbox(key="bt_drawdown").check()
    at.button(key="bt_run").click().run()
    assert not at.exception, at.exception
    from app.services import workstation

    expected = workstation().backtests.run(
        BacktestConfig(
            strategy="sma_crossover",
            params={"fast": 10, "slow": 50, "long_short": False},
            symbols=("SPX",),
            start="1999-01-04",
            end="2018-12-31",
            execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
            risk=RiskOverlay(drawdown=True),
        ),
        save=False,
    )
    chart = next(t for t in at.tabs if t.label == "Chart")
    metrics = {m.label: m.value for m in chart.metric}
    assert metrics["Final equity"] == f"{expected.final_equity:,.0f}"
    assert any("Risk overlay on · drawdown controller" in c.value for c in chart.caption)
