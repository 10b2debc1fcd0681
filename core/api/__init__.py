"""The read-only REST and WebSocket API over the workstation's database.

- :func:`create_app` — the FastAPI app over a workstation opened read-only;
- :func:`load_token`, :func:`token_matches` — the API token (setting or ``data/api-token``)
  and its constant-time check; :func:`install_redaction` keeps it out of the logs;
- :func:`read_status`, :func:`write_status`, :func:`clear_status` — ``data/api-status.json``,
  where a running server says it is (the Home page reads it).

``python -m core api [--host 127.0.0.1] [--port 8601]`` serves it with uvicorn. The status
helpers import no web framework (the Home page reads them); the rest loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.api._status import STATUS_FILE, clear_status, read_status, write_status

if TYPE_CHECKING:
    from core.api._app import create_app
    from core.api._auth import TOKEN_FILE, load_token, token_matches
    from core.api._redact import install_redaction

_LAZY = {
    "create_app": "core.api._app",
    "load_token": "core.api._auth",
    "token_matches": "core.api._auth",
    "TOKEN_FILE": "core.api._auth",
    "install_redaction": "core.api._redact",
}


def __getattr__(name: str) -> Any:
    """Load the web framework's parts only when one is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "STATUS_FILE",
    "TOKEN_FILE",
    "clear_status",
    "create_app",
    "install_redaction",
    "load_token",
    "read_status",
    "token_matches",
    "write_status",
]
