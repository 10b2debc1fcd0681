"""The composition root: one object graph for the command line, the app and tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from core.backtest._service import BacktestService
from core.config import Settings
from core.db import MetaRow, create_db_engine, session_factory, upgrade
from core.instruments import bundled_instruments
from core.instruments import repository as instruments
from core.marketdata._service import MarketDataService
from core.portfolio import (
    LabFormatError,
    LabPortfolio,
    LabService,
    PortfolioService,
    export_document,
)
from core.whatif import StressScenario, stress_portfolio


class Workstation:
    """Database, market data and portfolios, wired once from settings."""

    def __init__(
        self, settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
    ):
        self.settings = settings or Settings()
        self.engine = create_db_engine(self.settings.database_url)
        self.sessions = session_factory(self.engine)
        self.market = MarketDataService(self.sessions, allow_network=self.settings.allow_network)
        clocked = {"clock": clock} if clock else {}  # naive UTC now; tests pass a fixed one
        self.portfolios = PortfolioService(self.sessions, self.market, **clocked)
        self.lab = LabService(self.sessions, self.market, **clocked)
        self.backtests = BacktestService(self.sessions, self.market)
        from core.paper import PaperService  # paper builds on backtests and portfolios

        self.paper = PaperService(self)

    @classmethod
    def open(cls, database_url: str | None = None, *, seed_demo: bool | None = None) -> Workstation:
        """Connect, migrate the schema, register bundled instruments, seed the demo once."""
        overrides = {"database_url": database_url} if database_url else {}
        if seed_demo is not None:
            overrides["seed_demo"] = seed_demo
        workstation = cls(Settings(**overrides))
        workstation.prepare()
        return workstation

    def prepare(self) -> None:
        upgrade(self.engine)
        with self.sessions.begin() as session:
            for instrument in bundled_instruments():
                instruments.ensure(session, instrument, "bundled")
        if self.settings.seed_demo and not self._meta("demo_seeded"):
            from core.demo import seed_demo

            seed_demo(self)
            self._set_meta("demo_seeded", "1")

    # -- lab transfer --------------------------------------------------------------------------
    def export_portfolio(self, name: str, *, include_trades: bool = True) -> LabPortfolio:
        return export_document(self.sessions, name, include_trades=include_trades)

    def import_portfolio(
        self, source: str | bytes | LabPortfolio, *, name: str | None = None
    ) -> str:
        """Create a portfolio from a lab document; see :meth:`LabService.import_portfolio`."""
        return self.lab.import_portfolio(source, name=name)

    def merge_portfolios(self, first: str, second: str, *, into: str) -> str:
        """Merge two portfolios; see :meth:`LabService.merge_portfolios`."""
        return self.lab.merge_portfolios(first, second, into=into)

    # -- what-if --------------------------------------------------------------------------------
    def stress_portfolio(self, name: str, scenario: StressScenario) -> dict:
        """The instant P&L of ``scenario`` on a portfolio marked at the last known prices."""
        positions = self.portfolios.positions(name)
        classes = {i.symbol: str(i.asset_class) for i in self.market.instruments()}
        held = {r.symbol: (r.market_value, classes.get(r.symbol)) for r in positions.itertuples()}
        return stress_portfolio(held, self.portfolios.ledger(name).cash, scenario)

    # -- meta ------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(MetaRow.value).where(MetaRow.key == key))

    def _set_meta(self, key: str, value: str) -> None:
        with self.sessions.begin() as session:
            session.merge(MetaRow(key=key, value=value))

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["LabFormatError", "Workstation"]
