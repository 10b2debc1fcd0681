"""Commands a session's worker applies.

Pause, resume, stop, manual orders, cancels, parameter changes (also re-applied at their event when
a session is re-run).

:class:`CommandApplier` turns one parsed command (:mod:`core.paper._types`) into calls on
the session's book and engines and answers it (status, message); it knows nothing of the
loop that polls for commands or of the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import InvalidInputError, WorkstationError
from core.execution import OrderIntent, OrderSource, OrderStatus
from core.paper._book import SessionBook
from core.paper._journal import Journal
from core.paper._tracking import OrderTracker
from core.paper._types import (
    CancelCommand,
    CommandError,
    CommandStatus,
    OrderCommand,
    ParamsCommand,
    PauseCommand,
    ResumeCommand,
    SessionStatus,
    StopCommand,
    parse_command,
)

Answer = tuple[CommandStatus, str]


@dataclass
class RunControls:
    """What commands tell the loop: hold (paused) or end (stop requested)."""

    paused: bool = False
    stop_requested: bool = False


class CommandApplier:
    """Applies commands before event ``journal.cursor.next_seq``.

    Parameters
    ----------
    book : SessionBook
        The sleeves orders, cancels and parameter changes act on.
    journal, tracker
        Where audit events and changed orders are queued (live only).
    controls : RunControls
        Set by pause, resume and stop.
    set_status : callable(status, audit)
        Records the session's status (pause and resume, live only).
    """

    def __init__(
        self,
        book: SessionBook,
        journal: Journal,
        tracker: OrderTracker,
        controls: RunControls,
        set_status: Callable[..., None],
    ):
        self.book, self.journal, self.tracker = book, journal, tracker
        self.controls, self.set_status = controls, set_status
        self._apply_kind = {
            PauseCommand: self._pause,
            ResumeCommand: self._resume,
            StopCommand: self._stop,
            OrderCommand: self._order,
            CancelCommand: self._cancel,
            ParamsCommand: self._params,
        }

    @property
    def live(self) -> bool:
        return self.journal.cursor.live

    def apply_stored(self, command_id: int, kind: str, payload: dict | None) -> Answer:
        """Apply a command as stored (kind and payload); a bad one is rejected, saying why."""
        try:
            command = parse_command(kind, payload)
        except CommandError as exc:
            return CommandStatus.REJECTED, exc.message
        return self.apply(command_id, command, dict(payload or {}))

    def apply(self, command_id: int, command, payload: dict | None = None) -> Answer:
        """``payload``: the command as sent (its audit event carries it)."""
        try:
            return self._apply_kind[type(command)](command_id, command, payload or {})
        except (WorkstationError, KeyError, ValueError, TypeError) as exc:
            return CommandStatus.REJECTED, str(exc).strip("'\"")

    def _pause(self, command_id: int, _command, _payload) -> Answer:
        self.controls.paused = True
        if self.live:
            self.set_status(SessionStatus.PAUSED, audit={"command": command_id})
        return CommandStatus.APPLIED, "paused"

    def _resume(self, command_id: int, _command, _payload) -> Answer:
        self.controls.paused = False
        if self.live:
            self.set_status(SessionStatus.RUNNING, audit={"command": command_id})
        return CommandStatus.APPLIED, "resumed"

    def _stop(self, _command_id, _command, _payload) -> Answer:
        if self.live:
            self.controls.stop_requested = True
        return CommandStatus.APPLIED, "stopping"

    def _cancel(self, _command_id, command: CancelCommand, payload: dict) -> Answer:
        sleeve = self.book.sleeve(command.strategy)
        if not sleeve.engine.cancel(command.order_id, "cancelled by user"):
            return CommandStatus.REJECTED, f"order {command.order_id} is not open"
        if self.live:
            self.tracker.track(sleeve)
        self.journal.audit("order_cancelled", {"session": self.journal.session_id, **payload})
        return CommandStatus.APPLIED, f"order {command.order_id} cancelled"

    def _order(self, _command_id, command: OrderCommand, payload: dict) -> Answer:
        book = self.book
        sleeve = book.sleeve(command.strategy)
        symbol = command.symbol or book.symbols[0]
        if symbol not in book.instruments:
            raise InvalidInputError(
                f"symbol {symbol!r} is not traded in this session", field="symbol"
            )
        intent = OrderIntent(
            symbol,
            command.side,
            command.quantity,
            type=command.type,
            limit_price=command.limit_price,
            stop_price=command.stop_price,
            tif=command.tif,
            tag="manual",
            strategy=sleeve.key,
            source=OrderSource.MANUAL,
        )
        # placed before the next event: it fills at that event's open at the earliest
        order = sleeve.engine.submit(intent, before=self.journal.cursor.next_seq)
        if self.live:
            self.tracker.track(sleeve)
            self.journal.audit(
                "manual_order",
                {
                    "session": self.journal.session_id,
                    "strategy": sleeve.key,
                    "order": order.id,
                    **payload,
                },
            )
        if order.status is OrderStatus.REJECTED:
            return CommandStatus.REJECTED, order.reason
        return CommandStatus.APPLIED, f"order {order.id} accepted ({sleeve.key})"

    def _params(self, _command_id, command: ParamsCommand, _payload) -> Answer:
        sleeve = self.book.sleeve(command.strategy)
        engine = sleeve.engine
        cls = type(engine.strategy)
        params = cls.Params.model_validate(
            {**engine.strategy.params.model_dump(), **command.params}
        )
        # warmed up on the bars so far, no orders; same collaborators (a model source)
        engine.replace_strategy(engine.strategy.rebuilt(params))
        self.journal.audit(
            "params_changed",
            {
                "session": self.journal.session_id,
                "strategy": sleeve.key,
                "params": params.model_dump(mode="json"),
            },
        )
        return (
            CommandStatus.APPLIED,
            f"{sleeve.key} parameters now {params.model_dump(mode='json')}",
        )
