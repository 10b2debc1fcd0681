"""Paper-trading use cases for pages and the command line.

Create sessions, send commands, start workers, read the console's snapshot, reconcile a session
against a backtest.

Nothing here trades: the worker (:mod:`core.paper._worker`) does, in its own process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select

from core._processes import ROOT, poll_until, spawn_core
from core.audit import append_event
from core.db import (
    FillRow,
    InstrumentRow,
    PaperCommandRow,
    PaperSessionRow,
    PortfolioRow,
    PositionRow,
)
from core.errors import WorkstationError
from core.instruments import repository as instrument_repo
from core.paper._config import SESSION_NAME, SessionConfig
from core.paper._console import ConsoleSnapshot, read_snapshot
from core.paper._deps import PaperDeps, PortfolioOpener
from core.paper._feeds import build_feed
from core.paper._reconcile import reconcile
from core.paper._records import naive, utcnow
from core.paper._sending import send as send_command
from core.paper._sleeve import PaperServiceError
from core.paper._store import owner_alive
from core.paper._types import CommandStatus, SessionStatus
from core.paper._updates import read_updates
from core.paper._worker import PaperWorker
from core.strategies import get_strategy


class PaperService:
    """Paper-trading sessions on ``deps`` (database, bars, network switch).

    ``portfolios`` opens the portfolio a new session trades on; nothing else of the
    workstation is read.
    """

    def __init__(self, deps: PaperDeps, portfolios: PortfolioOpener):
        self._deps, self._portfolios = deps, portfolios
        self._sessions = deps.sessions

    # -- sessions --------------------------------------------------------------------------
    def create(
        self, name: str, config: SessionConfig | dict, *, portfolio: str | None = None
    ) -> int:
        """Store a new session (and its fresh portfolio); the worker is started apart."""
        name = name.strip()
        if not SESSION_NAME.match(name):
            raise PaperServiceError(
                "a session name is 1–100 letters, digits, spaces or . : @ ( ) + -", "name"
            )
        config = SessionConfig.model_validate(config)
        if self.exists(name):
            raise PaperServiceError(f"a paper session named {name!r} already exists", "name")
        feed = self._check_runnable(config)
        portfolio = (portfolio or f"Paper · {name}").strip()
        with self._sessions() as s:
            row = s.scalar(select(PortfolioRow).where(PortfolioRow.name == portfolio))
            if row is not None:
                used = s.scalar(select(func.count()).where(FillRow.portfolio_id == row.id))
                if used:
                    raise PaperServiceError(
                        f"portfolio {portfolio!r} already has {used} fills; a paper session "
                        "starts on a fresh portfolio",
                        "portfolio",
                    )
        if row is None:
            self._portfolios.create(
                portfolio,
                config.cash,
                allow_short=config.execution.allow_short,
                allow_margin=config.execution.allow_margin,
                description=f"paper session {name}",
                created_at=(utcnow() if feed.live else naive(feed.market.index[0]))
                - timedelta(seconds=1),
            )
        try:
            return self._insert(name, config, feed, portfolio)
        except Exception:
            if row is None:  # the portfolio made for this session goes with it
                with self._sessions.begin() as s:
                    s.execute(delete(PortfolioRow).where(PortfolioRow.name == portfolio))
            raise

    def _check_runnable(self, config: SessionConfig):
        """Everything a worker would refuse at its start, refused now (nothing written yet).

        The data (or a live feed without the network), its length, each strategy against the feed's
        instruments. Returns the feed, built.
        """
        try:
            feed = build_feed(
                config.feed, self._deps.backtests, allow_network=self._deps.allow_network
            )
        except ValueError as exc:
            if isinstance(exc, WorkstationError):
                raise
            raise PaperServiceError(str(exc), "feed") from exc
        if not feed.live and len(feed) < 2:
            raise PaperServiceError("the feed has fewer than two events", "feed")
        if len(feed.symbols) > 1:
            single = [s.key for s in config.sleeves if not get_strategy(s.strategy).multi_asset]
            if single:
                raise PaperServiceError(
                    f"{', '.join(single)} trades one instrument; the feed has "
                    f"{len(feed.symbols)} ({', '.join(feed.symbols)}): pick one symbol or a "
                    "multi-asset strategy",
                    "strategy",
                )
        return feed

    def _insert(self, name: str, config: SessionConfig, feed, portfolio: str) -> int:
        """The session's row, its instruments and its audit event, in one transaction."""
        now = utcnow()
        with self._sessions.begin() as s:
            for instrument in feed.instruments.values():
                instrument_repo.ensure(s, instrument)
            pid = s.scalar(select(PortfolioRow.id).where(PortfolioRow.name == portfolio))
            session_row = PaperSessionRow(
                name=name,
                portfolio_id=pid,
                status=SessionStatus.CREATED,
                config=config.model_dump(mode="json"),
                events=0,
                state={
                    "n_events": None if feed.live else len(feed),
                    "equity": config.cash,
                    "cash": config.cash,
                },
                created_at=now,
                updated_at=now,
            )
            s.add(session_row)
            s.flush()
            append_event(
                s,
                "paper_session_created",
                {"session": name, "config": config.model_dump(mode="json")},
                portfolio=portfolio,
            )
            return session_row.id

    def reconfigure(self, name: str, config: SessionConfig | dict) -> bool:
        """Replace the stored configuration of a session that never traded; True when it changed.

        Nothing of the old one was used. A session with events keeps its own.
        """
        config = SessionConfig.model_validate(config)
        row = self._row(name)
        if SessionConfig.model_validate(row.config) == config:
            return False
        if row.events or self.worker_alive(row) or row.status == SessionStatus.FINISHED:
            raise PaperServiceError(
                f"session {name!r} has traded {row.events} events with its stored "
                "configuration; start a new session for other settings",
                "session",
            )
        feed = self._check_runnable(config)
        with self._sessions.begin() as s:
            for instrument in feed.instruments.values():
                instrument_repo.ensure(s, instrument)
            session_row = s.get(PaperSessionRow, row.id)
            session_row.config = config.model_dump(mode="json")
            session_row.status, session_row.error = SessionStatus.CREATED, None
            session_row.state = {
                "n_events": None if feed.live else len(feed),
                "equity": config.cash,
                "cash": config.cash,
            }
            session_row.updated_at = utcnow()
            portfolio = s.get(PortfolioRow, row.portfolio_id)
            untouched = portfolio.cash == portfolio.starting_cash and not s.scalar(
                select(func.count()).where(FillRow.portfolio_id == portfolio.id)
            )
            if untouched:  # the fresh portfolio takes the corrected cash and permissions
                portfolio.starting_cash = portfolio.cash = config.cash
                portfolio.allow_short = config.execution.allow_short
                portfolio.allow_margin = config.execution.allow_margin
            append_event(
                s,
                "paper_session_reconfigured",
                {"session": name, "config": config.model_dump(mode="json")},
                portfolio=portfolio.name,
            )
        return True

    def exists(self, name: str) -> bool:
        with self._sessions() as s:
            return (
                s.scalar(select(PaperSessionRow.id).where(PaperSessionRow.name == name)) is not None
            )

    def names(self) -> list[str]:
        with self._sessions() as s:
            return list(s.scalars(select(PaperSessionRow.name).order_by(PaperSessionRow.id.desc())))

    def list(self) -> pd.DataFrame:
        with self._sessions() as s:
            rows = s.execute(
                select(PaperSessionRow, PortfolioRow.name)
                .join(PortfolioRow, PortfolioRow.id == PaperSessionRow.portfolio_id)
                .order_by(PaperSessionRow.id.desc())
            ).all()
        records = []
        for row, portfolio in rows:
            state = row.state or {}
            cfg = row.config
            records.append(
                {
                    "session": row.name,
                    "status": self._status(row),
                    "strategies": ", ".join(s["strategy"] for s in cfg["sleeves"]),
                    "feed": cfg["feed"]["kind"],
                    "symbols": ", ".join(cfg["feed"].get("symbols") or [])
                    or cfg["feed"].get("data_file")
                    or cfg["feed"].get("preset"),
                    "events": row.events,
                    "of": state.get("n_events"),
                    "equity": state.get("equity"),
                    "fills": state.get("n_fills", 0),
                    "portfolio": portfolio,
                    "updated": row.updated_at,
                }
            )
        return pd.DataFrame.from_records(
            records,
            columns=[
                "session",
                "status",
                "strategies",
                "feed",
                "symbols",
                "events",
                "of",
                "equity",
                "fills",
                "portfolio",
                "updated",
            ],
        )

    def delete(self, name: str) -> None:
        row = self._row(name)
        if self.worker_alive(row):
            raise PaperServiceError(f"session {name!r} is running; stop it first", "session")
        with self._sessions.begin() as s:
            s.execute(delete(PaperSessionRow).where(PaperSessionRow.id == row.id))
            append_event(s, "paper_session_deleted", {"session": name})

    def _row(self, name: str) -> PaperSessionRow:
        with self._sessions() as s:
            row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == name))
        if row is None:
            raise PaperServiceError(f"no paper session named {name!r}", "session")
        return row

    def config(self, name: str) -> SessionConfig:
        return SessionConfig.model_validate(self._row(name).config)

    def portfolio_name(self, name: str) -> str:
        row = self._row(name)
        with self._sessions() as s:
            return s.get(PortfolioRow, row.portfolio_id).name

    # -- workers ---------------------------------------------------------------------------
    def worker_alive(self, row: PaperSessionRow) -> bool:
        """Whether a worker process is trading the session now."""
        return owner_alive(row.status, row.pid, row.host, row.heartbeat)

    def _status(self, row: PaperSessionRow) -> str:
        if row.status in (SessionStatus.RUNNING, SessionStatus.PAUSED) and not self.worker_alive(
            row
        ):
            return SessionStatus.INTERRUPTED  # the worker died: `paper run` resumes it
        return row.status

    def start_worker(
        self, name: str, database_url: str, *, log_dir: Path | None = ROOT / "data" / "logs"
    ) -> int:
        """Launch ``python -m core paper run --session NAME`` detached; its pid.

        ``database_url`` is passed in its environment, not on its command line.

        Its output goes to ``data/logs/paper-<session id>.log`` (git-ignored) by default.
        """
        row = self._row(name)
        if self.worker_alive(row):
            raise PaperServiceError(f"session {name!r} is already running (pid {row.pid})")
        if row.status == SessionStatus.FINISHED:
            raise PaperServiceError(f"session {name!r} has finished: its feed is exhausted")
        log = None if log_dir is None else Path(log_dir) / f"paper-{row.id}.log"
        return spawn_core(["paper", "run", "--session", name], log, database_url=database_url)

    def wait_for_worker(
        self,
        name: str,
        *,
        was: str,
        timeout: float = 3.0,
        poll: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> str:
        """The session's status once a just-launched worker has moved it on from ``was``.

        Polls the session's row every ``poll`` seconds: ``running`` (or ``paused``, ``failed``,
        ``finished``) as soon as the worker claims it, or still ``was`` when ``timeout``
        seconds passed first (the worker is slow to start; it may yet). Reads only.
        """
        return poll_until(
            lambda: self._status(self._row(name)),
            lambda status: status != was,
            timeout=timeout,
            poll=poll,
            sleep=sleep,
            clock=clock,
        )

    def worker(
        self,
        name: str,
        *,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> PaperWorker:
        """The worker for session ``name`` in this process (``paper run`` calls its ``run``)."""
        return PaperWorker(self._deps, name, log=log, sleep=sleep)

    def check_can_run(self, name: str) -> PaperSessionRow:
        row = self._row(name)
        if self.worker_alive(row) and row.pid != os.getpid():
            raise PaperServiceError(
                f"session {name!r} is already running (pid {row.pid} on {row.host})"
            )
        return row

    # -- commands --------------------------------------------------------------------------
    def send(self, name: str, kind: str, payload: dict | None = None) -> int:
        """Queue a command for the session's worker; returns its id.

        See :func:`core.paper._sending.send`: checked first, never left unanswered.
        """
        return send_command(self, name, kind, payload)

    def command(self, command_id: int) -> dict[str, Any]:
        with self._sessions() as s:
            row = s.get(PaperCommandRow, command_id)
            return {
                "id": row.id,
                "kind": row.kind,
                "status": row.status,
                "message": row.message,
                "applied_seq": row.applied_seq,
            }

    # -- reading ---------------------------------------------------------------------------
    def snapshot_state(self, name: str) -> dict[str, Any]:
        return dict(self._row(name).state or {})

    def status(self, name: str) -> dict[str, Any]:
        """The session's state for scripts (``paper status --json``)."""
        row = self._row(name)
        state = row.state or {}
        with self._sessions() as s:
            positions = {
                sym: q
                for sym, q in s.execute(
                    select(InstrumentRow.symbol, PositionRow.quantity)
                    .join(InstrumentRow, InstrumentRow.id == PositionRow.instrument_id)
                    .where(PositionRow.portfolio_id == row.portfolio_id, PositionRow.quantity != 0)
                )
            }
            n_fills = s.scalar(
                select(func.count()).where(
                    FillRow.portfolio_id == row.portfolio_id,
                    FillRow.fill_id.like(f"P{row.id}-%"),
                )
            )
            portfolio = s.get(PortfolioRow, row.portfolio_id)
            recent = s.execute(
                select(
                    PaperCommandRow.id,
                    PaperCommandRow.kind,
                    PaperCommandRow.status,
                    PaperCommandRow.message,
                )
                .where(PaperCommandRow.session_id == row.id)
                .order_by(PaperCommandRow.id.desc())
                .limit(20)
            ).all()
            pending = s.scalar(
                select(func.count()).where(
                    PaperCommandRow.session_id == row.id,
                    PaperCommandRow.status == CommandStatus.PENDING,
                )
            )
        cfg = SessionConfig.model_validate(row.config)
        equity = state.get("equity", cfg.cash)
        return {
            "session": row.name,
            "status": self._status(row),
            "portfolio": portfolio.name,
            "events": row.events,
            "n_events": state.get("n_events"),
            "last_ts": row.last_ts,
            "equity": equity,
            "cash": state.get("cash", cfg.cash),
            "pnl": equity - cfg.cash,
            "positions": positions,
            "n_fills": n_fills,
            "drawdown": (state.get("drawdown") or {}).get("drawdown", 0.0),
            "regime": (state.get("regime") or {}).get("label"),
            "strategies": {
                k: {x: v[x] for x in ("strategy", "equity", "pnl", "n_fills", "exposure")}
                for k, v in (state.get("strategies") or {}).items()
            },
            "pid": row.pid,
            "error": row.error,
            "risk": cfg.risk.model_dump(mode="json") if cfg.risk.active else None,
            "pending_commands": pending,
            "commands": [  # the last 20, oldest first: what became of each
                {"id": c.id, "kind": c.kind, "status": c.status, "message": c.message}
                for c in reversed(recent)
            ],
        }

    def snapshot(
        self, name: str, *, symbol: str | None = None, points: int = 1000, n_fills: int = 50
    ) -> ConsoleSnapshot:
        """One console refresh: a few indexed queries, sampled curves."""
        row = self._row(name)
        return read_snapshot(
            self._deps.engine, row, self._status(row), symbol=symbol, points=points, n_fills=n_fills
        )

    def updates(self, name: str, *, after: int = 0) -> list[dict[str, Any]]:
        """The session's fills, equity marks, alerts and regime changes after ``after``.

        See :func:`core.paper._updates.read_updates` (each update has a ``seq`` to resume from).
        """
        row = self._row(name)
        return read_updates(self._deps.engine, row.id, row.portfolio_id, after=after)

    def reconcile(self, name: str) -> dict[str, Any]:
        """Replay the session's recorded bars through the backtester, fill by fill.

        See :func:`core.paper._reconcile.reconcile`.
        """
        return reconcile(self._deps, self._row(name))
