"""Read-only engines: a database opened so that no statement on it can write.

* SQLite: the file is opened with the URI ``file:PATH?mode=ro`` (the driver refuses every
  write with ``attempt to write a readonly database``) and ``PRAGMA query_only`` is set on
  each connection as a second guard. A missing file is not created.
* PostgreSQL (and other servers): every connection starts with
  ``default_transaction_read_only=on`` (a write fails with ``cannot execute ... in a
  read-only transaction``).

The schema is never migrated through such an engine: :func:`check_schema_current` refuses
a database whose schema is not at the newest revision.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.db._migrate import is_current
from core.errors import ConflictError, NotFoundError


def _sqlite_read_only_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _postgres_read_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def create_read_only_engine(url: str) -> Engine:
    """An engine on ``url`` through which nothing can be written.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL (a SQLite file or a server database; not ``:memory:``).

    Returns
    -------
    sqlalchemy.Engine
        SQLite: the file opened ``mode=ro``; a server: read-only transactions only.

    Raises
    ------
    NotFoundError
        A SQLite file that does not exist (it is never created here).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
        if backend == "postgresql":
            event.listen(engine, "connect", _postgres_read_only)
        return engine
    if not parsed.database or parsed.database == ":memory:":
        raise NotFoundError("database: an in-memory database cannot be opened read-only")
    path = Path(parsed.database).expanduser().resolve()
    if not path.is_file():
        raise NotFoundError(f"database: no database file at {path}")
    driver = parsed.drivername  # sqlite or sqlite+pysqlite
    engine = create_engine(
        f"{driver}:///file:{quote(str(path))}?mode=ro&uri=true",
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(engine, "connect", _sqlite_read_only_pragmas)
    return engine


def check_schema_current(engine: Engine) -> None:
    """Refuse a database whose schema is not at the newest migration (nothing is changed).

    Raises
    ------
    ConflictError
        The schema is older (or absent): start the workstation once (``python -m core
        portfolio list``) to migrate it, then open it read-only.
    """
    try:
        current = is_current(engine)
    except OperationalError as exc:
        raise ConflictError(
            f"database: cannot be read ({exc.orig}); is it a workstation database?"
        ) from None
    if not current:
        raise ConflictError(
            "database: its schema is not current; run any command once "
            "(e.g. `python -m core portfolio list`) to migrate it, then start the API"
        )
