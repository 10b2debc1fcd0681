"""Tamper detection: change any field of any event and verify names that event."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import sessionmaker

from core.audit import GENESIS_HASH, AuditChainError, _log, append_event, event_hash, verify_chain
from core.db import AuditEventRow, Base, WriteLockRow
from core.errors import WorkstationError

FIELDS = ("ts", "kind", "portfolio", "actor", "payload", "prev_hash", "hash")
T0 = datetime(2024, 5, 1, 9, 30)


def fresh():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[AuditEventRow.__table__, WriteLockRow.__table__])
    return engine, sessionmaker(engine)


def fill_log(sessions, payloads: list[dict]) -> list[int]:
    with sessions.begin() as session:
        rows = [
            append_event(
                session,
                f"kind{i % 3}",
                payload,
                portfolio=None if i % 2 else f"p{i}",
                ts=T0 + timedelta(seconds=i),
            )
            for i, payload in enumerate(payloads)
        ]
        return [r.id for r in rows]


def tampered(row: dict, field: str):
    """A value different from ``row[field]`` (raw column value as stored)."""
    value = row[field]
    if field == "ts":
        return (datetime.fromisoformat(value) + timedelta(microseconds=1)).isoformat(sep=" ")
    if field == "payload":
        return json.dumps({**json.loads(value), "tampered": True})
    if field in ("prev_hash", "hash"):
        return ("f" if value[0] != "f" else "e") + value[1:]
    return "x" if value is None else value + "x"


json_values = hs.one_of(
    hs.integers(-(10**9), 10**9),
    hs.floats(allow_nan=False, allow_infinity=False),
    hs.text(max_size=8),
    hs.booleans(),
    hs.none(),
)
payloads = hs.lists(
    hs.dictionaries(hs.text(min_size=1, max_size=5), json_values, max_size=4),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads, hs.data())
def test_changing_any_field_of_any_event_names_that_event(events, data):
    engine, sessions = fresh()
    ids = fill_log(sessions, events)
    with sessions() as session:
        assert verify_chain(session).ok
    target = data.draw(hs.sampled_from(ids), label="event")
    field = data.draw(hs.sampled_from(FIELDS), label="field")
    with engine.begin() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_log WHERE id = :i"), {"i": target})
            .mappings()
            .one()
        )
        connection.execute(
            text(f"UPDATE audit_log SET {field} = :v WHERE id = :i"),
            {"v": tampered(row, field), "i": target},
        )
    with sessions() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.first_bad_id == target, (field, report.reason)
    assert f"event {target}" in report.reason
    assert report.n_events == len(ids) and report.events == ids.index(target) + 1


def test_first_event_links_to_genesis_and_hash_is_recomputable():
    _, sessions = fresh()
    fill_log(sessions, [{"a": 1}, {"b": [1, 2]}])
    with sessions() as session:
        rows = session.query(AuditEventRow).order_by(AuditEventRow.id).all()
        assert rows[0].prev_hash == GENESIS_HASH and rows[1].prev_hash == rows[0].hash
        # the canonical content, rebuilt by hand
        content = {
            "prev": GENESIS_HASH,
            "ts": "2024-05-01T09:30:00.000000",
            "kind": "kind0",
            "portfolio": "p0",
            "actor": "user",
            "payload": {"a": 1},
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        assert rows[0].hash == hashlib.sha256(canonical.encode()).hexdigest()
        assert rows[0].hash == event_hash(GENESIS_HASH, T0, "kind0", "p0", "user", {"a": 1})
        report = verify_chain(session)
    assert report.to_dict() == {
        "ok": True,
        "n_events": 2,
        "checked": 2,
        "first_bad_id": None,
        "reason": None,
    }


def test_deleting_an_event_names_the_next_one():
    engine, sessions = fresh()
    ids = fill_log(sessions, [{}, {}, {}, {}])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
    with sessions() as session:
        report = verify_chain(session)
    assert report.first_bad_id == ids[2]
    assert "previous-hash link" in report.reason and f"event {ids[0]}" in report.reason


def test_empty_log_verifies():
    _, sessions = fresh()
    with sessions() as session:
        report = verify_chain(session)
    assert report.ok and report.n_events == 0


@pytest.mark.parametrize("field", FIELDS)
def test_each_field_of_the_middle_event(field):
    engine, sessions = fresh()
    ids = fill_log(sessions, [{"n": 1}, {"n": 2}, {"n": 3}])
    with engine.begin() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_log WHERE id = :i"), {"i": ids[1]})
            .mappings()
            .one()
        )
        connection.execute(
            text(f"UPDATE audit_log SET {field} = :v WHERE id = :i"),
            {"v": tampered(row, field), "i": ids[1]},
        )
    with sessions() as session:
        assert verify_chain(session).first_bad_id == ids[1]


# -- a link refused by the unique index (a writer that did not take the write lock) ----------


def test_a_link_another_writer_took_is_retried_on_the_new_head(monkeypatch):
    _, sessions = fresh()
    fill_log(sessions, [{"n": 1}, {"n": 2}])
    with sessions() as session:
        first, second = session.scalars(select(AuditEventRow.hash).order_by("id")).all()
    real, calls = _log._head, []

    def stale_once(session):  # the head as it was before event 2 was committed
        calls.append(1)
        return first if len(calls) == 1 else real(session)

    monkeypatch.setattr(_log, "_head", stale_once)
    with sessions.begin() as session:
        linked_to = append_event(session, "kind9", {"n": 3}, ts=T0).prev_hash
    assert len(calls) == 2 and linked_to == second
    with sessions() as session:
        report = verify_chain(session)
    assert report.ok and report.n_events == 3


def test_a_link_refused_every_time_raises_and_the_transaction_writes_nothing(monkeypatch):
    _, sessions = fresh()
    fill_log(sessions, [{"n": 1}])
    monkeypatch.setattr(_log, "_head", lambda session: GENESIS_HASH)  # event 1 holds it
    with pytest.raises(AuditChainError) as caught, sessions.begin() as session:
        session.add(AuditEventRow(ts=T0, kind="x", actor="u", payload={}, prev_hash="a", hash="b"))
        append_event(session, "kind9", {"n": 2}, ts=T0)
    assert isinstance(caught.value, WorkstationError)
    assert str(caught.value) == (
        f"audit log (kind9): another writer took the head of the log {_log.LINK_ATTEMPTS} "
        "times in a row; nothing was written, try again"
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEventRow)) == 1
