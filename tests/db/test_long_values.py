"""Values of a user's size are stored whole on every backend (migration 0007).

PostgreSQL refuses a value longer than a ``VARCHAR(n)`` column where SQLite stores it
anyway, so a column that holds what a user made (the symbols of a backtest, an instrument's
name, a saved strategy configuration's name) is ``TEXT`` unless the input that fills it is
bounded to the column's length by validation.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from core.backtest import BacktestConfig
from core.db import BacktestRunRow, InstrumentRow, StrategyConfigRow, create_db_engine
from core.db import upgrade as upgrade_to_head
from core.db._migrate import alembic_config
from core.instruments import AssetClass, Instrument
from core.instruments import repository as instruments
from core.strategies import save_strategy_config

pytestmark = pytest.mark.both_backends


def test_a_backtest_of_ninety_symbols_is_saved_with_every_symbol(ws):
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2024-01-02", periods=30)
    symbols = [f"SYM{i:03d}" for i in range(90)]
    for symbol in symbols:
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        bars = pd.DataFrame(
            {"open": close, "high": close, "low": close, "close": close, "volume": 1e6},
            index=days,
        )
        ws.market.import_bars(symbol, bars)
    joined = ",".join(symbols)
    assert len(joined) == 90 * 7 - 1 > 500  # the old column's length
    config = BacktestConfig(strategy="rebalancer", symbols=tuple(symbols))
    result = ws.backtests.run(config)
    with ws.sessions() as session:
        stored = session.scalar(
            select(BacktestRunRow.symbols).where(BacktestRunRow.id == result.run_id)
        )
    assert stored == joined


def test_an_instrument_with_a_long_name_and_underlying_is_stored_whole(ws):
    """``Instrument.name`` and ``underlying`` carry no length bound (a lab import brings
    its own definitions)."""
    name = "Very Long Holdings " * 20  # 380 characters
    underlying = "U" * 40
    option = Instrument(
        symbol="LONGOPT",
        asset_class=AssetClass.OPTION,
        name=name,
        underlying=underlying,
        strike=100.0,
        expiry=date(2027, 1, 15),
        option_right="call",
    )
    with ws.sessions.begin() as session:
        instruments.ensure(session, option, "user")
    with ws.sessions() as session:
        row = session.scalar(select(InstrumentRow).where(InstrumentRow.symbol == "LONGOPT"))
        assert (row.name, row.underlying) == (name, underlying)


def test_a_strategy_configuration_with_a_long_name_is_saved(ws):
    name = "momentum on the whole universe, weekly, " * 5  # 200 characters
    row_id = save_strategy_config(ws.sessions, name, "sma_crossover", {})
    with ws.sessions() as session:
        stored = session.scalar(
            select(StrategyConfigRow.name).where(StrategyConfigRow.id == row_id)
        )
    assert stored == name.strip()


def test_migration_0007_keeps_the_rows_and_then_takes_long_values(db_url):
    engine = create_db_engine(db_url)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        run = {
            "id": "r1",
            "name": "old run",
            "strategy": "rebalancer",
            "config": {},
            "params": {},
            "symbols": "AAPL,MSFT",
            "start": datetime(2022, 1, 3),
            "end": datetime(2022, 2, 1),
            "final_equity": 101.5,
            "metrics": {},
            "trades": [],
            "equity": {},
            "created_at": datetime(2022, 2, 2),
        }
        with engine.begin() as connection:
            connection.execute(insert(BacktestRunRow.__table__).values(**run))
        upgrade_to_head(engine)
        long_symbols = ",".join(f"S{i:03d}" for i in range(150))  # 749 characters
        with engine.begin() as connection:
            kept = connection.execute(
                select(BacktestRunRow.name, BacktestRunRow.symbols, BacktestRunRow.final_equity)
            ).one()
            connection.execute(
                insert(BacktestRunRow.__table__).values(
                    **{**run, "id": "r2", "symbols": long_symbols}
                )
            )
            stored = connection.scalar(
                select(BacktestRunRow.symbols).where(BacktestRunRow.id == "r2")
            )
        assert tuple(kept) == ("old run", "AAPL,MSFT", 101.5)
        assert stored == long_symbols
        # a configuration's name is still unique (SQLite's batch copy kept the constraint)
        saved = {
            "name": "n" * 150,
            "strategy": "sma_crossover",
            "params": {},
            "config_hash": "h",
            "created_at": datetime(2024, 1, 1),
        }
        with engine.begin() as connection:
            connection.execute(insert(StrategyConfigRow.__table__).values(**saved))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert(StrategyConfigRow.__table__).values(**saved))
        # and back down to 0006 once the long values are gone
        with engine.begin() as connection:
            connection.execute(delete(BacktestRunRow.__table__).where(BacktestRunRow.id == "r2"))
            connection.execute(delete(StrategyConfigRow.__table__))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        with engine.connect() as connection:
            assert connection.execute(select(BacktestRunRow.symbols)).scalars().all() == [
                "AAPL,MSFT"
            ]
    finally:
        engine.dispose()
