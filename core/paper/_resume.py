"""Resuming a session: re-run its committed events without writing, then check the fills."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import FillRow, PaperCommandRow
from core.paper._feeds import Feed, recorded_market
from core.paper._sleeve import PaperError
from core.paper._store import Pending


class ResumeMixin:
    """Part of :class:`~core.paper._worker.PaperWorker`."""

    def _catch_up(self) -> None:
        """Re-run the committed events without writing: strategies, order books, sleeves,
        regime and drawdown come back exactly as they were."""
        target = self.committed
        if not target:
            return
        with self.ws.sessions() as s:
            replayed = s.execute(
                select(
                    PaperCommandRow.id,
                    PaperCommandRow.kind,
                    PaperCommandRow.payload,
                    PaperCommandRow.applied_seq,
                )
                .where(
                    PaperCommandRow.session_id == self.session_id,
                    PaperCommandRow.applied_seq.is_not(None),
                )
                .order_by(PaperCommandRow.applied_seq, PaperCommandRow.id)
            ).all()
            stored = s.scalar(
                select(func.count()).where(
                    FillRow.portfolio_id == self.portfolio_id,
                    FillRow.fill_id.like(f"P{self.session_id}-%"),
                )
            )
        commands = {}
        for c in replayed:
            commands.setdefault(c.applied_seq, []).append(c)
        if self.feed.live:
            self._catch_up_recorded(target, commands)
            self._check_resumed(target, stored)
            return
        if target > len(self.feed):
            raise PaperError(
                f"session {self.name!r} committed {target} events but its feed has "
                f"{len(self.feed)}: the data changed since the session started"
            )
        for event in self.feed.events(0):
            if event.seq >= target:
                break
            for c in commands.get(event.seq, ()):
                self._apply(c.id, c.kind, c.payload)
            self._process(event)
        self._reapply_last(commands.get(target, ()))
        self._check_resumed(target, stored)

    def _reapply_last(self, commands) -> None:
        """Orders, cancels and parameter changes applied after the last committed event
        (just before a stop) are in the book again: the resumed run trades them."""
        for c in commands:
            if c.kind in ("order", "cancel", "params"):
                self._apply(c.id, c.kind, c.payload)

    def _catch_up_recorded(self, target: int, commands: dict) -> None:
        """A live feed cannot be asked again: re-run the bars the session recorded."""
        with self.ws.engine.connect() as conn:
            market, _ = recorded_market(conn, self.session_id, self.symbols, target)
        if market.n_bars != target or market.index.hasnans:
            raise PaperError(
                f"session {self.name!r}: recorded bars do not cover its {target} committed events"
            )
        for event in Feed(market, self.feed.instruments, closed=False).events(0):
            for c in commands.get(event.seq, ()):
                self._apply(c.id, c.kind, c.payload)
            self._process(event)
        self._reapply_last(commands.get(target, ()))
        self.feed.resume_after(market.index[-1])

    def _check_resumed(self, target: int, stored: int) -> None:
        if self.n_fills != stored:
            raise PaperError(
                f"resume diverged: re-running {target} events gave {self.n_fills} fills, "
                f"the database holds {stored}"
            )
        self.pending = Pending()
        for sleeve in self.sleeves:  # from here on, only orders that change are written
            engine = sleeve.engine
            sleeve.last_order_id = engine.last_order_id
            sleeve.tracked = {
                o.id: (o.status, o.filled, o.quantity, o.limit_price, o.stop_price)
                for o in engine.open_orders
            }
        self._log(f"session {self.name!r}: re-ran {target} events, {stored} fills match")
