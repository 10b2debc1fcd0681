"""Console indexes: a session's recorded bars by symbol, a portfolio's fills by instrument.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the bars-by-symbol and fills-by-instrument indexes."""
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fills_portfolio_instrument", ["portfolio_id", "instrument_id"], unique=False
        )
    with op.batch_alter_table("paper_bars", schema=None) as batch_op:
        batch_op.create_index("ix_paper_bars_symbol", ["session_id", "symbol", "seq"], unique=False)


def downgrade() -> None:
    """Drop the two console indexes."""
    with op.batch_alter_table("paper_bars", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_bars_symbol")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_portfolio_instrument")
