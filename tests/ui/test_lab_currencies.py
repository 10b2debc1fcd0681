"""Portfolio Lab: a multi-currency portfolio shows its cash per currency and the P&L split."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from core.workstation import Workstation


def test_lab_shows_cash_per_currency_and_the_split(app):
    ws = Workstation.open(os.environ["WORKSTATION_DATABASE_URL"], seed_demo=False)
    try:
        ws.portfolios.create("A multi", 1_000.0, created_at=datetime(2020, 1, 1))
        ws.portfolios.exchange("A multi", "USD", 500.0, "EUR", rate=0.8, ts=datetime(2020, 6, 1))
        summary = ws.portfolios.summary("A multi")
    finally:
        ws.close()
    at = app("portfolio_lab")
    at.selectbox(key="lab_portfolio").set_value("A multi").run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe if "currency" in d.value.columns)
    assert dict(zip(shown["currency"], shown["cash"], strict=True)) == pytest.approx(
        {"USD": 500.0, "EUR": 400.0}
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["FX P&L (USD)"] == f"{summary.fx_pnl:,.2f}"
    assert metrics["Asset P&L (USD)"] == "0.00"
    assert any("are SYNTHETIC, not market data" in c.value for c in at.caption)
