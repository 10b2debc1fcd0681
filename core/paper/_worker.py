"""The paper-trading worker: one process owns a session and trades it event by event.

For each event: the regime filter takes the new return → each strategy's engine (the
backtest engine, stepped one bar at a time) matches orders at the open and runs the
strategy at the close → pre-trade checks and the drawdown controller vet every new order
→ fills are booked on the strategy's sleeve and on the shared portfolio → the fills, their
orders, the positions, the cash and an audit event are committed in one transaction.
Events without fills are committed in small batches.

Crash safety: every feed is deterministic and every command is recorded with the event it
was applied before, so after a crash ``run`` re-runs the committed events without writing
(the state of strategies and order books is rebuilt exactly), checks that it produced the
fills that are stored, and carries on from the first uncommitted event.

The worker is one class in several rooms: the loop and one event here; resuming
(:mod:`._resume`), the order gate (:mod:`._gate`), commands (:mod:`._commands`) and what it
reports about itself (:mod:`._reporting`) as mixins.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from core.backtest import BacktestEngine, RiskGate
from core.backtest._data import GrowingMarket
from core.db import PaperSessionRow, PortfolioRow
from core.execution import OrderStatus
from core.instruments import repository as instrument_repo
from core.paper._commands import CommandsMixin
from core.paper._config import SessionConfig
from core.paper._feeds import IDLE, Clock, Event, build_feed
from core.paper._gate import RiskGateMixin
from core.paper._reporting import ReportingMixin
from core.paper._resume import ResumeMixin
from core.paper._sleeve import PaperError, Sleeve
from core.paper._store import FillRecord, OrderState, Pending, SessionWriter
from core.portfolio import Fill, Ledger
from core.regimes import RegimeFilter, RegimeHMM
from core.risk import RiskLimits, TradingState
from core.strategies import get_strategy

FLUSH_EVENTS = 500  # commit at least every this many events …
FLUSH_SECONDS = 0.2  # … or this often, and at once after a fill or a command
TERMINAL = {"filled", "cancelled", "expired", "rejected"}


class PaperWorker(ResumeMixin, RiskGateMixin, CommandsMixin, ReportingMixin):
    def __init__(
        self,
        ws,
        name: str,
        *,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.ws, self.name, self._log, self._sleep = ws, name, log or (lambda _m: None), sleep
        with ws.sessions() as s:
            row = s.scalar(select(PaperSessionRow).where(PaperSessionRow.name == name))
            if row is None:
                raise PaperError(f"no paper session named {name!r}")
            portfolio = s.get(PortfolioRow, row.portfolio_id)
            self.session_id, self.portfolio_id = row.id, row.portfolio_id
            self.portfolio_name = portfolio.name
            self.status, self.committed = row.status, row.events
            self.config = SessionConfig.model_validate(row.config)
        self.feed = build_feed(
            self.config.feed, ws.backtests, allow_network=ws.settings.allow_network
        )
        self.n_events = None if self.feed.live else len(self.feed)
        self.symbols = self.feed.symbols
        with ws.sessions() as s:  # stored when the session was created (read only here)
            ids = {
                sym: row.id
                for sym in self.feed.instruments
                if (row := instrument_repo.get_row(s, sym)) is not None
            }
        self.writer = SessionWriter(
            ws.engine, self.session_id, self.portfolio_id, self.portfolio_name, ids
        )
        self._build()

    def _ensure_instruments(self) -> None:
        """A session stored before instruments were stored with it gets them now (claimed)."""
        missing = [s for s in self.feed.instruments if s not in self.writer.instrument_ids]
        if missing:
            with self.ws.sessions.begin() as s:
                for sym in missing:
                    inst = self.feed.instruments[sym]
                    self.writer.instrument_ids[sym] = instrument_repo.ensure(s, inst).id

    # -- set-up ---------------------------------------------------------------------------
    def _build(self) -> None:
        cfg, feed = self.config, self.feed
        first = feed.instruments[self.symbols[0]]
        self.ledger = Ledger(cfg.cash, first.currency, allow_short=True, allow_margin=True)
        self.idle_cash = cfg.cash * (1 - sum(s.allocation for s in cfg.sleeves))
        self.multipliers = {s: feed.instruments[s].multiplier for s in self.symbols}
        self.sleeves: list[Sleeve] = []
        for sc in cfg.sleeves:
            cls = get_strategy(sc.strategy)
            strategy = cls(cls.Params.model_validate(sc.params))
            if len(self.symbols) > 1 and not strategy.multi_asset:
                raise PaperError(f"{sc.strategy} trades one instrument; the feed has several")
            engine = BacktestEngine(
                strategy,
                GrowingMarket(self.symbols, capacity=min(max(len(feed), 1024), 1 << 16)),
                feed.instruments,
                cash=cfg.cash * sc.allocation,
                execution=cfg.execution,
                key=sc.key,
            )
            engine.start()
            sleeve = Sleeve(sc.key, sc.strategy, sc.allocation, engine)
            engine.broker.order_filter = lambda intent, sl=sleeve: self._pre_trade(sl, intent)
            self.sleeves.append(sleeve)
        self.by_key = {s.key: s for s in self.sleeves}
        self.limits, self.trading_state = self._read_limits()
        # the risk overlay on the whole portfolio: the same gate a backtest puts on its engine
        self.gate = RiskGate(
            cfg.risk,
            feed.instruments,
            cash=cfg.cash,
            limits=self.limits,
            trading_state=self.trading_state,
        )
        self.pending = Pending()
        self.live = False
        self.seq = 0  # the event being processed (alerts and fills carry it)
        self.next_seq = 0  # events processed so far: the next event to process
        self.ts: datetime | None = None
        self.n_fills = 0
        self.equity = self.cash = cfg.cash
        self.paused = self.stop_requested = False
        # regimes on the first instrument's log returns, filtered causally
        self.returns: list[float] = []
        self.regime_filter: RegimeFilter | None = None
        self.regime_probs: tuple[float, ...] | None = None
        self.regime: str | None = None
        self.last_close = math.nan
        self.true_regime: str | None = None

    def _read_limits(self) -> tuple[RiskLimits | None, str]:
        """The portfolio's own limits (None: none stored) and trading state."""
        with self.ws.sessions() as s:
            meta = s.get(PortfolioRow, self.portfolio_id).meta or {}
        limits = RiskLimits.model_validate(meta["risk_limits"]) if meta.get("risk_limits") else None
        return limits, str(meta.get("trading_state", TradingState.ACTIVE.value))

    # -- the loop --------------------------------------------------------------------------
    def run(self, max_events: int | None = None) -> dict[str, Any]:
        """Resume from the last committed event and trade until the feed ends, a stop
        command arrives, or ``max_events`` (≥ 1) new events were processed."""
        if max_events is not None and max_events < 1:
            raise PaperError(f"max_events must be at least 1, got {max_events}")
        # one worker per session, claimed before anything is replayed
        if self.status == "finished" or not self.writer.claim(self.name):
            self.status = "finished"
            self._log(f"session {self.name!r} has finished; nothing to do")
            return self.summary()
        try:
            self._ensure_instruments()
            self._catch_up()
        except BaseException as exc:
            self._failed(exc)
            raise
        self.live = True
        self.writer.set_status(
            "paused" if self.paused else "running", audit={"resumed_at": self.next_seq}
        )
        of = self.n_events or "a live feed"
        self._log(f"session {self.name!r}: trading from event {self.next_seq} of {of}")
        self._commands()  # what was queued while no worker ran
        clock = Clock(None if self.feed.live else self.config.speed, sleep=self._sleep)
        events = self.feed.events(self.next_seq)
        last_commit, done = time.monotonic(), 0
        final = "stopped"
        try:
            while True:
                if time.monotonic() - last_commit >= FLUSH_SECONDS or self.paused:
                    self._commit()
                    self._commands()
                    last_commit = time.monotonic()
                if self.stop_requested:
                    break
                if self.paused:
                    self._sleep(0.1)
                    clock.reset()
                    continue
                if max_events is not None and done >= max_events:
                    break
                event = next(events, "end")
                if event == "end":
                    final = "finished"
                    break
                if event is IDLE:  # a live feed with nothing new yet
                    continue
                while not clock.wait(event.ts):
                    self._commit()
                    self._commands()
                    last_commit = time.monotonic()
                    if self.stop_requested or self.paused:
                        break
                if self.stop_requested:
                    break
                if self.paused:  # the event waits for the resume
                    events = self.feed.events(self.next_seq)
                    continue
                fills = self.n_fills
                self._process(event)
                done += 1
                if (
                    self.n_fills > fills
                    or self.pending.commands
                    or len(self.pending.equity) >= FLUSH_EVENTS
                ):
                    self._commit()
                    last_commit = time.monotonic()
        except BaseException as exc:
            self._failed(exc)
            raise
        self._settle(final)
        self._commit()
        self.writer.set_status(
            final, audit={"events": self.next_seq, "fills": self.n_fills}, settle=final
        )
        self.status = final
        self._log(
            f"session {self.name!r} {final} after {self.next_seq} events, {self.n_fills} fills"
        )
        return self.summary()

    def _failed(self, exc: BaseException) -> None:
        """Record why the run ended (an interrupt leaves the session to be resumed)."""
        if not isinstance(exc, KeyboardInterrupt | SystemExit):
            error = f"{type(exc).__name__}: {exc}"
            self.writer.set_status("failed", error=error, settle="failed")

    # -- one event -------------------------------------------------------------------------
    def _process(self, event: Event) -> None:
        self.seq, self.ts, self.next_seq = event.seq, event.ts, event.seq + 1
        self.gate.new_bar(event.ts, self.equity)
        self._update_regime(event)
        equity = cash = self.idle_cash
        gross = 0.0
        for sleeve in self.sleeves:
            engine = sleeve.engine
            i = engine.append_bar(event.ts, event.row)
            engine.step(i, event.last)
            executions = engine.executions
            if len(executions) > sleeve.booked:
                for x in executions[sleeve.booked :]:
                    self._book(sleeve, x)
                sleeve.booked = len(executions)
            if self.live:
                self._track_orders(sleeve)
            equity += engine.equity[-1]
            cash += engine.cash[-1]
            gross += engine.gross[-1]
        self.equity, self.cash = equity, cash
        previous = self.gate.update(equity)
        if previous is not None:
            status = self.gate.status
            self._alert(
                "critical" if status.level == "critical" else "info",
                "drawdown",
                f"drawdown {status.drawdown:.1%}: {previous} → {status.level}"
                + (f", new positions scaled by {status.scale:g}" if status.scale < 1 else ""),
            )
        if not self.live:
            return
        row = event.row
        for j, c in enumerate(row["close"]):
            if c == c:
                self.pending.bars.append(
                    {
                        "session_id": self.session_id,
                        "seq": event.seq,
                        "symbol": self.symbols[j],
                        "ts": self.ts,
                        "open": row["open"][j],
                        "high": row["high"][j],
                        "low": row["low"][j],
                        "close": c,
                        "volume": _finite(row["volume"][j]),
                    }
                )
        self.pending.equity.append(
            {
                "session_id": self.session_id,
                "seq": event.seq,
                "ts": self.ts,
                "equity": equity,
                "cash": cash,
                "gross": gross,
                "drawdown": self.gate.status.drawdown,
                "regime": self.regime,
                "strategies": {s.key: s.engine.equity[-1] for s in self.sleeves},
            }
        )

    def _update_regime(self, event: Event) -> None:
        if event.regime is not None and self.feed.regime_names:
            self.true_regime = self.feed.regime_names[event.regime]
        n_states = self.config.regime_states
        if n_states is None:
            return
        close = event.row["close"][0]
        if not (close > 0):
            return
        if self.last_close == self.last_close:
            r = math.log(close / self.last_close)
            self.returns.append(r)
            if self.regime_filter is not None:
                self.regime_probs = self.regime_filter.update(r)
                self.regime = self.regime_filter.regime
            elif len(self.returns) >= self.config.regime_warmup:
                self._fit_regimes()
        self.last_close = close

    def _fit_regimes(self) -> None:
        """Fit on the returns seen so far (no look-ahead) and filter them."""
        x = np.asarray(self.returns, dtype=float)
        try:
            model = RegimeHMM(self.config.regime_states, n_starts=2, seed=0).fit(x)
        except ValueError as exc:
            self._alert("info", "regime", f"regime model not fitted: {exc}")
            self.config = self.config.model_copy(update={"regime_states": None})
            return
        self.regime_filter = RegimeFilter(model)
        for r in self.returns:
            self.regime_probs = self.regime_filter.update(r)
        self.regime = self.regime_filter.regime

    def _book(self, sleeve: Sleeve, x) -> None:
        instrument = self.feed.instruments[x.symbol]
        realized = self.ledger.apply_fill(
            Fill(x.symbol, x.side, x.quantity, x.price, x.commission), instrument
        )
        self.n_fills += 1
        sleeve.n_fills += 1
        self.gate.on_fill(x.quantity, x.price, x.symbol)
        if self.live:
            self.pending.fills.append(
                FillRecord(
                    f"P{self.session_id}-{self.n_fills}",
                    self._order_key(sleeve, x.order_id),
                    sleeve.key,
                    x.symbol,
                    x.side.value,
                    x.quantity,
                    x.price,
                    x.commission,
                    realized,
                    self.ts,
                    self.seq,
                )
            )

    def _order_key(self, sleeve: Sleeve, order_id: int) -> str:
        return f"{self.session_id}:{sleeve.key}:{order_id}"

    def _track_orders(self, sleeve: Sleeve) -> None:
        """Queue a write for each order that is new or changed since the last event."""
        engine = sleeve.engine
        orders = engine.orders
        for oid in range(sleeve.last_order_id + 1, engine.last_order_id + 1):
            sleeve.tracked[oid] = ()
        sleeve.last_order_id = engine.last_order_id
        for oid in list(sleeve.tracked):
            o = orders[oid]
            state = (o.status, o.filled, o.quantity, o.limit_price, o.stop_price)
            if state == sleeve.tracked[oid]:
                continue
            if (
                not sleeve.tracked[oid]
                and o.target is not None
                and o.status.value in TERMINAL
                and not o.filled
                and o.status is not OrderStatus.REJECTED
            ):
                del sleeve.tracked[oid]  # "go flat" when already flat: nothing to record
                continue
            quantity = o.quantity if o.quantity is not None else o.filled
            previous = sleeve.tracked[oid]
            if not previous or o.status in (
                OrderStatus.CANCELLED,
                OrderStatus.EXPIRED,
                OrderStatus.REJECTED,
            ):
                # the audit chain gets each order's placement and how it ended unfilled
                self.pending.audit.append(
                    (
                        "order" if not previous else f"order_{o.status.value}",
                        {
                            "session": self.session_id,
                            "order": self._order_key(sleeve, oid),
                            "symbol": o.symbol,
                            "side": o.side.value,
                            "quantity": o.quantity,
                            "type": o.type.value if o.target is None else f"target{o.target:+d}",
                            "status": o.status.value,
                            "reason": o.reason,
                            "tag": o.tag,
                        },
                    )
                )
            self.pending.orders[self._order_key(sleeve, oid)] = OrderState(
                self._order_key(sleeve, oid),
                sleeve.key,
                o.symbol,
                o.side.value,
                float(quantity or 0.0),
                o.type.value if o.target is None else f"target{o.target:+d}",
                o.limit_price,
                o.stop_price,
                o.tif.value,
                o.status.value,
                float(o.filled),
                self.ts,
            )
            if o.status.value in TERMINAL:
                del sleeve.tracked[oid]
            else:
                sleeve.tracked[oid] = state


def _finite(value) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0
