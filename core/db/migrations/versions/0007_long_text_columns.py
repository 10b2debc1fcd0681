"""User-sized text: backtest symbols and names, instrument names, strategy configuration names.

PostgreSQL refuses a value longer than a ``VARCHAR(n)`` column (SQLite stores it anyway), so
the columns that hold what a user made without a length bound on the input become ``TEXT``:

* ``backtest_runs.symbols`` (was 500): every symbol of the run (80 symbols pass 500) or the
  data file's path;
* ``backtest_runs.name`` (was 200): made from the strategy and symbols;
* ``instruments.name`` (was 200) and ``instruments.underlying`` (was 32): ``Instrument``
  bounds neither, and a lab import brings its own definitions;
* ``strategy_configs.name`` (was 100): only stripped when a configuration is saved.

The other bounded columns are filled by validated input (portfolio names 1–100 characters,
symbols 1–32, client order ids 1–60 and fill ids ``F-<id>``, paper session names 1–100, sleeve
keys 1–40) or by the workstation's own constants (kinds, statuses, actors, hashes).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = {  # table: (column, the old length, nullable), altered in one batch per table
    "backtest_runs": (("name", 200, False), ("symbols", 500, False)),
    "instruments": (("name", 200, False), ("underlying", 32, True)),
    "strategy_configs": (("name", 100, False),),
}


def upgrade() -> None:
    """Widen the user-sized columns to ``TEXT``."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length, nullable in columns:
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=length),
                    type_=sa.Text(),
                    existing_nullable=nullable,
                )


def downgrade() -> None:
    """Back to the old lengths; on PostgreSQL this fails while a longer value is stored."""
    for table, columns in reversed(COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length, nullable in columns:
                batch_op.alter_column(
                    column,
                    existing_type=sa.Text(),
                    type_=sa.String(length=length),
                    existing_nullable=nullable,
                )
