"""Alembic migrations, SQLite settings and the hash-chained audit log.

Tests marked ``both_backends`` run on SQLite and again on PostgreSQL when
``WORKSTATION_TEST_POSTGRES_URL`` is set (tests/conftest.py)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from core.audit import verify_chain
from core.db import AuditEventRow, Base, create_db_engine, upgrade
from core.db._migrate import alembic_config


def schema_sql(engine) -> list:
    """Every table's columns, indexes, keys and constraints as the database reports them."""
    inspector = inspect(engine)
    schema = []
    for name in sorted(inspector.get_table_names()):
        schema.append(
            (
                name,
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
                inspector.get_pk_constraint(name)["constrained_columns"],
                sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                sorted(
                    (f["referred_table"], tuple(f["constrained_columns"]))
                    for f in inspector.get_foreign_keys(name)
                ),
            )
        )
    return schema


@pytest.mark.both_backends
def test_upgrade_creates_every_table_of_the_models(db_url):
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert tables - set(Base.metadata.tables) == {"alembic_version"}
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
            # the migrated schema is what the models describe (columns, types, indexes, keys)
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


@pytest.mark.both_backends
def test_columns_match_the_models(db_url):
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        inspector = inspect(engine)
        for name, table in Base.metadata.tables.items():
            stored = {c["name"] for c in inspector.get_columns(name)}
            assert stored == {c.name for c in table.columns}, name
    finally:
        engine.dispose()


@pytest.mark.both_backends
def test_running_the_upgrade_twice_is_a_no_op(db_url):
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO workstation_meta (key, value) VALUES ('k', 'v')"))
        before = schema_sql(engine)
        upgrade(engine)
        # and through Alembic itself, bypassing the early return in upgrade()
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        assert schema_sql(engine) == before
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT value FROM workstation_meta")) == "v"
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


def test_sqlite_runs_with_foreign_keys_and_wal(db_url):
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA journal_mode")).lower() == "wal"
    finally:
        engine.dispose()


@pytest.mark.both_backends
def test_foreign_keys_are_enforced(ws):
    with ws.engine.connect() as connection:
        try:
            connection.execute(
                text(
                    "INSERT INTO positions (portfolio_id, instrument_id, quantity, avg_cost,"
                    " realized_pnl) VALUES (999, 999, 1, 1, 0)"
                )
            )
        except Exception as exc:  # sqlalchemy.exc.IntegrityError
            assert "foreign key" in str(exc).lower()
        else:
            raise AssertionError("a position row without a portfolio was accepted")


def test_missing_folder_of_a_sqlite_file_is_created(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path}/a/b/ws.db")
    try:
        upgrade(engine)
        assert (tmp_path / "a" / "b" / "ws.db").exists()
    finally:
        engine.dispose()


# -- the audit chain ------------------------------------------------------------------------


def busy_day(ws) -> None:
    p = ws.portfolios
    p.create("p", 10_000.0)
    p.trade("p", "AAPL", "buy", 10, 100.0, ts=datetime(2020, 3, 2, 16))
    p.cash_movement("p", 500.0, ts=datetime(2020, 3, 3))
    p.set_target_weights("p", {"AAPL": 0.5})
    p.rename("p", "q")
    p.create("r", 1.0)
    p.delete("r")


@pytest.mark.both_backends
def test_audit_chain_verifies_after_operations(ws):
    busy_day(ws)
    with ws.sessions() as session:
        report = verify_chain(session)
        kinds = list(session.scalars(select(AuditEventRow.kind).order_by(AuditEventRow.id)))
    assert report.ok, report
    assert report.events == 7 == len(kinds)
    assert kinds == [
        "portfolio_created",
        "fill",
        "deposit",
        "target_weights_set",
        "portfolio_renamed",
        "portfolio_created",
        "portfolio_deleted",
    ]


@pytest.mark.both_backends
def test_audit_chain_reports_an_edited_payload(ws):
    busy_day(ws)
    with ws.sessions() as session:
        fill_event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.kind == "fill")
        ).one()
        tampered_id, payload = fill_event.id, dict(fill_event.payload)
    payload["price"] = 1.0  # was 100
    with ws.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET payload = :p WHERE id = :id"),
            {"p": json.dumps(payload), "id": tampered_id},
        )
    with ws.sessions() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.first_broken_id == tampered_id
    assert "hash" in report.reason


@pytest.mark.both_backends
def test_audit_chain_reports_a_deleted_event(ws):
    busy_day(ws)
    with ws.engine.begin() as connection:
        ids = [r[0] for r in connection.execute(text("SELECT id FROM audit_log ORDER BY id"))]
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
    with ws.sessions() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.first_broken_id == ids[3]  # its previous-hash link points at the deleted one
