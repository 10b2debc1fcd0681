"""The token on every route but /health, and read-only by construction."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.api import create_app, load_token, token_matches
from core.config import Settings
from core.db import WriteLockRow
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.workstation import Workstation
from tests.api.conftest import KNOWN, TOKEN
from tests.conftest import REPO_ROOT, count_rows

ROUTES = {
    "/portfolio/summary",
    "/portfolio/positions",
    "/portfolio/positions/{symbol}",
    "/portfolio/risk",
    "/portfolio/performance",
    "/portfolio/chart",
    "/trades/recent",
    "/strategies/performance",
    "/alerts/active",
    "/market/regime",
    "/rebalancing/status",
    "/compliance/status",
    "/compliance/audit-trail",
    "/paper/sessions",
    "/paper/sessions/{name}",
}


def concrete(path: str) -> str:
    return path.replace("{symbol}", "AAPL").replace("{name}", "x")


@pytest.fixture(scope="module")
def app(known_db):
    ws = Workstation.open_read_only(Settings(database_url=known_db))
    yield create_app(ws, token=TOKEN)
    ws.close()


def test_the_openapi_document_lists_the_routes_and_needs_the_token(server, api):
    assert httpx.get(f"{server.url}/openapi.json").status_code == 401
    document = api.get("/openapi.json").json()
    assert set(document["paths"]) == ROUTES | {"/health"}
    for path, item in document["paths"].items():
        assert set(item) == {"get"}, path
        assert item["get"]["responses"]["200"]["content"]["application/json"]["schema"], path


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_route_refuses_no_token_and_a_wrong_one(server, path):
    url = f"{server.url}{concrete(path)}"
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        r = httpx.get(url, headers=headers, params={"portfolio": KNOWN})
        assert r.status_code == 401, (path, headers)
        assert r.headers["www-authenticate"] == "Bearer"
        assert set(r.json()["error"]) == {"message", "where"}
        assert TOKEN not in r.text
    # a token that shares a prefix is refused too (the comparison is of the whole value)
    r = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN[:-1]}"})
    assert r.status_code == 401


def test_health_needs_no_token(server):
    assert httpx.get(f"{server.url}/health").status_code == 200


def all_routes(routes):
    """Every route, through included routers (FastAPI keeps them wrapped)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield route


def test_every_route_is_get_and_writes_are_405(app, api):
    methods = {}
    for route in all_routes(app.routes):
        if isinstance(route, APIRoute):
            methods[route.path] = route.methods
        else:  # nothing else: no mount, no static files, no other socket
            assert isinstance(route, APIWebSocketRoute), route
            assert route.path == "/ws/live-updates"
    assert set(methods) == ROUTES | {"/health", "/openapi.json"}
    assert all(m <= {"GET", "HEAD"} for m in methods.values()), methods
    for path in ROUTES:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = api.request(method, concrete(path))
            assert r.status_code == 405, (method, path)
            assert "error" in r.json()


def test_a_write_through_the_apis_connection_fails(known_db):
    ws = Workstation.open_read_only(Settings(database_url=known_db))
    try:
        with pytest.raises(DBAPIError, match="readonly"), ws.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
        with pytest.raises(DBAPIError):
            ws.portfolios.cash_movement(KNOWN, 1.0)
        # with the pragma lifted, the file opened mode=ro still refuses
        with pytest.raises(DBAPIError), ws.engine.connect() as connection:
            connection.execute(text("PRAGMA query_only=OFF"))
            connection.execute(text("UPDATE portfolios SET cash = 0"))
            connection.commit()
    finally:
        ws.close()


def test_serving_every_route_writes_nothing(server, api, reader):
    before = count_rows(reader)
    with reader.sessions() as session:
        taken = session.scalar(select(WriteLockRow.taken))
    for path in sorted(ROUTES):
        assert api.get(concrete(path), params={"portfolio": KNOWN}).status_code in (200, 404)
    assert count_rows(reader) == before
    with reader.sessions() as session:
        assert session.scalar(select(WriteLockRow.taken)) == taken  # no write transaction


@pytest.mark.both_backends
def test_read_only_engine_refuses_writes_on_both_backends(db_url):
    Workstation.open(db_url, seed_demo=False).close()
    ws = Workstation.open_read_only(Settings(database_url=db_url))
    try:
        assert ws.portfolios.names() == []
        with pytest.raises(DBAPIError):
            ws.portfolios.create("x", 100.0)
    finally:
        ws.close()
    writable = Workstation.open(db_url, seed_demo=False)
    try:
        assert writable.portfolios.names() == []  # nothing was written
    finally:
        writable.close()


@pytest.mark.slow
def test_a_database_not_current_or_missing_is_refused(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "old.db").close()
    with pytest.raises(ConflictError, match="schema is not current"):
        Workstation.open_read_only(Settings(database_url=f"sqlite:///{tmp_path}/old.db"))
    with pytest.raises(NotFoundError, match="no database file"):
        Workstation.open_read_only(Settings(database_url=f"sqlite:///{tmp_path}/none.db"))
    assert not (tmp_path / "none.db").exists()
    result = subprocess.run(
        [sys.executable, "-m", "core", "--db", f"sqlite:///{tmp_path}/old.db", "api"],
        cwd=REPO_ROOT,
        env={**os.environ, "WORKSTATION_API_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "schema is not current" in result.stderr and "Traceback" not in result.stderr


def test_token_file_is_generated_once_with_mode_0600(tmp_path):
    path = tmp_path / "data" / "api-token"
    first = load_token(None, path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(None, path) == first
    assert load_token("configured-token-123", path) == "configured-token-123"
    with pytest.raises(InvalidInputError):
        load_token("short", path)
    assert token_matches(first, first) and not token_matches(first[:-1], first)
    assert not token_matches(None, first) and not token_matches("", first)


def test_cors_is_off_unless_origins_are_set(app, known_db):
    from fastapi.testclient import TestClient

    headers = {"Origin": "http://example.test", "Authorization": f"Bearer {TOKEN}"}
    plain = TestClient(app).get("/health", headers=headers)
    assert "access-control-allow-origin" not in plain.headers
    ws = Workstation.open_read_only(Settings(database_url=known_db))
    try:
        allowed = create_app(ws, token=TOKEN, cors_origins=["http://example.test"])
        r = TestClient(allowed).get("/health", headers=headers)
        assert r.headers["access-control-allow-origin"] == "http://example.test"
    finally:
        ws.close()
