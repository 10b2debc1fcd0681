"""The API token: where it comes from, and its constant-time check.

The token is ``WORKSTATION_API_TOKEN`` when set; otherwise the one in ``data/api-token``,
generated there (32 random bytes, URL-safe, file mode 0600) on first start. HTTP requests
send it as ``Authorization: Bearer TOKEN``; a WebSocket as ``?token=TOKEN`` or as its first
message. It is compared with :func:`hmac.compare_digest` and never logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.config import DATA_DIR
from core.errors import InvalidInputError

TOKEN_FILE = DATA_DIR / "api-token"
MIN_LENGTH = 16


def load_token(configured: str | None, path: Path = TOKEN_FILE) -> str:
    """The API token: ``configured`` when given, else the file's (created when missing).

    Parameters
    ----------
    configured : str or None
        ``WORKSTATION_API_TOKEN`` (the setting ``api_token``).
    path : Path
        The token file, ``data/api-token`` by default; created with mode 0600.

    Returns
    -------
    str
        The token.
    """
    if configured is not None:
        token = configured.strip()
        if len(token) < MIN_LENGTH:
            raise InvalidInputError(
                f"WORKSTATION_API_TOKEN: must be at least {MIN_LENGTH} characters"
            )
        return token
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= MIN_LENGTH:
            os.chmod(path, 0o600)
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return token


def token_matches(given: str | None, expected: str) -> bool:
    """Whether ``given`` is the token, in time independent of where they differ."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


bearer = HTTPBearer(auto_error=False, description="The API token (see data/api-token)")


class RequireToken:
    """The dependency of every route but ``/health``: a bearer header with the token."""

    def __init__(self, token: str):
        self._token = token

    def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> None:
        """Refuse (401) a request without the token or with another."""
        if credentials is None:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        if credentials.scheme.lower() != "bearer" or not token_matches(
            credentials.credentials, self._token
        ):
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
