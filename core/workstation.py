"""The composition root: one object graph for the command line, the app and tests.

The workstation only wires. Each service is given the collaborators it reads, never the
workstation, and is exposed here as an attribute:

=================  ====================================================  =======================
attribute          service                                               given
=================  ====================================================  =======================
``market``         :class:`core.marketdata.MarketDataService`           sessions
``portfolios``     :class:`core.portfolio.PortfolioService`             sessions, market
``lab``            :class:`core.portfolio.LabService`                   sessions, market
``backtests``      :class:`core.backtest.BacktestService`               sessions, market,
                                                                         ml (model source)
``whatif``         :class:`core.whatif.WhatIfService`                   portfolios, market
``risk``           :class:`core.risk.RiskService`                       portfolios, market,
                                                                         sessions, whatif.stress
``rebalance``      :class:`core.rebalance.RebalanceService`             portfolios, market,
                                                                         sessions
``allocation``     :class:`core.allocation.AllocationService`           market, portfolios
``jobs``           :class:`core.optimize.JobService`                    sessions, backtests,
                                                                         database url
``audit``          :class:`core.audit.AuditService` (reads only)        sessions, market price
``paper``          :class:`core.paper.PaperService`                     PaperDeps(sessions, engine,
                                                                         backtests, allow_network,
                                                                         ml), portfolios
``models``         :class:`core.models.ModelRegistry`                   sessions, models_dir
``tasks``          :class:`core.tasks.TaskService` (handlers by kind)   sessions, database url,
                                                                         worker env (models_dir)
``ml``             :class:`core.ml.MLService` (task ``ml_train``)       market, models
``strategy_models`` :class:`core.strategies.StrategyModels`             models, ml
                   (what model strategies read; given to backtests
                   and paper workers)
``qlearning``      :class:`core.qlearning.QLearningService` (task        backtests, models
                   ``qlearning_train``)
``rl``             :class:`core.rl.RLService` (task ``rl_train``)       market, models
``autopilot``      :class:`core.autopilot.AutopilotService`             sessions, market,
                                                                         portfolios, risk, models
=================  ====================================================  =======================

``Workstation.open_read_only(settings)`` (the read-only API's, ``python -m core api``) opens
an existing, migrated database through a read-only engine: no migration, no demo, no write
can succeed. Nothing below imports this module: only the command line's entry points
(``core/cli``) and the app build it. The methods that remain here are thin delegates kept for
the pages and scripts that call them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from core import warm
from core.allocation import AllocationService
from core.audit import AuditService
from core.autopilot import AutopilotService, RegistryModels, backtest_request
from core.backtest import BacktestService
from core.config import Settings
from core.db import (
    MetaRow,
    check_schema_current,
    create_db_engine,
    create_read_only_engine,
    is_current,
    session_factory,
    startup_lock,
    upgrade,
)
from core.demo import seed_demo
from core.instruments import bundled_instruments
from core.instruments import repository as instruments
from core.marketdata import MarketDataService
from core.ml import MLService
from core.models import ModelRegistry
from core.optimize import JobService
from core.paper import PaperDeps, PaperService
from core.portfolio import LabFormatError, LabPortfolio, LabService, PortfolioService
from core.qlearning import QLearningService
from core.rebalance import RebalanceService
from core.risk import RiskService
from core.rl import RLService
from core.strategies import StrategyModels
from core.tasks import TaskService
from core.whatif import StressResult, StressScenario, WhatIfService


class Workstation:
    """Database, market data, portfolios and the services on them, wired once from settings."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        read_only: bool = False,
    ):
        self.settings = settings or Settings()
        url = self.settings.database_url
        self.read_only = read_only  # opened so that nothing can be written (the API's)
        self.engine = create_read_only_engine(url) if read_only else create_db_engine(url)
        self.sessions = session_factory(self.engine)
        self.market = MarketDataService(self.sessions, allow_network=self.settings.allow_network)
        clocked = {"clock": clock} if clock else {}  # naive UTC now; tests pass a fixed one
        self.portfolios = PortfolioService(self.sessions, self.market, **clocked)
        self.lab = LabService(self.sessions, self.market, **clocked)
        # the model registry and the ML lab come first: model strategies (ml_selection) get
        # their models from ``ml`` in backtests and paper sessions alike
        self.models = ModelRegistry(self.sessions, self.settings.models_dir)
        self.ml = MLService(self.market, self.models)
        # what model strategies (ml_selection, rl_allocation, q_weights) read, in backtests,
        # paper workers and the autopilot alike: the registry and the ML lab's scorers
        self.strategy_models = StrategyModels(self.models, self.ml)
        self.backtests = BacktestService(
            self.sessions, self.market, strategy_models=self.strategy_models
        )
        self.whatif = WhatIfService(self.portfolios, self.market)
        self.risk = RiskService(self.portfolios, self.market, self.sessions, self.whatif.stress)
        self.rebalance = RebalanceService(self.portfolios, self.market, self.sessions)
        self.allocation = AllocationService(self.market, self.portfolios)
        self.jobs = JobService(self.sessions, self.backtests, self.settings.database_url)
        self.audit = AuditService(self.sessions, self.market.last_price)
        paper = PaperDeps(
            self.sessions,
            self.engine,
            self.backtests,
            self.settings.allow_network,
            self.strategy_models,
        )
        self.paper = PaperService(paper, self.portfolios)  # its workers get ``paper`` alone
        worker_env = {"WORKSTATION_MODELS_DIR": str(self.settings.models_dir)}
        self.tasks = TaskService(self.sessions, self.settings.database_url, env=worker_env)
        # task kinds (each service registers its handler here, the only place that wires)
        self.qlearning = QLearningService(self.backtests, self.models)
        self.tasks.register(
            "qlearning_train", self.qlearning.run_task, validate=self.qlearning.validate
        )
        self.tasks.register("ml_train", self.ml.run_task, validate=self.ml.validate)
        self.rl = RLService(self.market, self.models)
        self.tasks.register("rl_train", self.rl.run_task, validate=self.rl.validate)
        autopilot_models = RegistryModels(self.models, ml=self.ml, rl=self.rl)
        self.autopilot = AutopilotService(
            self.sessions, self.market, self.portfolios, self.risk,
            models=autopilot_models, **clocked,
        )  # fmt: skip
        self.tasks.register(
            "autopilot_backtest", self.autopilot.backtest_task, validate=backtest_request
        )

    @classmethod
    def open(
        cls,
        database_url: str | None = None,
        *,
        seed_demo: bool | None = None,
        warm_workers: bool = False,
    ) -> Workstation:
        """Connect, migrate the schema, register bundled instruments, seed the demo once.

        ``warm_workers`` (the app server's choice): start workers from a fork server that has
        already imported the code (:mod:`core.warm`), unless ``WORKSTATION_WARM_WORKERS=0``.
        """
        if warm_workers:
            warm.install()  # the helper imports in the background while the database opens
        overrides = {"database_url": database_url} if database_url else {}
        if seed_demo is not None:
            overrides["seed_demo"] = seed_demo
        workstation = cls(Settings(**overrides))
        workstation.prepare()
        return workstation

    @classmethod
    def open_read_only(cls, settings: Settings | None = None) -> Workstation:
        """Open an existing, migrated database read-only: no migration, no demo, no writes.

        Refuses (:class:`core.errors.ConflictError`) a database whose schema is not current.
        """
        workstation = cls(settings, read_only=True)
        try:
            check_schema_current(workstation.engine)
        except BaseException:
            workstation.close()
            raise
        return workstation

    def prepare(self) -> None:
        """Migrate, register the bundled instruments, seed the demo once.

        Under the database's start-up lock (:func:`core.db.startup_lock`): processes that
        start together on a fresh database wait for the first to finish, then find the
        schema current and the demo seeded (the flag is read inside the lock). A database
        that needs neither is opened without the lock (as fast as before).
        """
        ready = is_current(self.engine) and not self._demo_due()
        with contextlib.nullcontext() if ready else startup_lock(self.engine):
            upgrade(self.engine)
            with self.sessions.begin() as session:
                for instrument in bundled_instruments():
                    instruments.ensure(session, instrument, "bundled")
            if self._demo_due():
                seed_demo(self.portfolios, self.market)
                self._set_meta("demo_seeded", "1")

    # -- delegates kept for the pages and scripts that call them ---------------------------------
    def export_portfolio(self, name: str, *, include_trades: bool = True) -> LabPortfolio:
        """See :meth:`LabService.export_portfolio`."""
        return self.lab.export_portfolio(name, include_trades=include_trades)

    def import_portfolio(
        self, source: str | bytes | LabPortfolio, *, name: str | None = None
    ) -> str:
        """See :meth:`LabService.import_portfolio`."""
        return self.lab.import_portfolio(source, name=name)

    def merge_portfolios(self, first: str, second: str, *, into: str) -> str:
        """See :meth:`LabService.merge_portfolios`."""
        return self.lab.merge_portfolios(first, second, into=into)

    def stress_portfolio(self, name: str, scenario: StressScenario) -> StressResult:
        """See :meth:`WhatIfService.stress`."""
        return self.whatif.stress(name, scenario)

    def _demo_due(self) -> bool:
        return self.settings.seed_demo and not self._meta("demo_seeded")

    # -- meta ------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(MetaRow.value).where(MetaRow.key == key))

    def _set_meta(self, key: str, value: str) -> None:
        with self.sessions.begin() as session:
            session.merge(MetaRow(key=key, value=value))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


__all__ = ["LabFormatError", "Workstation"]
