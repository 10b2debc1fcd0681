"""The paper-trading worker: one process owns a session and trades it event by event.

For each event: the regime filter takes the new return → each strategy's engine (the
backtest engine, stepped one bar at a time) matches orders at the open and runs the
strategy at the close → the order filter (:class:`~core.paper._gate.PaperOrderGate`: the
drawdown controller and the pre-trade checks on the portfolio) vets every new order →
fills are booked on the strategy's sleeve and on the shared portfolio → the fills, their
orders, the positions, the cash and an audit event are committed in one transaction.
Events without fills are committed in small batches.

Crash safety: every feed is deterministic and every command is recorded with the event it
was applied before, so after a crash ``run`` re-runs the committed events without writing
(the state of strategies and order books is rebuilt exactly), checks that it produced the
fills that are stored, and carries on from the first uncommitted event.

The worker is a small loop over parts it is given (:class:`SessionParts`, built by
:func:`build_parts`, the composition root): the book (:mod:`._book`), the order filter
(:mod:`._gate`), the command applier (:mod:`._commands`), the state reporter
(:mod:`._reporting`), the resumer (:mod:`._resume`) and the session writer
(:mod:`._store`); they share only the cursor and the journal (:mod:`._journal`), each
passed to them explicitly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from core.backtest import BacktestEngine, GrowingMarket, RiskGate
from core.db import PaperSessionRow, PortfolioRow
from core.errors import failure_message
from core.instruments import repository as instrument_repo
from core.paper._book import SessionBook
from core.paper._commands import CommandApplier, RunControls
from core.paper._config import SessionConfig
from core.paper._deps import PaperDeps
from core.paper._feeds import IDLE, Clock, Event, build_feed
from core.paper._gate import PaperOrderGate
from core.paper._journal import Cursor, Journal
from core.paper._records import Pending
from core.paper._regimes import RegimeTracker
from core.paper._reporting import StateReporter
from core.paper._resume import Resumer
from core.paper._sleeve import PaperError, Sleeve
from core.paper._store import SessionWriter
from core.paper._tracking import OrderTracker
from core.paper._types import SessionStatus
from core.portfolio import Ledger
from core.risk import RiskLimits, TradingState
from core.strategies import build_strategy

FLUSH_EVENTS = 500  # commit at least every this many events …
FLUSH_SECONDS = 0.2  # … or this often, and at once after a fill or a command
_END = object()  # the feed is exhausted


@dataclass(frozen=True)
class SessionInfo:
    """The session row as the worker read it at its start."""

    name: str
    session_id: int
    portfolio_id: int
    portfolio_name: str
    status: str
    committed: int  # events committed before this run
    config: SessionConfig


@dataclass(frozen=True)
class SessionParts:
    """Everything one session's worker runs on; see :func:`build_parts`."""

    info: SessionInfo
    feed: Any
    writer: SessionWriter
    cursor: Cursor
    journal: Journal
    book: SessionBook
    risk: RiskGate
    regimes: RegimeTracker
    tracker: OrderTracker
    controls: RunControls
    commands: CommandApplier
    reporter: StateReporter
    resumer: Resumer
    limits: tuple[RiskLimits | None, str]  # the portfolio's limits as read at the start
    read_limits: Callable[[], tuple[RiskLimits | None, str]]  # … and as they are now


def read_limits(sessions: sessionmaker, portfolio_id: int) -> tuple[RiskLimits | None, str]:
    """The portfolio's own limits (None: none stored) and trading state."""
    with sessions() as s:
        meta = s.get(PortfolioRow, portfolio_id).meta or {}
    limits = RiskLimits.model_validate(meta["risk_limits"]) if meta.get("risk_limits") else None
    return limits, str(meta.get("trading_state", TradingState.ACTIVE.value))


def read_session(sessions: sessionmaker, name: str) -> SessionInfo:
    with sessions() as s:
        row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == name))
        if row is None:
            raise PaperError(f"no paper session named {name!r}")
        portfolio = s.get(PortfolioRow, row.portfolio_id)
        return SessionInfo(
            name,
            row.id,
            row.portfolio_id,
            portfolio.name,
            row.status,
            row.events,
            SessionConfig.model_validate(row.config),
        )


def build_sleeves(config: SessionConfig, feed, models=None) -> list[Sleeve]:
    """One started engine per strategy, on a market that grows with the feed.

    ``models``: the model source of strategies that trade a trained model.
    """
    symbols, sleeves = feed.symbols, []
    for sc in config.sleeves:
        strategy = build_strategy(sc.strategy, sc.params, models=models)
        if len(symbols) > 1 and not strategy.multi_asset:
            raise PaperError(f"{sc.strategy} trades one instrument; the feed has several")
        engine = BacktestEngine(
            strategy,
            GrowingMarket(symbols, capacity=min(max(len(feed), 1024), 1 << 16)),
            feed.instruments,
            cash=config.cash * sc.allocation,
            execution=config.execution,
            key=sc.key,
        )
        engine.start()
        sleeves.append(Sleeve(sc.key, sc.strategy, sc.allocation, engine))
    return sleeves


def build_parts(deps: PaperDeps, name: str, *, log: Callable[[str], None]) -> SessionParts:
    """The composition root: read the session, build its feed and wire its parts."""
    info = read_session(deps.sessions, name)
    cfg = info.config
    feed = build_feed(cfg.feed, deps.backtests, allow_network=deps.allow_network)
    with deps.sessions() as s:  # stored when the session was created (read only here)
        ids = {
            sym: row.id
            for sym in feed.instruments
            if (row := instrument_repo.get_row(s, sym)) is not None
        }
    writer = SessionWriter(
        deps.engine, info.session_id, info.portfolio_id, info.portfolio_name, ids
    )
    cursor = Cursor()
    journal = Journal(info.session_id, cursor)
    first = feed.instruments[feed.symbols[0]]
    ledger = Ledger(cfg.cash, first.currency, allow_short=True, allow_margin=True)
    sleeves = build_sleeves(cfg, feed, deps.strategy_models)
    limits = read_limits(deps.sessions, info.portfolio_id)
    # the risk overlay on the whole portfolio: the same gate a backtest puts on its engine
    risk = RiskGate(
        cfg.risk, feed.instruments, cash=cfg.cash, limits=limits[0], trading_state=limits[1]
    )
    tracker = OrderTracker(info.session_id, journal)
    book = SessionBook(
        ledger,
        sleeves,
        feed.instruments,
        idle_cash=cfg.cash * (1 - sum(s.allocation for s in cfg.sleeves)),
        journal=journal,
        tracker=tracker,
        risk=risk,
    )
    order_gate = PaperOrderGate(risk, book, journal)
    for sleeve in sleeves:  # the filter between each strategy and its broker
        sleeve.engine.broker.order_filter = order_gate
    regimes = RegimeTracker(cfg.regime_states, cfg.regime_warmup, feed.regime_names, journal.alert)
    controls = RunControls()
    return SessionParts(
        info=info,
        feed=feed,
        writer=writer,
        cursor=cursor,
        journal=journal,
        book=book,
        risk=risk,
        regimes=regimes,
        tracker=tracker,
        controls=controls,
        commands=CommandApplier(book, journal, tracker, controls, writer.set_status),
        reporter=StateReporter(
            cfg, book, risk, regimes, journal, n_events=None if feed.live else len(feed)
        ),
        resumer=Resumer(name, feed, log=log),
        limits=limits,
        read_limits=lambda: read_limits(deps.sessions, info.portfolio_id),
    )


class PaperWorker:
    """Trades one session: ``PaperWorker(deps, name).run()`` (``ws.paper.worker(name)``).

    ``deps``: what it reads outside the session (:class:`~core.paper._deps.PaperDeps`);
    ``parts``: the object graph to run on (default: :func:`build_parts` for ``name``).
    """

    def __init__(
        self,
        deps: PaperDeps | None,
        name: str,
        *,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        parts: SessionParts | None = None,
    ):
        if parts is None and not isinstance(deps, PaperDeps):
            raise TypeError(
                f"PaperWorker takes a PaperDeps, not {type(deps).__name__}; "
                "from a workstation: ws.paper.worker(name)"
            )
        self.deps, self.name, self._log, self._sleep = deps, name, log or (lambda _m: None), sleep
        parts = parts or build_parts(deps, name, log=self._log)
        self.parts = parts
        self.session_id, self.portfolio_id = parts.info.session_id, parts.info.portfolio_id
        self.status, self.committed = parts.info.status, parts.info.committed
        self.config = parts.info.config
        self.feed, self.writer, self.cursor = parts.feed, parts.writer, parts.cursor
        self.journal, self.book, self.controls = parts.journal, parts.book, parts.controls
        self.commands, self.reporter, self.resumer = parts.commands, parts.reporter, parts.resumer
        self.risk, self.regimes, self.tracker = parts.risk, parts.regimes, parts.tracker
        self._limits, self._read_limits = parts.limits, parts.read_limits
        self._last_commit = 0.0

    # -- what tests and benchmarks read -----------------------------------------------------
    live = property(lambda self: self.cursor.live, lambda self, v: setattr(self.cursor, "live", v))
    seq = property(lambda self: self.cursor.seq)
    next_seq = property(lambda self: self.cursor.next_seq)
    ts: datetime | None = property(lambda self: self.cursor.ts)  # type: ignore[assignment]
    n_fills = property(lambda self: self.book.n_fills)
    equity = property(lambda self: self.book.equity)
    cash = property(lambda self: self.book.cash)
    ledger = property(lambda self: self.book.ledger)
    sleeves = property(lambda self: self.book.sleeves)
    pending: Pending = property(lambda self: self.journal.pending)  # type: ignore[assignment]

    def state(self) -> dict[str, Any]:
        """The session state as committed (JSON-native)."""
        return self.reporter.state().to_json()

    def summary(self) -> dict[str, Any]:
        return self.reporter.summary(self.name, self.status)

    # -- the loop --------------------------------------------------------------------------
    def run(self, max_events: int | None = None) -> dict[str, Any]:
        """Resume from the last committed event and trade until the run ends.

        It ends when the feed ends, a stop command arrives, or ``max_events`` (≥ 1) new events were
        processed.
        """
        if max_events is not None and max_events < 1:
            raise PaperError(f"max_events must be at least 1, got {max_events}")
        # one worker per session, claimed before anything is replayed
        if self.status == SessionStatus.FINISHED or not self.writer.claim(self.name):
            self.status = SessionStatus.FINISHED
            self._log(f"session {self.name!r} has finished; nothing to do")
            return self.summary()
        self._guarded(self._start)
        final = self._guarded(lambda: self._loop(max_events))
        self._finish(final)
        return self.summary()

    def _guarded(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except BaseException as exc:
            self._failed(exc)
            raise

    def _start(self) -> None:
        self._ensure_instruments()
        self._catch_up()
        self.live = True
        self.writer.set_status(
            SessionStatus.PAUSED if self.controls.paused else SessionStatus.RUNNING,
            audit={"resumed_at": self.next_seq},
        )
        of = self.reporter.n_events or "a live feed"
        self._log(f"session {self.name!r}: trading from event {self.next_seq} of {of}")

    def _loop(self, max_events: int | None) -> str:
        """Trade events until the run ends; how it ended (stopped or finished)."""
        self._commands()  # what was queued while no worker ran
        clock = Clock(None if self.feed.live else self.config.speed, sleep=self._sleep)
        events, done, controls = self.feed.events(self.next_seq), 0, self.controls
        self._last_commit = time.monotonic()
        while True:
            if time.monotonic() - self._last_commit >= FLUSH_SECONDS or controls.paused:
                self._poll()
            if controls.stop_requested:
                return SessionStatus.STOPPED
            if controls.paused:
                self._sleep(0.1)
                clock.reset()
                continue
            if max_events is not None and done >= max_events:
                return SessionStatus.STOPPED
            event = next(events, _END)
            if event is _END:
                return SessionStatus.FINISHED
            if event is IDLE:  # a live feed with nothing new yet
                continue
            if not self._wait_for(clock, event):
                if controls.stop_requested:
                    return SessionStatus.STOPPED
                events = self.feed.events(self.next_seq)  # the event waits for the resume
                continue
            self._trade(event)
            done += 1

    def _wait_for(self, clock: Clock, event: Event) -> bool:
        """Wait until ``event`` is due, polling meanwhile; False if a stop or a pause came."""
        while not clock.wait(event.ts):
            self._poll()
            if self.controls.stop_requested or self.controls.paused:
                return False
        return True

    def _poll(self) -> None:
        self._commit()
        self._commands()
        self._last_commit = time.monotonic()

    def _trade(self, event: Event) -> None:
        fills = self.n_fills
        self._process(event)
        pending = self.pending
        if self.n_fills > fills or pending.commands or len(pending.equity) >= FLUSH_EVENTS:
            self._commit()
            self._last_commit = time.monotonic()

    def _finish(self, final: str) -> None:
        self._settle(final)
        self._commit()
        self.writer.set_status(
            final, audit={"events": self.next_seq, "fills": self.n_fills}, settle=final
        )
        self.status = final
        self._log(
            f"session {self.name!r} {final} after {self.next_seq} events, {self.n_fills} fills"
        )

    def _failed(self, exc: BaseException) -> None:
        """Record why the run ended (an interrupt leaves the session to be resumed)."""
        if not isinstance(exc, KeyboardInterrupt | SystemExit):
            error = failure_message(exc, logger="core.paper")  # no dump, no traceback
            self.writer.set_status(SessionStatus.FAILED, error=error, settle="failed")

    def _ensure_instruments(self) -> None:
        """A session stored before instruments were stored with it gets them now (claimed)."""
        missing = [s for s in self.feed.instruments if s not in self.writer.instrument_ids]
        if missing:
            with self.deps.sessions.begin() as s:
                for sym in missing:
                    inst = self.feed.instruments[sym]
                    self.writer.instrument_ids[sym] = instrument_repo.ensure(s, inst).id

    # -- resuming --------------------------------------------------------------------------
    def _catch_up(self) -> None:
        """Re-run the committed events without writing.

        Strategies, order books, sleeves, regime and drawdown come back exactly as they were.
        """
        target = self.committed
        if not target:
            return
        replay = Resumer.read(self.deps.sessions, self.session_id, self.portfolio_id)
        recorded = None
        if self.feed.live:
            recorded = Resumer.recorded_feed(
                self.deps.engine, self.session_id, self.name, self.feed, target
            )
        self.resumer.catch_up(
            target,
            replay,
            recorded=recorded,
            apply=self.commands.apply_stored,
            process=lambda event: self._process(event),
            fills=lambda: self.n_fills,
        )
        self.journal.reset()
        for sleeve in self.sleeves:  # from here on, only orders that change are written
            self.tracker.baseline(sleeve)

    # -- commands --------------------------------------------------------------------------
    def _commands(self) -> None:
        pending = self.pending
        for command_id, kind, payload in self.writer.pending_commands():
            status, message = self.commands.apply_stored(command_id, kind, payload)
            pending.commands.append((command_id, status, message, self.next_seq))
            self._log(f"command {kind} {payload}: {status} {message}")
        if pending.commands:
            self._commit()
        limits = self._read_limits()
        if limits != self._limits:
            self._limits = limits
            self.risk.set_limits(*limits)
            self.journal.alert(
                "info", "trading_state", f"trading state {limits[1]}; limits reloaded"
            )

    def _settle(self, final: str) -> None:
        """The run ends: whatever is still pending gets an answer.

        Stopped: the commands queued meanwhile are applied now (a resume re-applies them at this
        event). Finished: no event is left, so open orders expire with that reason (commands still
        queued are expired with the final status, :meth:`SessionWriter.set_status`).
        """
        if final != SessionStatus.FINISHED:
            self._commands()
            return
        for sleeve in self.sleeves:
            sleeve.engine.expire_open_orders("the session finished: no event was left to fill it")
            self.tracker.track(sleeve)

    # -- state -----------------------------------------------------------------------------
    def _commit(self) -> None:
        if not self.pending or not self.live:
            if self.live:
                self.writer.heartbeat()
            return
        self.writer.commit(
            self.pending, self.ledger, events=self.next_seq, last_ts=self.ts, state=self.state()
        )

    # -- one event -------------------------------------------------------------------------
    def _process(self, event: Event) -> None:
        book, risk, live = self.book, self.risk, self.cursor.live
        self.cursor.enter(event.seq, event.ts)
        risk.new_bar(event.ts, book.equity)
        self.regimes.update(event)
        equity = cash = book.idle_cash
        gross = 0.0
        for sleeve in book.sleeves:
            engine = sleeve.engine
            engine.step(engine.append_bar(event.ts, event.row), event.last)
            book.book_new_fills(sleeve)
            if live:
                self.tracker.track(sleeve)
            equity += engine.equity[-1]
            cash += engine.cash[-1]
            gross += engine.gross[-1]
        book.equity, book.cash = equity, cash
        previous = risk.update(equity)
        if previous is not None:
            status = risk.status
            self.journal.alert(
                "critical" if status.level == "critical" else "info",
                "drawdown",
                f"drawdown {status.drawdown:.1%}: {previous} → {status.level}"
                + (f", new positions scaled by {status.scale:g}" if status.scale < 1 else ""),
            )
        if live:
            self.reporter.record(event, gross)
