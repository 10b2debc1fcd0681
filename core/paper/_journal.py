"""Where a worker's run is (:class:`Cursor`) and what it has to write next (:class:`Journal`).

Both are shared, by constructor, by the worker's parts: the cursor is the one place that
says which event is being processed and whether the run writes (it does not while it
re-runs committed events after a crash); the journal is the outbox the parts fill and the
session writer empties at each commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.paper._records import Pending, utcnow


@dataclass
class Cursor:
    """The run's position in its feed."""

    seq: int = 0  # the event being processed (alerts and fills carry it)
    next_seq: int = 0  # events processed so far: the next event to process
    ts: datetime | None = None  # the time of event ``seq``
    live: bool = False  # writing; False while committed events are re-run

    def enter(self, seq: int, ts: datetime) -> None:
        self.seq, self.ts, self.next_seq = seq, ts, seq + 1


class Journal:
    """Rows, alerts and audit events produced since the last commit.

    Nothing while the cursor is not live: a re-run writes nothing.
    """

    def __init__(self, session_id: int, cursor: Cursor):
        self.session_id, self.cursor = session_id, cursor
        self.pending = Pending()

    def reset(self) -> None:
        """Forget what was produced (the re-run of committed events is over)."""
        self.pending = Pending()

    def audit(self, kind: str, payload: dict) -> None:
        if self.cursor.live:
            self.pending.audit.append((kind, payload))

    def alert(self, level: str, rule: str, message: str, audit: bool = True) -> None:
        """An alert for the console; a warning, block or critical one is audited too."""
        cursor = self.cursor
        if not cursor.live:
            return
        self.pending.alerts.append(
            {
                "session_id": self.session_id,
                "seq": cursor.seq,
                "ts": cursor.ts or utcnow(),
                "level": level,
                "rule": rule,
                "message": message,
            }
        )
        if audit and level in ("warn", "block", "critical"):
            self.pending.audit.append(
                (
                    "limit_breach",
                    {"session": self.session_id, "level": level, "rule": rule, "message": message},
                )
            )
