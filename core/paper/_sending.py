"""Commands for a session's worker: checked before they are queued, answered when no worker will.

See :meth:`PaperService.send <core.paper._service.PaperService.send>`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from core.audit import append_event
from core.db import OrderRow, PaperCommandRow, PaperSessionRow
from core.paper._config import SessionConfig
from core.paper._feeds import SYNTHETIC_SYMBOLS
from core.paper._records import utcnow
from core.paper._sleeve import PaperServiceError
from core.paper._store import settle_commands
from core.paper._types import (
    CancelCommand,
    CommandError,
    CommandKind,
    CommandStatus,
    OrderCommand,
    SessionStatus,
    parse_command,
)
from core.strategies import validate_params

COMMAND_KINDS = tuple(k.value for k in CommandKind)


def send(paper, name: str, kind: str, payload: dict | None = None) -> int:
    """Queue a command for the session's worker; returns its id.

    Manual orders, cancels and parameter changes are checked here first so that a
    mistake is reported at once, next to the input, rather than by the worker. A
    command never stays pending unanswered: with no worker to apply it, a stop is done
    here, and one that arrives as the session ends is answered here
    (:func:`_answer_late`).
    """
    if kind not in COMMAND_KINDS:
        raise PaperServiceError(f"unknown command {kind!r}; use one of {COMMAND_KINDS}")
    payload = dict(payload or {})
    row = paper._row(name)
    config = SessionConfig.model_validate(row.config)
    keys = {s.key: s for s in config.sleeves}
    strategy = payload.get("strategy")
    if strategy is not None and strategy not in keys:
        raise PaperServiceError(f"no strategy {strategy!r} in this session", "strategy")
    command = _parse(kind, payload)
    if isinstance(command, OrderCommand):
        _check_symbol(name, config, payload)
    elif kind == CommandKind.PARAMS:
        sleeve = keys[strategy] if strategy else config.sleeves[0]
        current = paper.snapshot_state(name).get("strategies", {}).get(sleeve.key, {})
        merged = {**(current.get("params") or sleeve.params), **payload.get("params", {})}
        try:
            validate_params(sleeve.strategy, merged, where="params")
        except ValueError as exc:
            raise PaperServiceError(str(exc), "params") from exc
    elif isinstance(command, CancelCommand):
        payload["order_id"] = command.order_id
        _check_cancel(paper, name, row, strategy or config.sleeves[0].key, command.order_id)
    if row.status == SessionStatus.FINISHED:
        raise PaperServiceError(
            f"session {name!r} has finished (its feed ended): there is nothing to {kind}",
            "session",
        )
    if kind == CommandKind.STOP and not paper.worker_alive(row):
        return _stop_here(paper, name, row)
    with paper._sessions.begin() as s:
        command_id = s.execute(
            insert(PaperCommandRow).values(
                session_id=row.id,
                kind=kind,
                payload=payload,
                status=CommandStatus.PENDING,
                message="",
                created_at=utcnow(),
            )
        ).inserted_primary_key[0]
    _answer_late(paper, name, command_id, kind)
    return command_id


def _stop_here(paper, name: str, row: PaperSessionRow) -> int:
    """No worker to tell: the session is stopped here and the command is done."""
    with paper._sessions.begin() as s:
        s.get(PaperSessionRow, row.id).status = SessionStatus.STOPPED
        append_event(s, "paper_stopped", {"session": name, "by": "user"})
        now = utcnow()
        return s.execute(
            insert(PaperCommandRow).values(
                session_id=row.id,
                kind="stop",
                payload={},
                status=CommandStatus.APPLIED,
                message="no worker was running: the session is stopped",
                created_at=now,
                applied_at=now,
            )
        ).inserted_primary_key[0]


def _answer_late(paper, name: str, command_id: int, kind: str) -> None:
    """The worker may have ended between our reading and the insert: read again.

    A session that finished meanwhile answers the command as its worker would have; a stop with no
    worker left is done here; anything else waits, saying so, for the next ``paper run`` (which
    applies it before its first event).
    """
    row = paper._row(name)
    if paper.worker_alive(row):
        return
    with paper._sessions.begin() as s:
        if row.status == SessionStatus.FINISHED:
            settle_commands(s.connection(), row.id, SessionStatus.FINISHED)
            return
        command = s.get(PaperCommandRow, command_id)
        if command.status != CommandStatus.PENDING:
            return  # the worker answered it on its way out
        if kind == CommandKind.STOP:
            s.get(PaperSessionRow, row.id).status = SessionStatus.STOPPED
            command.status, command.applied_at = CommandStatus.APPLIED, utcnow()
            command.message = "the worker had ended: the session is stopped"
        else:
            command.message = "queued: no worker runs the session; `paper run` applies it"


def _check_symbol(name: str, config: SessionConfig, payload: dict) -> None:
    symbols = session_symbols(config)
    symbol = str(payload.get("symbol") or symbols[0]).strip().upper()
    if symbol not in symbols:
        raise PaperServiceError(
            f"symbol {symbol!r} is not traded in session {name!r} (it trades {', '.join(symbols)})",
            "symbol",
        )
    payload["symbol"] = symbol


def _parse(kind: str, payload: dict):
    """The command, validated by its model (:mod:`core.paper._types`).

    Raises the first problem as a :class:`PaperServiceError` naming the input.
    """
    try:
        return parse_command(kind, payload)
    except CommandError as exc:
        raise PaperServiceError(exc.message, exc.field) from None


def _check_cancel(paper, name: str, row, sleeve: str, order_id: int) -> None:
    open_ids = {
        o["id"]
        for o in ((row.state or {}).get("strategies", {}).get(sleeve, {}).get("open_orders")) or ()
    }
    if order_id in open_ids:
        return
    with paper._sessions() as s:
        status = s.scalar(
            select(OrderRow.status).where(
                OrderRow.portfolio_id == row.portfolio_id,
                OrderRow.client_order_id == f"{row.id}:{sleeve}:{order_id}",
            )
        )
    if status is None:
        raise PaperServiceError(
            f"no order {order_id} in strategy {sleeve!r} of session {name!r}", "order_id"
        )
    if status not in ("open", "partial", "pending"):
        raise PaperServiceError(
            f"order {order_id} of {sleeve!r} is {status}: there is nothing to cancel",
            "order_id",
        )


def check_order(payload: dict) -> None:
    """Raise :class:`PaperServiceError` for a manual order's payload that does not parse."""
    _parse(CommandKind.ORDER, payload)


def session_symbols(config: SessionConfig) -> list[str]:
    """The instruments a session trades, in feed order (as :func:`build_feed` names them)."""
    feed = config.feed
    if feed.symbols:
        return list(feed.symbols)
    if feed.data_file:
        return [Path(feed.data_file).stem.upper()]
    return [SYNTHETIC_SYMBOLS[feed.preset]]
