"""Where the running API says it is: ``data/api-status.json`` (host, port, pid, start).

The server writes it when it starts and removes it when it stops; the Home page reads it
(a file read and a process check: nothing that could slow the page) to show whether the
API runs and at which address.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core._processes import process_alive
from core.config import DATA_DIR

STATUS_FILE = DATA_DIR / "api-status.json"


def _path(path: Path | None) -> Path:
    return STATUS_FILE if path is None else Path(path)  # looked up now: tests point it elsewhere


def write_status(host: str, port: int, path: Path | None = None) -> None:
    """Record that this process serves the API on ``host:port`` (in ``path``, or the default)."""
    path = _path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = f"[{host}]" if ":" in host else host
    status = {
        "host": host,
        "port": port,
        "url": f"http://{shown}:{port}",
        "pid": os.getpid(),
        "started_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status), encoding="utf-8")
    tmp.replace(path)


def clear_status(path: Path | None = None) -> None:
    """Remove the record if it is this process's."""
    path = _path(path)
    status = read_status(path, check_alive=False)
    if status is not None and status.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def read_status(path: Path | None = None, *, check_alive: bool = True) -> dict[str, Any] | None:
    """The running API's ``host``, ``port``, ``url``, ``pid``, ``started_at``; None if none.

    A record left by a process that is gone (killed) counts as none.
    """
    try:
        status = json.loads(_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or not isinstance(status.get("pid"), int):
        return None
    if check_alive and not process_alive(status["pid"]):
        return None
    return status
