"""The Backtest page's risk overlay: off by default; on, the run equals the overlay's backtest
(and a paper session with the same flags) and the page says the overlay was on."""

from __future__ import annotations

from core.backtest import RiskOverlay
from tests.ui.backtest_defaults import page_default_config


def test_the_backtest_page_runs_with_the_drawdown_controller(app):
    at = app("backtest")
    assert at.checkbox(key="bt_drawdown").value is False
    at.checkbox(key="bt_drawdown").check()
    at.button(key="bt_run").click().run()
    assert not at.exception, at.exception
    from app.services import workstation

    expected = workstation().backtests.run(
        page_default_config(risk=RiskOverlay(drawdown=True)), save=False
    )
    chart = next(t for t in at.tabs if t.label == "Chart")
    metrics = {m.label: m.value for m in chart.metric}
    assert metrics["Final equity"] == f"{expected.final_equity:,.0f}"
    assert any("Risk overlay on · drawdown controller" in c.value for c in chart.caption)
