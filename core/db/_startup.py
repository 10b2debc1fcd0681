"""The start-up lock: one process at a time migrates a database and seeds it.

Processes started together on a fresh database (two commands, the app and a worker) would
each run the Alembic migrations and each seed the demo portfolio. :func:`startup_lock` is
held around that work in :meth:`core.workstation.Workstation.prepare`: the first process
does it, the others wait on the lock, then find it done and go on.

* PostgreSQL: a session-level ``pg_advisory_lock`` taken on a connection of its own, kept
  open until the work is done (advisory locks belong to one database of the server).
* SQLite file: an exclusive ``fcntl`` lock on a file beside the database (``NAME.db.lock``;
  it stays there, empty). SQLite's own locks cannot do it: a lock held on one connection
  would shut out the migration's connection in the same process.
* An in-memory SQLite database belongs to one process; other backends (and platforms
  without ``fcntl``) get no lock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

try:
    import fcntl
except ImportError:  # not a POSIX system
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("core.db")

# pg_advisory_lock's 64-bit key for "workstation start-up" (any constant other code does not use)
ADVISORY_KEY = 0x5753_5354_4152_5431


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's start-up lock for the ``with`` block.

    Waits for another process's block to end.
    """
    url = engine.url
    backend = url.get_backend_name()
    if backend == "postgresql":
        with _advisory_lock(engine):
            yield
    elif backend == "sqlite" and url.database and url.database != ":memory:":
        with _file_lock(Path(f"{Path(url.database).expanduser()}.lock")):
            yield
    else:
        yield


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    try:
        handle = open(path, "a+b")  # noqa: SIM115  (closed below, after the unlock)
    except OSError as exc:  # a read-only folder: go on unlocked rather than refuse to start
        log.warning("start-up lock %s not available (%s); starting without it", path, exc)
        yield
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
