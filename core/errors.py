"""The workstation's own errors: one base class, one message style.

Every error the workstation raises on purpose derives from :class:`WorkstationError`, so the
command line, the pages and the workers catch that one base (never a bare ``ValueError``).
Its message reads ``where: what is wrong`` — ``where`` names the input, field path, file
line or trade at fault — and never carries a traceback, a pydantic dump or a URL.

The domain classes (``PortfolioError``, ``LedgerError``, ...) keep ``ValueError`` as a
second base so older callers that catch it still work.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

MAX_LISTED = 10  # problems listed in one message before "and N more"


class WorkstationError(Exception):
    """A request the workstation refuses.

    The base of every error the workstation raises on purpose: the command line and the
    pages catch this one class.

    Parameters
    ----------
    message : str
        What is wrong, ideally already ``where: what is wrong``.
    field : str or None
        The input at fault (a form field, a request key), or None.
    where : str or None, keyword-only
        Prefixed to the message as ``where: message`` unless the message starts with it.
    """

    def __init__(self, message: str = "", field: str | None = None, *, where: str | None = None):
        if where and not message.startswith(f"{where}:"):
            message = f"{where}: {message}"
        super().__init__(message)
        self.field = field
        self.where = where


class InvalidInputError(WorkstationError, ValueError):
    """An input that breaks a rule: a field, a file line or a table row at fault.

    Also a ``ValueError``, for callers that catch that. ``line`` (a file's line) and ``row``
    (a table's row) are set only when given, so they show in a refusal's details only then.

    Parameters
    ----------
    message : str
        What is wrong.
    field : str or None
        The input at fault, or None.
    where : str or None, keyword-only
        Prefixed to the message as ``where: message``.
    line : int or None, keyword-only
        The line of a text input at fault (1-based).
    row : int or None, keyword-only
        The row of a table at fault.
    """

    line: int | None = None
    row: int | None = None

    def __init__(
        self,
        message: str = "",
        field: str | None = None,
        *,
        where: str | None = None,
        line: int | None = None,
        row: int | None = None,
    ):
        super().__init__(message, field, where=where)
        if line is not None:
            self.line = line
        if row is not None:
            self.row = row


class NotFoundError(WorkstationError, KeyError):
    """A named thing (portfolio, symbol, session, rule, preset) that does not exist.

    Also a ``KeyError`` (so a ``LookupError``), for callers that catch those; unlike a bare
    ``KeyError`` its text is the message itself, not the message in quotes.
    """

    def __str__(self) -> str:
        """The message itself (a ``KeyError`` would quote it)."""
        return str(self.args[0]) if self.args else ""


class ConflictError(WorkstationError):
    """A request that clashes with what is stored: a name already taken, a state already set."""


class BlockedByRiskError(WorkstationError):
    """An order or action a risk rule (a limit, the kill switch) refuses."""


KINDS: tuple[type[WorkstationError], ...] = (
    InvalidInputError,
    NotFoundError,
    ConflictError,
    BlockedByRiskError,
)
"""The kinds of refusal; every raise site picks one (through its room's class)."""

REFUSALS: tuple[type[BaseException], ...] = (WorkstationError, ValidationError)
"""What the command line and the pages show as a refusal (a message, no reference): the
workstation's own errors and pydantic's (read by :func:`describe_validation`)."""


def location(loc: Iterable[Any]) -> str:
    """A pydantic error location as a path: ``("trades", 3, "price")`` → ``trades[3].price``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def validation_problems(
    exc: Any, *, limit: int = MAX_LISTED, where_of: Callable[[tuple], str] = location
) -> list[str]:
    """``field.path: message`` for each error of a pydantic ``ValidationError`` (no URLs).

    ``where_of`` turns an error's location into the text before the colon (the command line
    names options this way). An error of the whole model (a model validator's, no location)
    is its message alone.
    """
    problems = []
    for error in exc.errors(include_url=False)[:limit]:
        where = where_of(tuple(error.get("loc", ())))
        problems.append(f"{where}: {_message(error)}" if where else _message(error))
    return problems


def describe_validation(
    exc: Any, where: str, *, limit: int = MAX_LISTED, where_of: Callable[[tuple], str] = location
) -> str:
    """One line for a pydantic ``ValidationError``: ``where: a.b: msg; c[2]: msg (and N more)``."""
    problems = validation_problems(exc, limit=limit, where_of=where_of)
    more = exc.error_count() - len(problems)
    tail = f" (and {more} more)" if more > 0 else ""
    return (f"{where}: " if where else "") + "; ".join(problems) + tail


def model_label(exc: Any) -> str:
    """A readable ``where`` for a pydantic error with no better one.

    Its model's name in words (``CommissionModel`` → ``commission model``, ``SmaCrossoverParams`` →
    ``sma crossover params``).
    """
    title = str(getattr(exc, "title", "") or "input")
    return " ".join(re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", title)).lower() or title


def join_problems(where: str, problems: list[str], *, limit: int = MAX_LISTED) -> str:
    """``where: p1; p2; ... (and N more)`` for a list of problems found in one input."""
    shown = problems[:limit]
    more = len(problems) - len(shown)
    tail = f" (and {more} more)" if more > 0 else ""
    return f"{where}: " + "; ".join(shown) + tail


def error_reference() -> str:
    """A short reference (6 hex digits) for an unexpected error.

    It ties the error's one-line message to its traceback in the log.
    """
    return secrets.token_hex(3).upper()


def failure_message(exc: BaseException, *, logger: str = "core") -> str:
    """One line for a failure recorded where a user reads it (a job's or a session's error).

    A refusal (a :class:`WorkstationError`) keeps its message, a pydantic error reads
    ``model: field: problem`` without URLs; anything else, a bare ``ValueError`` included,
    becomes a reference whose traceback goes to the log (a worker's log file is its standard
    error).
    """
    if isinstance(exc, ValidationError):
        return describe_validation(exc, model_label(exc))
    if isinstance(exc, WorkstationError):
        return str(exc)
    ref = error_reference()
    logging.getLogger(logger).error("unexpected error (ref %s)", ref, exc_info=exc)
    return f"unexpected error (ref {ref}); details in the log"


__all__ = [
    "KINDS",
    "MAX_LISTED",
    "REFUSALS",
    "BlockedByRiskError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "WorkstationError",
    "describe_validation",
    "error_reference",
    "failure_message",
    "join_problems",
    "location",
    "model_label",
    "validation_problems",
]
