"""Migration 0006 on databases made before it: a clean chain gets the unique link index; a
chain that had already forked is upgraded anyway, the fork recorded and reported."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from core.audit import GENESIS_HASH, append_event, event_hash, verify_chain
from core.db import AuditEventRow, MetaRow, WriteLockRow, create_db_engine, session_factory
from core.db import upgrade as upgrade_to_head
from core.db._migrate import alembic_config

pytestmark = pytest.mark.both_backends
AUDIT = AuditEventRow.__table__
T0 = datetime(2026, 11, 30, 9, 0)


@pytest.fixture
def engine(db_url):
    engine = create_db_engine(db_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    yield engine
    engine.dispose()


def event(i: int, prev: str) -> dict:
    ts, payload = T0 + timedelta(seconds=i), {"n": i}
    return {
        "ts": ts,
        "kind": "note",
        "portfolio": None,
        "actor": "user",
        "payload": payload,
        "prev_hash": prev,
        "hash": event_hash(prev, ts, "note", None, "user", payload),
    }


def store(engine, links: list[int | None]) -> list[str]:
    """Events 1..n (ids in insertion order on a fresh database); event i links to event
    ``links[i-1]`` (None: the genesis hash)."""
    hashes: list[str] = []
    with engine.begin() as connection:
        for i, parent in enumerate(links, start=1):
            row = event(i, GENESIS_HASH if parent is None else hashes[parent - 1])
            connection.execute(insert(AUDIT).values(**row))
            hashes.append(row["hash"])
    return hashes


def prev_hash_index(engine) -> tuple[bool, str]:
    """(unique, definition) of ux_audit_log_prev_hash as the database stores it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'ux_audit_log_prev_hash'")
            )
        else:
            sql = connection.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ux_audit_log_prev_hash'")
            )
    unique = {i["name"]: i["unique"] for i in inspect(engine).get_indexes("audit_log")}
    return bool(unique.get("ux_audit_log_prev_hash")), sql or ""


def test_a_clean_chain_gets_a_unique_link_on_every_event(engine):
    hashes = store(engine, [None, 1, 2])
    upgrade_to_head(engine)
    unique, sql = prev_hash_index(engine)
    assert unique and "WHERE" not in sql.upper()
    sessions = session_factory(engine)
    with sessions() as session:
        assert session.get(MetaRow, "audit_chain_fork") is None
        assert session.scalar(select(WriteLockRow.taken)) == 0
        assert verify_chain(session).ok
    with pytest.raises(IntegrityError), engine.begin() as connection:  # event 1 holds it
        connection.execute(insert(AUDIT).values(**event(9, GENESIS_HASH)))
    with sessions.begin() as session:
        assert append_event(session, "note", {}).prev_hash == hashes[2]


def test_a_forked_chain_is_upgraded_and_the_fork_reported(engine, caplog):
    # 1 ← 2 ← 4 and 1 ← 3 ← 5: events 2 and 3 both follow event 1, then 4 and 5 follow
    # each branch; event 6 follows 5, the newest
    hashes = store(engine, [None, 1, 1, 2, 3, 5])
    with caplog.at_level(logging.WARNING, logger="core.db"):
        upgrade_to_head(engine)  # does not fail
    assert "the audit chain had forked" in caplog.text
    sessions = session_factory(engine)
    with sessions() as session:
        fork = json.loads(session.get(MetaRow, "audit_chain_fork").value)
        report = verify_chain(session)
    assert fork["forked_links"] == 1  # the hash of event 1, taken by events 2 and 3
    assert fork["extra_events"] == 1
    assert (fork["first_forked_id"], fork["last_forked_id"]) == (2, 3)
    assert fork["enforced"] == "unique links enforced from event 4 on"
    assert not report.ok and report.first_bad_id == 3  # 3 links to 1, not to 2
    assert "the chain forked: it links to event 1, which event 2 already follows" in (report.reason)
    assert "migration 0006 found 1 forked events up to event 3" in report.reason
    unique, sql = prev_hash_index(engine)
    assert unique and "id > 3" in sql.replace("(", "").replace(")", "")
    # new events append on the newest one; a second link to an event after the fork is refused
    with sessions.begin() as session:
        appended = append_event(session, "note", {"after": "upgrade"})
    assert appended.prev_hash == hashes[5]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(AUDIT).values(**event(99, hashes[5])))
