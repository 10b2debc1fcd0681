"""Keep the token out of every log line, uvicorn's included.

uvicorn logs a WebSocket's handshake with its query string (``"WebSocket
/ws/live-updates?session=s&token=..." [accepted]``) on ``uvicorn.error``, not on its access
log. :class:`TokenRedaction` rewrites such records before any handler sees them: every
``token=VALUE`` becomes ``token=***`` and the token itself, wherever it appears, ``***``.
"""

from __future__ import annotations

import logging
import re

TOKEN_PARAM = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "core.api", "core.api.access")


class TokenRedaction(logging.Filter):
    """A logging filter that masks ``token=...`` and the token's value in a record."""

    def __init__(self, token: str):
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message (formatted once here); always keep the record."""
        message = record.getMessage()
        masked = TOKEN_PARAM.sub(r"\1***", message).replace(self._token, "***")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_redaction(token: str) -> TokenRedaction:
    """Mask the token on the loggers the server writes to (call after uvicorn's config)."""
    redaction = TokenRedaction(token)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(redaction)
    return redaction
