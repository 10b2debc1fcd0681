"""The autopilot's service: run the loop on an account, store and read what it decided.

:class:`AutopilotService` is given what it reads and writes: the sessions (its tables and the
audit chain), the market (closes, instruments), the portfolios (the account's ledger; paper
fills), the risk service (the account's limits and kill switch) and a model resolver (the
ML/RL adapters, or :class:`~core.autopilot.MockModels`). It never sees the workstation.

A run (:meth:`AutopilotService.run`) is idempotent per account, date and mode: once a run has
settled the date (statuses :data:`~core.autopilot._store.DONE`), a rerun returns it with
status ``already_done`` and books nothing; ``force=True`` decides again (a new attempt, with
its own order ids) and books what the new plan asks — normally little or nothing, since the
account is already at the targets. Orders carry client ids derived from the run, so a run
that crashed half-way and is rerun never books an order twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from core._processes import spawn_core
from core.audit import append_event
from core.autopilot import _store as store
from core.autopilot._approval import Account
from core.autopilot._backtest import BacktestRequest, Progress, index_performance, simulate
from core.autopilot._config import AutopilotConfig
from core.autopilot._execution import DryRunExecutor, Executor, PaperExecutor
from core.autopilot._generators import MockModels, ModelResolver
from core.autopilot._loop import Decision, decide, load_cut, regime_on
from core.autopilot._regime import RegimeReading, regime_series
from core.autopilot._rules import RulesTable
from core.autopilot._scheduler import ScheduleStore, cron_trigger
from core.errors import ConflictError, InvalidInputError
from core.risk import RiskLimits, TradingState, record_check
from core.tasks import Stopped

MODES = ("dry-run", "paper")
EQUAL_ONLY = RulesTable(rules=(), fallback="equal_weight", min_hold_days=0)
TRADE_TIME = time(20, 0)  # paper fills are stamped at the close (UTC), or now if earlier


class AccountBook(Protocol):
    """What the autopilot reads and books on the portfolios (``PortfolioService`` fits)."""

    def ledger(self, name: str) -> Any: ...

    def trade(self, name: str, symbol: str, side: str, quantity: float, price, **options): ...


class MarketReader(Protocol):
    """What the autopilot reads of the market (``MarketDataService`` fits)."""

    def closes(self, symbols: list[str], start=None, end=None) -> pd.DataFrame: ...

    def instruments(self) -> list: ...


class RiskReader(Protocol):
    """The account's limits and kill switch (``RiskService`` fits)."""

    def limits(self, name: str) -> RiskLimits: ...

    def trading_state(self, name: str) -> TradingState: ...


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _status(decision: Decision, mode: str) -> str:
    if decision.stale:
        return "stale"
    if decision.approval.status in ("halted", "rejected"):
        return decision.approval.status
    if not decision.orders:
        return "no_trades"
    return "dry_run" if mode == "dry-run" else "executed"


class AutopilotService:
    """Run the autopilot on accounts; its regimes, rules and log."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        market: MarketReader,
        portfolios: AccountBook,
        risk: RiskReader,
        *,
        models: ModelResolver | None = None,
        config: AutopilotConfig | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self._sessions = sessions
        self._market = market
        self._portfolios = portfolios
        self._risk = risk
        self.models: ModelResolver = models or MockModels()
        self.config = config or AutopilotConfig()
        self.clock = clock
        self.cache: dict = {}  # fitted HMMs by month (they depend only on earlier data)
        self.schedules = ScheduleStore(sessions, lambda: self.clock().replace(tzinfo=UTC))

    # -- the loop ---------------------------------------------------------------------------
    def run(
        self,
        account: str,
        mode: str = "dry-run",
        as_of: date | str | None = None,
        *,
        force: bool = False,
        mock: bool = False,
        actor: str = "autopilot",
    ) -> dict[str, Any]:
        """Run the loop once on ``account`` for ``as_of`` (default: today, UTC).

        Returns the run's JSON: ``as_of, regime, strategy, confidence, target_weights,
        trades, risk, mode, status, n_fills`` and more (see ``docs`` in the README).
        """
        executor = self._executor(mode)
        day = self._day(as_of)
        ledger = self._portfolios.ledger(account)  # NotFoundError for an unknown account
        with self._sessions() as session:
            done = store.settled(session, account, day, mode)
            if done is not None and not force:
                return self._already_done(done)
            held, peak = store.history(session, account, mode, day)
            attempt = store.next_attempt(session, account, day, mode)
        decision = self._decide(account, ledger, day, held, peak, mock)
        status = _status(decision, mode)
        records = []
        if status in ("dry_run", "executed"):
            ts = min(datetime.combine(day, TRADE_TIME), self.clock())
            key = f"{account}|{day}|{mode}|{attempt}"
            records = executor.execute(account, decision.orders, ts, key)
        after = self._value_now(account, decision) if mode == "paper" else decision.value_after
        return self._log(account, mode, attempt, decision, status, records, after, actor)

    def decide(self, account: str, as_of=None, *, mode: str = "dry-run", mock: bool = False):
        """The :class:`~core.autopilot.Decision` a run would take now (nothing written)."""
        day = self._day(as_of)
        with self._sessions() as session:
            held, peak = store.history(session, account, mode, day)
        return self._decide(account, self._portfolios.ledger(account), day, held, peak, mock)

    def _decide(self, account, ledger, day, held, peak, mock) -> Decision:
        positions = {p.symbol: p.quantity for p in ledger.open_positions()}
        cut = load_cut(self._market, self.config, list(positions), day)
        prices = cut.prices()
        missing = [s for s in positions if s not in prices]
        if missing:
            raise InvalidInputError(f"{account}: no close of {', '.join(missing)} by {day}")
        instruments = {i.symbol: i for i in self._market.instruments()}
        view = Account(
            cash=ledger.cash,
            positions=positions,
            prices=prices,
            peak_equity=peak,
            trading_state=self._risk.trading_state(account),
            multipliers={s: instruments[s].multiplier for s in prices if s in instruments},
        )
        models = (MockModels() if mock else self.models).resolve(day, self.config.universe)
        rules = self.rules()
        limits = self._risk.limits(account)
        return decide(
            cut, view, rules, held, models, self.config, limits, instruments, cache=self.cache
        )

    def _executor(self, mode: str) -> Executor:
        if mode == "dry-run":
            return DryRunExecutor()
        if mode == "paper":
            return PaperExecutor(self._portfolios)
        raise InvalidInputError(f"mode: {mode!r} is not one of {', '.join(MODES)}", "mode")

    def _day(self, as_of) -> date:
        if as_of is None:
            return self.clock().date()
        try:
            return pd.Timestamp(as_of).date()
        except (ValueError, TypeError):
            raise InvalidInputError(f"as_of: {as_of!r} is not a date", "as_of") from None

    def _value_now(self, account: str, decision: Decision) -> float:
        ledger = self._portfolios.ledger(account)
        marks = decision.account.prices
        multipliers = decision.account.multipliers
        return ledger.cash + sum(
            p.quantity * marks[p.symbol] * multipliers.get(p.symbol, 1.0)
            for p in ledger.open_positions()
        )

    def _already_done(self, row) -> dict[str, Any]:
        payload = dict(row.decision)
        payload.update(status="already_done", n_fills=0, settled_by=row.id)
        payload["reason"] = (
            f"already settled on {row.as_of} by run {row.id} ({row.status}); "
            "nothing new booked (force to decide again)"
        )
        return payload

    def _log(self, account, mode, attempt, decision, status, records, after, actor) -> dict:
        payload = decision.to_dict()
        n_fills = sum(bool(r["booked"]) for r in records)
        payload.update(
            account=account,
            mode=mode,
            status=status,
            attempt=attempt,
            n_fills=n_fills,
            value_after=after,
            trades=records or payload["trades"],
            reason=decision.stale or _reason(decision, status),
        )
        with self._sessions.begin() as session:
            done = store.settled(session, account, decision.as_of, mode)
            if done is not None and status in store.DONE and attempt <= done.attempt:
                return self._already_done(done)  # another process settled it meanwhile
            attempt = max(attempt, store.next_attempt(session, account, decision.as_of, mode))
            payload["attempt"] = attempt
            row = store.add_log(session, self._row(account, mode, attempt, payload))
            payload["log_id"] = row.id
            row.decision = payload
            store.save_regime(session, self.config.index, decision.regime)
            self._audit(session, account, payload, decision, actor)
        return payload

    def _row(self, account, mode, attempt, p) -> dict[str, Any]:
        return {
            "as_of": date.fromisoformat(p["as_of"]),
            "account": account,
            "mode": mode,
            "attempt": attempt,
            "strategy": p["strategy"],
            "confidence": p["confidence"],
            "regime": p["regime"]["label"],
            "value_before": p["value_before"],
            "value_after": p["value_after"],
            "n_buys": p["n_buys"],
            "n_sells": p["n_sells"],
            "turnover": p["turnover"],
            "trades": p["trades"],
            "status": p["status"],
            "decision": {},
            "created_at": self.clock(),
        }

    def _audit(self, session, account, payload, decision: Decision, actor) -> None:
        summary = {
            k: payload[k]
            for k in ("as_of", "mode", "status", "strategy", "confidence", "target_weights")
        }
        summary.update(
            regime=payload["regime"]["label"], log_id=payload["log_id"], risk=payload["risk"]
        )
        append_event(session, "autopilot_decision", summary, portfolio=account, actor=actor)
        for record in payload["trades"]:
            order = {**record, "log_id": payload["log_id"], "mode": payload["mode"]}
            append_event(session, "autopilot_order", order, portfolio=account, actor=actor)
        if payload["mode"] == "paper":
            for report in decision.reports:
                record_check(session, account, report, actor=actor)

    # -- the historical simulation ------------------------------------------------------------
    def backtest(
        self,
        start,
        end,
        *,
        mock: bool = False,
        starting_cash: float = 100_000.0,
        account: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Simulate the loop from ``start`` to ``end`` (see :func:`~core.autopilot.simulate`).

        With ``mock`` the ML and RL steps take their plain fallbacks. Baselines: the same
        loop with equal weight always (same costs, limits and cadence) and the index bought
        and held. ``account`` picks whose limits apply (the defaults otherwise).
        """
        first, last = self._day(start), self._day(end)
        if last <= first:
            raise InvalidInputError(f"backtest: end {last} must be after start {first}", "end")
        cut = load_cut(self._market, self.config, [], last)
        args = {
            "config": self.config,
            "limits": self._risk.limits(account) if account else RiskLimits(),
            "instruments": {i.symbol: i for i in self._market.instruments()},
            "starting_cash": starting_cash,
            "cache": self.cache,
        }
        models = MockModels() if mock else self.models
        result = simulate(
            cut, first, last, rules=self.rules(), models=models, progress=progress, **args
        )
        equal = simulate(cut, first, last, rules=EQUAL_ONLY, models=MockModels(), **args)
        return {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "mock": mock,
            "cadence": self.config.cadence,
            **result.to_dict(),
            "baselines": {
                "equal_weight": equal.metrics,
                "index": index_performance(cut.index_close, first, last),
            },
        }

    def backtest_task(self, request: dict[str, Any], ctx) -> dict[str, Any]:
        """The ``autopilot_backtest`` task: :meth:`backtest`, and the mock run with ``compare``.

        Progress is reported per rebalance; a cancel stops at the next one.
        """
        req = BacktestRequest.model_validate(request)

        def progress(done: int, total: int, message: str) -> None:
            if ctx.should_stop():
                raise Stopped("autopilot backtest: cancelled")
            ctx.progress(done, total, unit="days", message=message)

        options = {"starting_cash": req.starting_cash, "account": req.account}
        main = self.backtest(req.start, req.end, mock=req.mock, progress=progress, **options)
        result = {"main": main}
        if req.compare and not req.mock:
            result["mock"] = self.backtest(
                req.start, req.end, mock=True, progress=progress, **options
            )
        return result

    # -- the schedule -------------------------------------------------------------------------
    def schedule_status(self, account: str) -> dict[str, Any] | None:
        """The account's schedule worker row (with ``alive``), or None."""
        return self.schedules.status(account)

    def stop_schedule(self, account: str) -> bool:
        """Ask the account's schedule worker to stop (it polls the flag)."""
        return self.schedules.request_stop(account)

    def start_schedule(
        self,
        account: str,
        cron: str,
        mode: str = "paper",
        timezone: str = "America/New_York",
        *,
        database_url: str | None = None,
        log_dir=None,
    ) -> int:
        """Start ``python -m core autopilot schedule`` for ``account`` detached; its pid.

        The cron, mode and account are checked first: a bad one starts nothing.
        """
        cron_trigger(cron, timezone)
        self._executor(mode)
        self._portfolios.ledger(account)
        status = self.schedules.status(account)
        if status and status["alive"]:
            raise ConflictError(f"schedule: {account!r} already runs (pid {status['pid']})")
        args = ["autopilot", "schedule", "--account", account, "--cron", cron, "--mode", mode]
        args += ["--timezone", timezone]
        log = None if log_dir is None else Path(log_dir) / f"autopilot-{account}.log"
        return spawn_core(args, log, database_url=database_url)

    # -- regimes, rules, log --------------------------------------------------------------------
    def regime(self, as_of=None, *, store_it: bool = True) -> RegimeReading:
        """The regime on ``as_of`` (the last bar on or before it), stored daily."""
        cut = load_cut(self._market, self.config, [], self._day(as_of))
        reading = regime_on(cut, self.config, self.cache)
        if store_it:
            with self._sessions.begin() as session:
                store.save_regime(session, self.config.index, reading)
        return reading

    def regime_history(self, start, end=None) -> pd.DataFrame:
        """Compute and store the regime of every day from ``start`` to ``end``."""
        cut = load_cut(self._market, self.config, [], self._day(end))
        frame = regime_series(cut.index_close, cut.closes, self.config, start, cache=self.cache)
        readings = [RegimeReading.from_row(day, row) for day, row in frame.iterrows()]
        with self._sessions.begin() as session:
            for reading in readings:
                store.save_regime(session, self.config.index, reading)
        return self.stored_regimes(start, end)

    def stored_regimes(self, start=None, end=None) -> pd.DataFrame:
        """The stored daily regimes of the index between ``start`` and ``end``."""
        with self._sessions() as session:
            return store.regime_rows(session, self.config.index, start, end)

    def rules(self) -> RulesTable:
        """The stored rules table (the defaults until one is saved)."""
        with self._sessions() as session:
            return store.load_rules(session)

    def save_rules(self, table: RulesTable | dict, *, actor: str = "user") -> RulesTable:
        """Validate and store a rules table (audited)."""
        table = table if isinstance(table, RulesTable) else RulesTable.model_validate(table)
        with self._sessions.begin() as session:
            store.save_rules(session, table, self.clock(), actor)
        return table

    def log(self, account: str | None = None, limit: int = 100) -> pd.DataFrame:
        """The latest runs, newest first."""
        with self._sessions() as session:
            return store.log_frame(session, account, limit)

    def run_record(self, log_id: int) -> dict[str, Any] | None:
        """The full JSON a logged run returned."""
        with self._sessions() as session:
            return store.log_decision(session, log_id)


def _reason(decision: Decision, status: str) -> str:
    if status in ("halted", "rejected"):
        return "; ".join(c["message"] for c in decision.approval.checks if c["outcome"] == "block")
    blocked = decision.blocked
    if blocked:
        return f"{len(blocked)} order(s) blocked by pre-trade checks"
    return decision.selection.reason
