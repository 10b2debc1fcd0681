"""The database: typed models, engines, Alembic migrations."""

from core.db._engine import create_db_engine, session_factory
from core.db._migrate import upgrade
from core.db._models import (
    AuditEventRow,
    BacktestRunRow,
    BarRow,
    Base,
    CashMovementRow,
    EquitySnapshotRow,
    FillRow,
    InstrumentRow,
    MetaRow,
    OptimizationJobRow,
    OrderRow,
    PortfolioRow,
    PositionRow,
    StrategyConfigRow,
)

__all__ = [
    "AuditEventRow",
    "BacktestRunRow",
    "BarRow",
    "Base",
    "CashMovementRow",
    "EquitySnapshotRow",
    "FillRow",
    "InstrumentRow",
    "MetaRow",
    "OptimizationJobRow",
    "OrderRow",
    "PortfolioRow",
    "PositionRow",
    "StrategyConfigRow",
    "create_db_engine",
    "session_factory",
    "upgrade",
]
