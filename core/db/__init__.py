"""The database: typed models, engines, Alembic migrations."""

from core.db._engine import create_db_engine, session_factory
from core.db._lock import WriteSessions, holds_write_lock, take_write_lock
from core.db._migrate import is_current, upgrade
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
    PaperAlertRow,
    PaperBarRow,
    PaperCommandRow,
    PaperEquityRow,
    PaperSessionRow,
    PortfolioRow,
    PositionRow,
    StrategyConfigRow,
    WriteLockRow,
)
from core.db._readonly import check_schema_current, create_read_only_engine
from core.db._startup import startup_lock

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
    "PaperAlertRow",
    "PaperBarRow",
    "PaperCommandRow",
    "PaperEquityRow",
    "PaperSessionRow",
    "PortfolioRow",
    "PositionRow",
    "StrategyConfigRow",
    "WriteLockRow",
    "WriteSessions",
    "check_schema_current",
    "create_db_engine",
    "create_read_only_engine",
    "holds_write_lock",
    "is_current",
    "session_factory",
    "startup_lock",
    "take_write_lock",
    "upgrade",
]
