"""The write lock and one event per audit link: ``write_locks``, unique ``audit_log.prev_hash``.

Every money-moving or audit-writing transaction now updates the ``write_locks`` row first
(core/db/_lock.py), and no two audit events may link to the same previous hash, so a fork of
the chain can never be committed again.

A chain that had already forked (two writers appended at once before this revision) cannot
take a plain unique index. Then the index is partial: unique from the first event after the
last fork on (SQLite and PostgreSQL support that; elsewhere it is left out), the fork is
recorded in ``workstation_meta`` under ``audit_chain_fork`` (``audit verify`` shows it) and
logged as a warning. The upgrade never fails on it.

Revision ID: 0006
Revises: 0005
"""

import json
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ux_audit_log_prev_hash"
FORK_KEY = "audit_chain_fork"
log = logging.getLogger("core.db")


def upgrade() -> None:
    """Create ``write_locks`` and make ``audit_log.prev_hash`` unique (partial after a fork)."""
    op.create_table(
        "write_locks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("taken", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO write_locks (name, taken) VALUES ('write', 0)")
    connection = op.get_bind()
    forks = connection.execute(
        sa.text(
            "SELECT prev_hash, COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id"
            " FROM audit_log GROUP BY prev_hash HAVING COUNT(*) > 1"
        )
    ).all()
    if not forks:
        op.create_index(INDEX, "audit_log", ["prev_hash"], unique=True)
        return
    _enforce_after_the_fork(connection, forks)


def _enforce_after_the_fork(connection, forks) -> None:
    last = max(int(row.last_id) for row in forks)
    dialect = connection.dialect.name
    where = sa.text(f"id > {last}")
    if dialect in ("sqlite", "postgresql"):
        op.create_index(
            INDEX,
            "audit_log",
            ["prev_hash"],
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )
        enforced = f"unique links enforced from event {last + 1} on"
    else:
        enforced = f"no unique index on {dialect} (no partial indexes)"
    report = {
        "found_by": "migration 0006",
        "found_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "forked_links": len(forks),
        "extra_events": sum(int(row.n) - 1 for row in forks),
        "first_forked_id": min(int(row.first_id) for row in forks),
        "last_forked_id": last,
        "enforced": enforced,
    }
    meta = sa.table("workstation_meta", sa.column("key"), sa.column("value"))
    connection.execute(sa.delete(meta).where(meta.c.key == FORK_KEY))
    connection.execute(sa.insert(meta).values(key=FORK_KEY, value=json.dumps(report)))
    log.warning(
        "the audit chain had forked before this upgrade: %d links taken by more than one "
        "event (events %d to %d); %s; `python -m core audit verify` reports the break",
        report["forked_links"],
        report["first_forked_id"],
        last,
        enforced,
    )


def downgrade() -> None:
    """Drop the unique ``prev_hash`` index and ``write_locks``."""
    if INDEX in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("audit_log")}:
        op.drop_index(INDEX, table_name="audit_log")
    op.drop_table("write_locks")
    op.execute(f"DELETE FROM workstation_meta WHERE key = '{FORK_KEY}'")
