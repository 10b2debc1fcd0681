"""Migration 0010 (multi-currency, futures margins) keeps a 0007 database's rows usable."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text

from core.db import create_db_engine
from core.db import upgrade as upgrade_to_head
from core.db._migrate import alembic_config
from core.workstation import Workstation

pytestmark = pytest.mark.both_backends


def test_a_portfolio_stored_before_0010_loads_and_trades_after_it(db_url):
    engine = create_db_engine(db_url)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0007")
            connection.execute(
                text(
                    "INSERT INTO portfolios (name, base_currency, starting_cash, cash, "
                    "net_deposits, commissions, fees, allow_short, allow_margin, description, "
                    "target_weights, metadata, created_at) VALUES ('old', 'USD', 1000, 900, 0, "
                    "0, 0, false, false, '', '{}', '{}', :t)"
                ),
                {"t": datetime(2020, 1, 1)},
            )
            portfolio = connection.scalar(text("SELECT id FROM portfolios"))
            connection.execute(
                text(
                    "INSERT INTO cash_movements (portfolio_id, ts, amount, kind, note) "
                    "VALUES (:p, :t, -100, 'withdrawal', '')"
                ),
                {"p": portfolio, "t": datetime(2020, 2, 1)},
            )
        upgrade_to_head(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT foreign_cash, cash FROM portfolios WHERE name = 'old'")
            ).one()
            assert row.foreign_cash is None and row.cash == 900  # NULL reads as no foreign cash
    finally:
        engine.dispose()
    ws = Workstation.open(db_url, seed_demo=False)
    try:
        ledger = ws.portfolios.ledger("old")
        assert ledger.cash_balances() == {"USD": 900.0}
        ws.portfolios.cash_movement("old", 100.0, currency="EUR", fx_rate=1.2)
        assert ws.portfolios.ledger("old").cash_balances() == {"USD": 900.0, "EUR": 100.0}
        document = ws.lab.export_portfolio("old")
        assert [m.kind for m in document.cash_movements] == ["withdrawal", "deposit"]
        assert document.cash_movements[0].currency is None
    finally:
        ws.close()
