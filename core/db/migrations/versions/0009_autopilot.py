"""The autopilot: daily market regimes, the rebalancing log, the rules table, schedules.

``market_regimes`` holds one regime per day and index (label, confidence, components);
``rebalancing_log`` one row per autopilot run on an account (unique per account, date, mode
and attempt: a rerun without ``--force`` books nothing new); ``autopilot_rules`` the editable
rules table; ``autopilot_schedules`` the status row of an account's scheduler worker (pid,
heartbeat, next run, stop flag).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four autopilot tables and the log's indexes."""
    op.create_table(
        "market_regimes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("index_symbol", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("volatility", sa.String(length=16), nullable=False),
        sa.Column("trend", sa.String(length=16), nullable=False),
        sa.Column("breadth", sa.Float(), nullable=True),
        sa.Column("ad_ratio", sa.Float(), nullable=True),
        sa.Column("hmm", sa.String(length=32), nullable=True),
        sa.Column("hmm_probability", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day", "index_symbol"),
    )
    op.create_table(
        "rebalancing_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("regime", sa.String(length=40), nullable=True),
        sa.Column("value_before", sa.Float(), nullable=False),
        sa.Column("value_after", sa.Float(), nullable=False),
        sa.Column("n_buys", sa.Integer(), nullable=False),
        sa.Column("n_sells", sa.Integer(), nullable=False),
        sa.Column("turnover", sa.Float(), nullable=False),
        sa.Column("trades", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "as_of", "mode", "attempt", name="uq_rebalancing_log_run"),
    )
    with op.batch_alter_table("rebalancing_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rebalancing_log_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_rebalancing_log_account"), ["account"], unique=False)
    op.create_table(
        "autopilot_rules",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "autopilot_schedules",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=True),
        sa.Column("next_run", sa.DateTime(), nullable=True),
        sa.Column("last_run", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    """Drop the autopilot tables."""
    op.drop_table("autopilot_schedules")
    op.drop_table("autopilot_rules")
    with op.batch_alter_table("rebalancing_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rebalancing_log_account"))
        batch_op.drop_index(batch_op.f("ix_rebalancing_log_as_of"))
    op.drop_table("rebalancing_log")
    op.drop_table("market_regimes")
