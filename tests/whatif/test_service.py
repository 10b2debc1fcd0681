"""The stress use case on a stored portfolio: given only the portfolios and the market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pytest

from core.instruments import AssetClass
from core.whatif import StressScenario, WhatIfService

CRASH = StressScenario(name="crash", price_shock=-0.20, asset_class_shocks={"crypto": -0.50})


@dataclass
class _Instrument:
    symbol: str
    asset_class: AssetClass


class _Portfolios:
    """A read-only portfolio façade: positions and cash, nothing else."""

    def positions(self, name: str) -> pd.DataFrame:
        assert name == "P"
        return pd.DataFrame({"symbol": ["AAPL", "BTC"], "market_value": [10_000.0, 4_000.0]})

    def ledger(self, name: str):
        return type("Ledger", (), {"cash": 1_000.0})()


class _Market:
    def instruments(self) -> list[_Instrument]:
        return [_Instrument("AAPL", AssetClass.STOCK), _Instrument("BTC", AssetClass.CRYPTO)]


def test_stress_reads_positions_cash_and_asset_classes_from_its_facades():
    result = WhatIfService(_Portfolios(), _Market()).stress("P", CRASH)
    # AAPL 10,000 × -20 % = -2,000; BTC (crypto) 4,000 × -50 % = -2,000; cash 1,000 stays
    assert result.positions["AAPL"].pnl == pytest.approx(-2_000.0)
    assert result.positions["BTC"].shock == -0.50
    assert result.total_pnl == pytest.approx(-4_000.0)
    assert result.equity_before == pytest.approx(15_000.0)
    assert result.total_return == pytest.approx(-4_000.0 / 15_000.0)


def test_stress_of_a_stored_portfolio_at_last_prices(ws, raw_closes):
    bought = datetime(2020, 1, 2, 16)
    ws.portfolios.create("S", 50_000.0, created_at=bought)
    ws.portfolios.trade("S", "KO", "buy", 100, 50.0, ts=bought, client_order_id="k")
    value = 100 * raw_closes._closes["KO"][-1]

    result = ws.whatif.stress("S", CRASH)

    assert result.total_pnl == pytest.approx(-0.20 * value)
    assert result.equity_before == pytest.approx(45_000.0 + value)
    assert ws.stress_portfolio("S", CRASH) == result  # the workstation's delegate
