"""The stress use case on a stored portfolio: its holdings at the last known prices, shocked.

:class:`WhatIfService` reads two narrow façades, the portfolios (positions and cash) and
the market (asset classes); it never sees the database or the workstation. The shock itself
is the pure :func:`~core.whatif.stress_portfolio`.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from core.whatif._spotvol import DEFAULT_SPOT_SHOCKS, DEFAULT_VOL_SHOCKS, spot_vol_grid
from core.whatif._stress import StressResult, StressScenario, stress_portfolio


class _Ledger(Protocol):
    cash: float


class PortfolioReader(Protocol):
    """What the stress use case reads of the portfolios (``PortfolioService`` fits)."""

    def positions(self, name: str) -> pd.DataFrame: ...

    def ledger(self, name: str) -> _Ledger: ...

    def greeks(self, name: str) -> dict: ...


class InstrumentReader(Protocol):
    """What the stress use case reads of the market (``MarketDataService`` fits)."""

    def instruments(self) -> list: ...


class WhatIfService:
    """Stress scenarios on stored portfolios, marked at the last known prices."""

    def __init__(self, portfolios: PortfolioReader, market: InstrumentReader):
        self._portfolios = portfolios
        self._market = market

    def stress(self, name: str, scenario: StressScenario) -> StressResult:
        """The instant P&L of ``scenario`` on portfolio ``name``; see :func:`stress_portfolio`."""
        positions = self._portfolios.positions(name)
        classes = {i.symbol: str(i.asset_class) for i in self._market.instruments()}
        held = {r.symbol: (r.market_value, classes.get(r.symbol)) for r in positions.itertuples()}
        return stress_portfolio(held, self._portfolios.ledger(name).cash, scenario)

    def spot_vol(
        self, name: str, spot_shocks=DEFAULT_SPOT_SHOCKS, vol_shocks=DEFAULT_VOL_SHOCKS
    ) -> pd.DataFrame:
        """P&L of portfolio ``name`` with spot and volatility shocked together.

        See :func:`spot_vol_grid` (options repriced in full, the rest by its dollar delta).
        """
        positions = self._portfolios.greeks(name)["positions"]
        return spot_vol_grid(positions, spot_shocks, vol_shocks)
