"""Multi-currency portfolios and futures margins.

* ``portfolios.foreign_cash`` (JSON, currency → amount): cash in currencies other than the
  base currency (``portfolios.cash`` stays the base-currency cash). Existing portfolios have
  none (NULL reads as none).
* ``cash_movements.currency`` (NULL: the base currency), ``fx_rate`` (base units per unit of
  the currency on the day of a deposit or withdrawal), ``counter_currency`` and
  ``counter_amount`` (what an exchange bought; its ``amount`` is what it sold, negative).
* ``instruments.initial_margin`` and ``maintenance_margin``: a future's margins per contract.

Every new column is nullable, so the rows already stored stay valid as they are.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = {
    "portfolios": (("foreign_cash", sa.JSON()),),
    "cash_movements": (
        ("currency", sa.String(length=3)),
        ("fx_rate", sa.Float()),
        ("counter_currency", sa.String(length=3)),
        ("counter_amount", sa.Float()),
    ),
    "instruments": (("initial_margin", sa.Float()), ("maintenance_margin", sa.Float())),
}


def upgrade() -> None:
    """Add the nullable columns."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    """Drop them (foreign cash, exchanges and margins are lost)."""
    for table, columns in reversed(COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(columns):
                batch_op.drop_column(name)
