"""What paper trading reads of the rest of the workstation, named.

:class:`PaperDeps` is the worker's whole world outside its session (the database and the
bars a feed is built from); :class:`PaperService` takes it and, to open a session's
portfolio, a :class:`PortfolioOpener`. The composition root (``core/workstation.py``)
builds both; nothing here sees the workstation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker

    from core.backtest import BacktestConfig, MarketFrame
    from core.instruments import Instrument
    from core.strategies import ModelSource


class InstrumentLookup(Protocol):
    """The market's instrument register (``MarketDataService`` fits)."""

    def instrument(self, symbol: str) -> Instrument | None: ...


class BarSource(Protocol):
    """Where a feed's bars come from (``BacktestService`` fits): :func:`~core.paper.build_feed`."""

    market: InstrumentLookup

    def load(self, config: BacktestConfig) -> tuple[MarketFrame, dict[str, Instrument]]: ...


class PortfolioOpener(Protocol):
    """What the service does to the portfolios: open a session's own (``PortfolioService``)."""

    def create(
        self,
        name: str,
        starting_cash: float,
        *,
        allow_short: bool,
        allow_margin: bool,
        description: str,
        created_at: datetime | None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class PaperDeps:
    """The collaborators a paper worker reads, and the service with it.

    ``sessions`` and ``engine``: the database (ORM sessions for rows, the engine for the
    writer's and the console's core queries). ``backtests``: the bars and instruments of a
    replayed feed. ``allow_network``: whether a live feed may poll the network.
    ``strategy_models``: where a strategy that trades a trained model (``ml_selection``)
    gets it by id (``ws.ml``; None: such strategies refuse to start).
    """

    sessions: sessionmaker
    engine: Engine
    backtests: BarSource
    allow_network: bool
    strategy_models: ModelSource | None = None
