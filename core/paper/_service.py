"""Paper-trading use cases for pages and the command line: create sessions, send commands,
start workers, read the console's snapshot, reconcile a session against a backtest.

Nothing here trades: the worker (:mod:`core.paper._worker`) does, in its own process.
"""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select

from core._processes import ROOT, process_alive, spawn_core
from core.audit import append_event
from core.backtest import BacktestEngine
from core.db import (
    FillRow,
    InstrumentRow,
    PaperAlertRow,
    PaperBarRow,
    PaperCommandRow,
    PaperEquityRow,
    PaperSessionRow,
    PortfolioRow,
    PositionRow,
)
from core.paper._config import SESSION_NAME, SessionConfig
from core.paper._feeds import build_feed, recorded_market
from core.paper._store import naive, utcnow
from core.strategies import get_strategy

COMMAND_KINDS = ("pause", "resume", "stop", "order", "cancel", "params")
STALE_AFTER = timedelta(seconds=15)


class PaperServiceError(ValueError):
    """A request the paper service refuses; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class ConsoleSnapshot:
    """Everything one console refresh shows, read in one go."""

    session: dict[str, Any]
    state: dict[str, Any]
    positions: pd.DataFrame
    fills: pd.DataFrame
    open_orders: pd.DataFrame
    equity: pd.DataFrame
    prices: pd.DataFrame
    alerts: pd.DataFrame
    commands: pd.DataFrame
    strategies: pd.DataFrame
    markers: pd.DataFrame  # the chart symbol's latest fills, for trade markers


class PaperService:
    def __init__(self, workstation):
        self.ws = workstation
        self._sessions = workstation.sessions

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
        # refuses bad data (or a live feed without the network) before writing anything
        feed = build_feed(
            config.feed, self.ws.backtests, allow_network=self.ws.settings.allow_network
        )
        if not feed.live and len(feed) < 2:
            raise PaperServiceError("the feed has fewer than two events", "feed")
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
            self.ws.portfolios.create(
                portfolio,
                config.cash,
                allow_short=config.execution.allow_short,
                allow_margin=config.execution.allow_margin,
                description=f"paper session {name}",
                created_at=(utcnow() if feed.live else naive(feed.market.index[0]))
                - timedelta(seconds=1),
            )
        now = utcnow()
        with self._sessions.begin() as s:
            pid = s.scalar(select(PortfolioRow.id).where(PortfolioRow.name == portfolio))
            session_row = PaperSessionRow(
                name=name,
                portfolio_id=pid,
                status="created",
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
        if row.status not in ("running", "paused") or row.pid is None:
            return False
        if row.host == socket.gethostname():
            return process_alive(row.pid)
        return row.heartbeat is not None and utcnow() - row.heartbeat < STALE_AFTER

    def _status(self, row: PaperSessionRow) -> str:
        if row.status in ("running", "paused") and not self.worker_alive(row):
            return "interrupted"  # the worker died: `paper run` resumes it
        return row.status

    def start_worker(
        self, name: str, database_url: str, *, log_dir: Path | None = ROOT / "data" / "logs"
    ) -> int:
        """Launch ``python -m core --db URL paper run --session NAME`` detached; its pid.

        Its output goes to ``data/logs/paper-<session id>.log`` (git-ignored) by default."""
        row = self._row(name)
        if self.worker_alive(row):
            raise PaperServiceError(f"session {name!r} is already running (pid {row.pid})")
        if row.status == "finished":
            raise PaperServiceError(f"session {name!r} has finished: its feed is exhausted")
        log = None if log_dir is None else Path(log_dir) / f"paper-{row.id}.log"
        return spawn_core(["--db", database_url, "paper", "run", "--session", name], log)

    def check_can_run(self, name: str) -> PaperSessionRow:
        row = self._row(name)
        if self.worker_alive(row) and row.pid != os.getpid():
            raise PaperServiceError(
                f"session {name!r} is already running in process {row.pid} on {row.host}"
            )
        return row

    # -- commands --------------------------------------------------------------------------
    def send(self, name: str, kind: str, payload: dict | None = None) -> int:
        """Queue a command for the session's worker; returns its id.

        Manual orders and parameter changes are checked here first so that a mistake is
        reported at once, next to the input, rather than by the worker.
        """
        if kind not in COMMAND_KINDS:
            raise PaperServiceError(f"unknown command {kind!r}; use one of {COMMAND_KINDS}")
        payload = dict(payload or {})
        row = self._row(name)
        config = SessionConfig.model_validate(row.config)
        keys = {s.key: s for s in config.sleeves}
        strategy = payload.get("strategy")
        if strategy is not None and strategy not in keys:
            raise PaperServiceError(f"no strategy {strategy!r} in this session", "strategy")
        if kind == "order":
            _check_order(payload)
        elif kind == "params":
            sleeve = keys[strategy] if strategy else config.sleeves[0]
            cls = get_strategy(sleeve.strategy)
            current = self.snapshot_state(name).get("strategies", {}).get(sleeve.key, {})
            merged = {**(current.get("params") or sleeve.params), **payload.get("params", {})}
            try:
                cls.Params.model_validate(merged)
            except ValueError as exc:
                raise PaperServiceError(str(exc), "params") from exc
        elif kind == "cancel" and "order_id" not in payload:
            raise PaperServiceError("cancel needs the order's id", "order_id")
        if kind == "stop" and not self.worker_alive(row) and row.status != "finished":
            with self._sessions.begin() as s:  # no worker to tell: stop it here
                s.get(PaperSessionRow, row.id).status = "stopped"
                append_event(s, "paper_stopped", {"session": name, "by": "user"})
        with self._sessions.begin() as s:
            result = s.execute(
                insert(PaperCommandRow).values(
                    session_id=row.id,
                    kind=kind,
                    payload=payload,
                    status="pending",
                    message="",
                    created_at=utcnow(),
                )
            )
            return result.inserted_primary_key[0]

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
        }

    def snapshot(
        self, name: str, *, symbol: str | None = None, points: int = 1000, n_fills: int = 50
    ) -> ConsoleSnapshot:
        """One console refresh: a few indexed queries, sampled curves."""
        row = self._row(name)
        state = row.state or {}
        cfg = row.config
        symbols = list(state.get("marks") or cfg["feed"].get("symbols") or [])
        symbol = symbol or (symbols[0] if symbols else None)
        stride = max(1, row.events // points)
        recent = max(row.events - 200, 0)
        with self.ws.engine.connect() as s:  # Core rows: no ORM overhead per refresh
            positions = _frame(
                s,
                (
                    select(
                        InstrumentRow.symbol,
                        PositionRow.quantity,
                        PositionRow.avg_cost,
                        PositionRow.realized_pnl,
                        InstrumentRow.multiplier,
                    )
                    .join(InstrumentRow, InstrumentRow.id == PositionRow.instrument_id)
                    .where(PositionRow.portfolio_id == row.portfolio_id, PositionRow.quantity != 0)
                ),
            )
            fills = _frame(
                s,
                (
                    select(
                        FillRow.fill_id,
                        FillRow.ts,
                        FillRow.strategy,
                        InstrumentRow.symbol,
                        FillRow.side,
                        FillRow.quantity,
                        FillRow.price,
                        FillRow.commission,
                        FillRow.realized_pnl,
                    )
                    .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
                    .where(FillRow.portfolio_id == row.portfolio_id)
                    .order_by(FillRow.id.desc())
                    .limit(n_fills)
                ),
            )
            sampled = (PaperEquityRow.seq % stride == 0) | (PaperEquityRow.seq >= recent)
            equity = _frame(
                s,
                (
                    select(
                        PaperEquityRow.seq,
                        PaperEquityRow.ts,
                        PaperEquityRow.equity,
                        PaperEquityRow.cash,
                        PaperEquityRow.drawdown,
                        PaperEquityRow.regime,
                    )
                    .where(PaperEquityRow.session_id == row.id, sampled)
                    .order_by(PaperEquityRow.seq)
                ),
            )
            bar_sample = (PaperBarRow.seq % stride == 0) | (PaperBarRow.seq >= recent)
            prices = _frame(
                s,
                (
                    select(PaperBarRow.seq, PaperBarRow.ts, PaperBarRow.close)
                    .where(
                        PaperBarRow.session_id == row.id, PaperBarRow.symbol == symbol, bar_sample
                    )
                    .order_by(PaperBarRow.seq)
                ),
            )
            markers = _frame(
                s,
                (
                    select(
                        FillRow.ts, FillRow.side, FillRow.quantity, FillRow.price, FillRow.strategy
                    )
                    .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
                    .where(FillRow.portfolio_id == row.portfolio_id, InstrumentRow.symbol == symbol)
                    .order_by(FillRow.id.desc())
                    .limit(300)
                ),
            )
            alerts = _frame(
                s,
                (
                    select(
                        PaperAlertRow.id,
                        PaperAlertRow.ts,
                        PaperAlertRow.level,
                        PaperAlertRow.rule,
                        PaperAlertRow.message,
                    )
                    .where(PaperAlertRow.session_id == row.id)
                    .order_by(PaperAlertRow.id.desc())
                    .limit(30)
                ),
            )
            commands = _frame(
                s,
                (
                    select(
                        PaperCommandRow.id,
                        PaperCommandRow.created_at.label("created"),
                        PaperCommandRow.kind,
                        PaperCommandRow.payload,
                        PaperCommandRow.status,
                        PaperCommandRow.message,
                    )
                    .where(PaperCommandRow.session_id == row.id)
                    .order_by(PaperCommandRow.id.desc())
                    .limit(20)
                ),
            )
        marks = state.get("marks") or {}
        if len(positions):
            positions["price"] = positions["symbol"].map(marks).astype(float)
            positions["value"] = (
                positions["quantity"] * positions["price"] * positions["multiplier"]
            )
            positions["unrealized_pnl"] = (
                (positions["price"] - positions["avg_cost"])
                * positions["quantity"]
                * positions["multiplier"]
            )
            eq = state.get("equity") or math.nan
            positions["weight"] = positions["value"] / eq
            positions = positions.drop(columns="multiplier")
        orders = [
            {"strategy": key, **o}
            for key, sleeve in (state.get("strategies") or {}).items()
            for o in sleeve.get("open_orders", [])
        ]
        open_orders = pd.DataFrame.from_records(
            orders,
            columns=[
                "strategy",
                "id",
                "symbol",
                "side",
                "quantity",
                "type",
                "limit_price",
                "stop_price",
                "status",
                "filled",
                "tag",
            ],
        )
        strategies = pd.DataFrame.from_records(
            [
                {
                    "strategy": k,
                    "kind": v["strategy"],
                    "allocation": v["allocation"],
                    "equity": v["equity"],
                    "pnl": v["pnl"],
                    "realized": v["realized"],
                    "commissions": v["commissions"],
                    "fills": v["n_fills"],
                    "exposure": v["exposure"],
                }
                for k, v in (state.get("strategies") or {}).items()
            ],
            columns=[
                "strategy",
                "kind",
                "allocation",
                "equity",
                "pnl",
                "realized",
                "commissions",
                "fills",
                "exposure",
            ],
        )
        session = {
            "name": row.name,
            "status": self._status(row),
            "events": row.events,
            "n_events": state.get("n_events"),
            "symbol": symbol,
            "symbols": symbols,
            "error": row.error,
            "cash0": SessionConfig.model_validate(cfg).cash,
            "warning": cfg.get("drawdown_warning", 0.10),
            "critical": cfg.get("drawdown_critical", 0.20),
            "sleeves": [s["key"] for s in cfg["sleeves"]],
            "heartbeat": row.heartbeat,
        }
        return ConsoleSnapshot(
            session,
            state,
            positions,
            fills,
            open_orders,
            equity,
            prices,
            alerts,
            commands,
            strategies,
            markers,
        )

    # -- reconciliation --------------------------------------------------------------------
    def reconcile(self, name: str) -> dict[str, Any]:
        """Replay the session's recorded bars through the backtester, fill by fill.

        Each strategy is backtested from its starting parameters on its share of the cash;
        where a paper fill differs from the backtest's, the first intervention before it
        (a manual order, a parameter change, a cancel, a pre-trade block, the drawdown
        controller) is given as the reason.
        """
        row = self._row(name)
        config = SessionConfig.model_validate(row.config)
        with self._sessions() as s:
            fills = _frame(
                s,
                select(
                    FillRow.fill_id,
                    FillRow.ts,
                    FillRow.strategy,
                    InstrumentRow.symbol,
                    FillRow.side,
                    FillRow.quantity,
                    FillRow.price,
                    FillRow.commission,
                )
                .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
                .where(
                    FillRow.portfolio_id == row.portfolio_id,
                    FillRow.fill_id.like(f"P{row.id}-%"),
                )
                .order_by(FillRow.id),
            )
            interventions = [
                (
                    c.applied_seq,
                    f"{c.kind} command #{c.id} ({c.status}) before event "
                    f"{c.applied_seq}: {c.message}",
                )
                for c in s.scalars(
                    select(PaperCommandRow).where(
                        PaperCommandRow.session_id == row.id,
                        PaperCommandRow.applied_seq.is_not(None),
                        PaperCommandRow.kind.in_(("order", "cancel", "params")),
                    )
                )
            ] + [
                (a.seq, f"{a.rule} {a.level} at event {a.seq}: {a.message}")
                for a in s.scalars(
                    select(PaperAlertRow).where(
                        PaperAlertRow.session_id == row.id,
                        PaperAlertRow.level.in_(("block", "critical")),
                    )
                )
            ]
        interventions.sort(key=lambda x: x[0])
        if not row.events:
            return {"session": name, "events": 0, "match": True, "strategies": {}, "fills": []}
        feed = build_feed(config.feed, self.ws.backtests, allow_network=True)
        with self.ws.engine.connect() as conn:
            market, seq_of = recorded_market(conn, row.id, feed.symbols, row.events)
        rows, report = [], {}
        for sleeve in config.sleeves:
            cls = get_strategy(sleeve.strategy)
            engine = BacktestEngine(
                cls(cls.Params.model_validate(sleeve.params)),
                market,
                feed.instruments,
                cash=config.cash * sleeve.allocation,
                execution=config.execution,
            )
            raw = engine.run()
            ours = fills[fills["strategy"] == sleeve.key].reset_index(drop=True)
            theirs = raw.broker.executions
            n = max(len(ours), len(theirs))
            matched = 0
            for k in range(n):
                p = ours.iloc[k] if k < len(ours) else None
                b = theirs[k] if k < len(theirs) else None
                p_seq = None if p is None else seq_of.get(pd.Timestamp(p["ts"]))
                same = (
                    p is not None
                    and b is not None
                    and p_seq == b.bar
                    and p["symbol"] == b.symbol
                    and p["side"] == b.side.value
                    and math.isclose(p["quantity"], b.quantity, rel_tol=1e-9, abs_tol=1e-12)
                    and math.isclose(p["price"], b.price, rel_tol=1e-12, abs_tol=1e-12)
                )
                matched += same
                at = min(x for x in (p_seq, None if b is None else b.bar) if x is not None)
                reason = "" if same else _reason(interventions, at)
                rows.append(
                    {
                        "strategy": sleeve.key,
                        "n": k + 1,
                        "event": at,
                        "paper": None
                        if p is None
                        else f"{p['side']} {p['quantity']:g} {p['symbol']} @ {p['price']:.6g}",
                        "backtest": None
                        if b is None
                        else f"{b.side.value} {b.quantity:g} {b.symbol} @ {b.price:.6g}",
                        "match": bool(same),
                        "reason": reason,
                    }
                )
            state = (row.state or {}).get("strategies", {}).get(sleeve.key, {})
            report[sleeve.key] = {
                "paper_fills": len(ours),
                "backtest_fills": len(theirs),
                "matched": int(matched),
                "paper_equity": state.get("equity"),
                "backtest_equity": float(raw.equity[-1]),
            }
        return {
            "session": name,
            "events": int(market.n_bars),
            "match": all(r["match"] for r in rows),
            "strategies": report,
            "fills": rows,
        }


def _frame(conn, statement) -> pd.DataFrame:
    """Rows as a frame whose columns are the statement's column names (labels)."""
    result = conn.execute(statement)
    return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


def _reason(interventions: list[tuple[int, str]], at: int) -> str:
    before = [text for seq, text in interventions if seq is not None and seq <= at]
    if before:
        return before[0] if len(before) == 1 else f"{before[0]} (and {len(before) - 1} more)"
    return "no intervention recorded before this fill"


def _check_order(payload: dict) -> None:
    side = str(payload.get("side", "")).lower()
    if side not in ("buy", "sell"):
        raise PaperServiceError("side must be buy or sell", "side")
    try:
        quantity = float(payload.get("quantity"))
    except (TypeError, ValueError):
        raise PaperServiceError("quantity must be a number", "quantity") from None
    if not (quantity > 0 and math.isfinite(quantity)):
        raise PaperServiceError("quantity must be a positive number", "quantity")
    kind = payload.get("type", "market")
    if kind not in ("market", "limit", "stop", "stop_limit"):
        raise PaperServiceError(f"unknown order type {kind!r}", "type")
    for key, needed in (
        ("limit_price", kind in ("limit", "stop_limit")),
        ("stop_price", kind in ("stop", "stop_limit")),
    ):
        if needed:
            value = payload.get(key)
            try:
                ok = value is not None and float(value) > 0 and math.isfinite(float(value))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise PaperServiceError(f"a {kind} order needs a positive {key}", key)
