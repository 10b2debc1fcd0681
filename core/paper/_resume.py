"""Resuming a session: re-run its committed events without writing, then check the fills.

Crash-only: a fresh start and a resume after a crash are the same path; the commands that
were applied are re-applied before the event they were applied before, the events are
re-run through the same ``process``, and the fills it produces must be the stored ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from core.db import FillRow, PaperCommandRow
from core.paper._feeds import Event, Feed, recorded_market
from core.paper._sleeve import PaperError
from core.paper._types import CommandKind


@dataclass(frozen=True)
class StoredCommand:
    id: int
    kind: str
    payload: dict
    applied_seq: int


@dataclass
class Replay:
    """What a session committed: the commands applied, and how many fills are stored.

    The commands are keyed by the event they preceded.
    """

    commands: dict[int, list[StoredCommand]] = field(default_factory=dict)
    stored_fills: int = 0


class Resumer:
    """Re-runs the committed events of session ``name`` on ``feed`` (:meth:`catch_up`)."""

    def __init__(self, name: str, feed, *, log: Callable[[str], None] = lambda _m: None):
        self.name, self.feed, self.log = name, feed, log

    @staticmethod
    def read(sessions: sessionmaker, session_id: int, portfolio_id: int) -> Replay:
        """The session's applied commands and stored fill count."""
        with sessions() as s:
            rows = s.execute(
                select(
                    PaperCommandRow.id,
                    PaperCommandRow.kind,
                    PaperCommandRow.payload,
                    PaperCommandRow.applied_seq,
                )
                .where(
                    PaperCommandRow.session_id == session_id,
                    PaperCommandRow.applied_seq.is_not(None),
                )
                .order_by(PaperCommandRow.applied_seq, PaperCommandRow.id)
            ).all()
            stored = s.scalar(
                select(func.count()).where(
                    FillRow.portfolio_id == portfolio_id,
                    FillRow.fill_id.like(f"P{session_id}-%"),
                )
            )
        replay = Replay(stored_fills=stored or 0)
        for r in rows:
            replay.commands.setdefault(r.applied_seq, []).append(StoredCommand(*r))
        return replay

    def catch_up(
        self,
        target: int,
        replay: Replay,
        *,
        apply: Callable[[int, str, dict], object],
        process: Callable[[Event], None],
        fills: Callable[[], int],
        recorded: Feed | None = None,
    ) -> None:
        """Re-run events ``0 … target − 1``, then check that they gave the stored fills.

        A live feed re-runs the ``recorded`` bars, since it cannot be asked again.

        ``apply(command_id, kind, payload)`` re-applies one command, ``process(event)``
        re-runs one event (writing nothing), ``fills()`` counts the fills produced so far.
        """
        if not target:
            return
        run = _Rerun(apply, process)
        if recorded is not None:
            run(recorded.events(0), target, replay)
            self.feed.resume_after(recorded.market.index[-1])
        else:
            if target > len(self.feed):
                raise PaperError(
                    f"session {self.name!r} committed {target} events but its feed has "
                    f"{len(self.feed)}: the data changed since the session started"
                )
            run(self.feed.events(0), target, replay)
        produced = fills()
        if produced != replay.stored_fills:
            raise PaperError(
                f"resume diverged: re-running {target} events gave {produced} fills, "
                f"the database holds {replay.stored_fills}"
            )
        self.log(
            f"session {self.name!r}: re-ran {target} events, {replay.stored_fills} fills match"
        )

    @staticmethod
    def recorded_feed(engine: Engine, session_id: int, name: str, feed, target: int) -> Feed:
        """A live session's committed events, from the bars it recorded."""
        with engine.connect() as conn:
            market, _ = recorded_market(conn, session_id, feed.symbols, target)
        if market.n_bars != target or market.index.hasnans:
            raise PaperError(
                f"session {name!r}: recorded bars do not cover its {target} committed events"
            )
        return Feed(market, feed.instruments, closed=False)


class _Rerun:
    def __init__(self, apply, process):
        self.apply, self.process = apply, process

    def __call__(self, events, target: int, replay: Replay) -> None:
        for event in events:
            if event.seq >= target:
                break
            for c in replay.commands.get(event.seq, ()):
                self.apply(c.id, c.kind, c.payload)
            self.process(event)
        self._reapply_last(replay.commands.get(target, ()))

    def _reapply_last(self, commands: Sequence[StoredCommand]) -> None:
        """Put the commands applied after the last committed event back in the book.

        Orders, cancels and parameter changes applied just before a stop: the resumed run trades
        them.
        """
        for c in commands:
            if c.kind in (CommandKind.ORDER, CommandKind.CANCEL, CommandKind.PARAMS):
                self.apply(c.id, c.kind, c.payload)
