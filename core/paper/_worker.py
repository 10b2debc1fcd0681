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
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select

from core.backtest import BacktestEngine
from core.backtest._data import GrowingMarket
from core.backtest._engine import _Ctx
from core.db import FillRow, PaperCommandRow, PaperSessionRow, PortfolioRow
from core.execution import Order, OrderStatus, OrderType, TimeInForce
from core.instruments import repository as instrument_repo
from core.paper._config import SessionConfig
from core.paper._feeds import IDLE, Clock, Event, Feed, build_feed, recorded_market
from core.paper._store import FillRecord, OrderState, Pending, SessionWriter, utcnow
from core.portfolio import Fill, Ledger, Side
from core.regimes import RegimeFilter, RegimeHMM
from core.risk import (
    DrawdownController,
    OrderIntent,
    PortfolioState,
    RiskLimits,
    TradingState,
    check_order,
)
from core.strategies import get_strategy

FLUSH_EVENTS = 500  # commit at least every this many events …
FLUSH_SECONDS = 0.2  # … or this often, and at once after a fill or a command
TERMINAL = {"filled", "cancelled", "expired", "rejected"}


class PaperError(RuntimeError):
    """A session cannot run (unknown, already running elsewhere, diverged on resume)."""


@dataclass
class Sleeve:
    """One strategy of the session, trading its share of the cash on its own engine."""

    key: str
    strategy: str
    allocation: float
    engine: BacktestEngine
    booked: int = 0  # executions already booked
    n_fills: int = 0
    last_order_id: int = 0
    tracked: dict[int, tuple] = field(default_factory=dict)  # live orders' last state


class _SilentCtx(_Ctx):
    """Warms a strategy up on past bars after a parameter change: it places no orders."""

    def _submit(self, symbol, side, quantity, **kwargs):
        return Order(
            0,
            symbol or self.symbol,
            side,
            quantity,
            status=OrderStatus.CANCELLED,
            reason="warm-up after a parameter change: not sent",
        )

    def target_weights(self, weights, tag=""):
        return None

    def cancel(self, order_id):
        return False


class PaperWorker:
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
        with ws.sessions.begin() as s:
            ids = {
                sym: instrument_repo.ensure(s, inst).id
                for sym, inst in self.feed.instruments.items()
            }
        self.writer = SessionWriter(
            ws.engine, self.session_id, self.portfolio_id, self.portfolio_name, ids
        )
        self._build()

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
            )
            engine.start()
            sleeve = Sleeve(sc.key, sc.strategy, sc.allocation, engine)
            engine.broker.pre_trade = lambda order, sl=sleeve: self._pre_trade(sl, order)
            self.sleeves.append(sleeve)
        self.by_key = {s.key: s for s in self.sleeves}
        self.drawdown = DrawdownController(
            warning=cfg.drawdown_warning,
            critical=cfg.drawdown_critical,
            critical_scale=cfg.critical_scale,
        )
        self.dd_status = self.drawdown.update(cfg.cash)
        self.limits, self.trading_state = self._read_limits()
        self.pending = Pending()
        self.live = False
        self.seq = 0  # the event being processed (alerts and fills carry it)
        self.next_seq = 0  # events processed so far: the next event to process
        self.ts: datetime | None = None
        self.n_fills = 0
        self.day: Any = None
        self.day_start_equity = cfg.cash
        self.day_turnover = 0.0
        self.equity = self.cash = cfg.cash
        self.paused = self.stop_requested = False
        self._last_snapshot = -math.inf
        # regimes on the first instrument's log returns, filtered causally
        self.returns: list[float] = []
        self.regime_filter: RegimeFilter | None = None
        self.regime_probs: tuple[float, ...] | None = None
        self.regime: str | None = None
        self.last_close = math.nan
        self.true_regime: str | None = None

    def _read_limits(self) -> tuple[RiskLimits | None, str]:
        with self.ws.sessions() as s:
            meta = s.get(PortfolioRow, self.portfolio_id).meta or {}
        limits = RiskLimits.model_validate(meta["risk_limits"]) if meta.get("risk_limits") else None
        if self.config.risk_checks and limits is None:
            limits = RiskLimits()
        return limits, str(meta.get("trading_state", TradingState.ACTIVE.value))

    # -- the loop --------------------------------------------------------------------------
    def run(self, max_events: int | None = None) -> dict[str, Any]:
        """Resume from the last committed event and trade until the feed ends, a stop
        command arrives, or ``max_events`` new events were processed."""
        if self.status == "finished":
            self._log(f"session {self.name!r} has finished; nothing to do")
            return self.summary()
        self._catch_up()
        self.live = True
        self.writer.claim("running")
        self.writer.set_status("running", audit={"resumed_at": self.next_seq})
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
            if not isinstance(exc, KeyboardInterrupt | SystemExit):
                self.writer.set_status("failed", error=f"{type(exc).__name__}: {exc}")
            raise
        self._last_snapshot = -math.inf  # the last state always gets its snapshot
        self._commit()
        self.writer.set_status(final, audit={"events": self.next_seq, "fills": self.n_fills})
        self.status = final
        self._log(
            f"session {self.name!r} {final} after {self.next_seq} events, {self.n_fills} fills"
        )
        return self.summary()

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
        self._check_resumed(target, stored)

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
        self.feed.resume_after(market.index[-1])

    def _check_resumed(self, target: int, stored: int) -> None:
        if self.n_fills != stored:
            raise PaperError(
                f"resume diverged: re-running {target} events gave {self.n_fills} fills, "
                f"the database holds {stored}"
            )
        self.pending = Pending()
        for sleeve in self.sleeves:  # from here on, only orders that change are written
            broker = sleeve.engine.broker
            sleeve.last_order_id = broker._next_id - 1
            sleeve.tracked = {
                o.id: (o.status, o.filled, o.quantity, o.limit_price, o.stop_price)
                for o in broker.active
            }
        self._log(f"session {self.name!r}: re-ran {target} events, {stored} fills match")

    # -- one event -------------------------------------------------------------------------
    def _process(self, event: Event) -> None:
        self.seq, self.ts, self.next_seq = event.seq, event.ts, event.seq + 1
        day = event.ts.date()
        if day != self.day:
            self.day, self.day_start_equity, self.day_turnover = day, self.equity, 0.0
        self._update_regime(event)
        equity = cash = self.idle_cash
        gross = 0.0
        for sleeve in self.sleeves:
            engine = sleeve.engine
            i = engine.append_bar(event.ts, event.row)
            engine.step(i, event.last)
            executions = engine.broker.executions
            if len(executions) > sleeve.booked:
                for x in executions[sleeve.booked :]:
                    self._book(sleeve, x)
                sleeve.booked = len(executions)
            if self.live:
                self._track_orders(sleeve)
            equity += engine.equity[-1]
            cash += engine.cash[-1]
            gross += engine._gross[-1]
        self.equity, self.cash = equity, cash
        previous = self.dd_status.level
        self.dd_status = self.drawdown.update(equity)
        if self.dd_status.level != previous:
            self._alert(
                "critical" if self.dd_status.level == "critical" else "info",
                "drawdown",
                f"drawdown {self.dd_status.drawdown:.1%}: {previous} → {self.dd_status.level}"
                + (
                    f", new positions scaled by {self.dd_status.scale:g}"
                    if self.dd_status.scale < 1
                    else ""
                ),
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
                "drawdown": self.dd_status.drawdown,
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
        self.day_turnover += x.quantity * x.price * instrument.multiplier
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
        broker = sleeve.engine.broker
        for oid in range(sleeve.last_order_id + 1, broker._next_id):
            sleeve.tracked[oid] = ()
        sleeve.last_order_id = broker._next_id - 1
        for oid in list(sleeve.tracked):
            o = broker.orders[oid]
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

    # -- risk ------------------------------------------------------------------------------
    def _pre_trade(self, sleeve: Sleeve, order: Order) -> str:
        """Scale by the drawdown controller, then the portfolio's pre-trade checks."""
        symbol, engine = order.symbol, sleeve.engine
        held = self.ledger.quantity(symbol)
        price = engine.marks().get(symbol, math.nan)
        if order.target is not None:
            if order.target == 0:
                quantity = abs(engine.ledger.quantity(symbol))
            else:
                quantity = engine.broker._units(symbol, price) if price == price else 0.0
                quantity *= order.scale
        else:
            quantity = float(order.quantity or 0.0)
        signed = quantity if order.side is Side.BUY else -quantity
        increases = abs(held + signed) > abs(held) + 1e-12
        scale = self.dd_status.scale
        if increases and scale < 1:
            if order.target is not None:
                order.scale *= scale
            else:
                step = self.feed.instruments[symbol].quantity_step
                order.quantity = math.floor(quantity * scale / step + 1e-9) * step
                if order.quantity <= 0:
                    return f"drawdown {self.dd_status.level}: scaled to nothing"
            quantity *= scale
        if self.limits is None and self.trading_state == TradingState.ACTIVE.value:
            return ""
        if not (price == price and quantity > 0):
            return ""
        intent = OrderIntent(symbol, order.side.value, quantity, price)
        state = PortfolioState(
            equity=self.equity,
            cash=self.cash,
            positions={s: p.quantity for s, p in self.ledger.positions.items() if p.quantity},
            prices=self._marks(),
            multipliers=self.multipliers,
            peak_equity=self.dd_status.peak,
            day_start_equity=self.day_start_equity,
            day_turnover=self.day_turnover,
            asset_class={s: i.asset_class.value for s, i in self.feed.instruments.items()},
            now=self.ts,
            trading_state=self.trading_state,
        )
        report = check_order(intent, state, self.limits or RiskLimits())
        if self.live:  # every check is logged; the compliance report counts the breaches
            self.pending.audit.append(
                ("pretrade_check", {"strategy": sleeve.key, **report.to_dict()})
            )
        for result in report.results:
            if result.outcome in ("warn", "block"):
                self._alert(
                    result.outcome,
                    result.rule,
                    f"{sleeve.key} {symbol}: {result.message}",
                    audit=False,
                )
        if report.blocked:
            reasons = "; ".join(r.message for r in report.results if r.outcome == "block")
            return f"blocked by pre-trade checks: {reasons}"
        return ""

    def _marks(self) -> dict[str, float]:
        """The last known close of every instrument (held ones may have no bar now)."""
        closes = self.sleeves[0].engine._C
        marks = {}
        for j, symbol in enumerate(self.symbols):
            column = closes[j]
            k = len(column) - 1
            while k >= 0 and column[k] != column[k]:
                k -= 1
            if k >= 0:
                marks[symbol] = column[k]
        return marks

    def _alert(self, level: str, rule: str, message: str, audit: bool = True) -> None:
        if not self.live:
            return
        self.pending.alerts.append(
            {
                "session_id": self.session_id,
                "seq": self.seq,
                "ts": self.ts or utcnow(),
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

    # -- commands --------------------------------------------------------------------------
    def _commands(self) -> None:
        for command_id, kind, payload in self.writer.pending_commands():
            status, message = self._apply(command_id, kind, payload)
            self.pending.commands.append((command_id, status, message, self.next_seq))
            self._log(f"command {kind} {payload}: {status} {message}")
        if self.pending.commands:
            self._commit()
        limits, state = self._read_limits()
        if (limits, state) != (self.limits, self.trading_state):
            self.limits, self.trading_state = limits, state
            self._alert("info", "trading_state", f"trading state {state}; limits reloaded")

    def _apply(self, command_id: int, kind: str, payload: dict) -> tuple[str, str]:
        """Apply one command before event ``self.next_seq`` (also when re-running after a crash)."""
        try:
            if kind == "pause":
                self.paused = True
                if self.live:
                    self.writer.set_status("paused", audit={"command": command_id})
                return "applied", "paused"
            if kind == "resume":
                self.paused = False
                if self.live:
                    self.writer.set_status("running", audit={"command": command_id})
                return "applied", "resumed"
            if kind == "stop":
                if self.live:
                    self.stop_requested = True
                return "applied", "stopping"
            if kind == "order":
                return self._manual_order(payload)
            if kind == "cancel":
                sleeve = self._sleeve(payload.get("strategy"))
                if sleeve.engine.broker.cancel(int(payload["order_id"]), "cancelled by user"):
                    self._track_orders(sleeve) if self.live else None
                    self.pending.audit.append(
                        ("order_cancelled", {"session": self.session_id, **payload})
                    )
                    return "applied", f"order {payload['order_id']} cancelled"
                return "rejected", f"order {payload['order_id']} is not open"
            if kind == "params":
                return self._change_params(payload)
            return "rejected", f"unknown command {kind!r}"
        except (KeyError, ValueError, TypeError) as exc:
            return "rejected", str(exc).strip("'\"")

    def _sleeve(self, key: str | None) -> Sleeve:
        if key is None:
            return self.sleeves[0]
        if key not in self.by_key:
            raise KeyError(f"no strategy {key!r} in this session; have {sorted(self.by_key)}")
        return self.by_key[key]

    def _manual_order(self, payload: dict) -> tuple[str, str]:
        sleeve = self._sleeve(payload.get("strategy"))
        symbol = str(payload.get("symbol") or self.symbols[0]).upper()
        if symbol not in self.feed.instruments:
            raise ValueError(f"symbol {symbol!r} is not traded in this session")
        quantity = float(payload["quantity"])
        if not (quantity > 0 and math.isfinite(quantity)):
            raise ValueError(f"quantity must be a positive number, got {payload['quantity']!r}")
        order = Order(
            0,
            symbol,
            Side(str(payload["side"]).lower()),
            quantity,
            type=OrderType(payload.get("type", "market")),
            limit_price=_opt_float(payload.get("limit_price")),
            stop_price=_opt_float(payload.get("stop_price")),
            tif=TimeInForce(payload.get("tif", "gtc")),
            created_at=self.next_seq - 1,  # placed before the next event: fills at its open
            tag="manual",
        )
        engine = sleeve.engine
        engine._known = max(self.next_seq - 1, 0)
        engine.broker.submit(order)
        if self.live:
            self._track_orders(sleeve)
            self.pending.audit.append(
                (
                    "manual_order",
                    {
                        "session": self.session_id,
                        "strategy": sleeve.key,
                        "order": order.id,
                        **payload,
                    },
                )
            )
        if order.status is OrderStatus.REJECTED:
            return "rejected", order.reason
        return "applied", f"order {order.id} accepted ({sleeve.key})"

    def _change_params(self, payload: dict) -> tuple[str, str]:
        sleeve = self._sleeve(payload.get("strategy"))
        engine = sleeve.engine
        cls = type(engine.strategy)
        params = cls.Params.model_validate(
            {**engine.strategy.params.model_dump(), **payload.get("params", {})}
        )
        strategy = cls(params)
        silent = _SilentCtx(engine)
        silent.params = params
        strategy.on_start(silent)
        for i in range(engine.market.n_bars):  # warm up on the bars so far, no orders
            silent.i = engine._known = i
            strategy.on_bar(silent)
        engine._known = engine._i
        engine.strategy = strategy
        engine.ctx.params = params
        if self.live:
            self.pending.audit.append(
                (
                    "params_changed",
                    {
                        "session": self.session_id,
                        "strategy": sleeve.key,
                        "params": params.model_dump(mode="json"),
                    },
                )
            )
        return "applied", f"{sleeve.key} parameters now {params.model_dump(mode='json')}"

    # -- state -----------------------------------------------------------------------------
    def _commit(self) -> None:
        if not self.pending or not self.live:
            if self.live:
                self.writer.heartbeat()
            return
        snapshot = None
        now = time.monotonic()
        if self.ts is not None and now - self._last_snapshot >= 1.0:
            snapshot, self._last_snapshot = (self.ts, self.cash, self.equity), now
        self.writer.commit(
            self.pending,
            self.ledger,
            events=self.next_seq,
            last_ts=self.ts,
            state=self.state(),
            snapshot=snapshot,
        )

    def state(self) -> dict[str, Any]:
        marks = self._marks()  # last known closes (a symbol may have no bar this event)
        probs = None
        if self.regime_filter is not None and self.regime_probs is not None:
            probs = dict(zip(self.regime_filter.labels, map(float, self.regime_probs), strict=True))
        return {
            "seq": self.seq,
            "n_events": self.n_events,
            "ts": None if self.ts is None else self.ts.isoformat(),
            "equity": self.equity,
            "cash": self.cash,
            "n_fills": self.n_fills,
            "marks": marks,
            "day_start_equity": self.day_start_equity,
            "drawdown": self.dd_status.to_dict(),
            "regime": {
                "label": self.regime,
                "probabilities": probs,
                "true": self.true_regime,
                "observed": len(self.returns),
                "warmup": self.config.regime_warmup if self.config.regime_states else None,
            },
            "trading_state": self.trading_state,
            "strategies": {s.key: self._sleeve_state(s, marks) for s in self.sleeves},
        }

    def _sleeve_state(self, sleeve: Sleeve, marks: dict[str, float]) -> dict[str, Any]:
        engine, ledger = sleeve.engine, sleeve.engine.ledger
        positions = {s: p.quantity for s, p in ledger.positions.items() if p.quantity}
        exposure = sum(
            abs(q) * marks.get(s, 0.0) * self.multipliers[s] for s, q in positions.items()
        )
        equity = engine.equity[-1] if engine.equity else ledger.cash
        start = self.config.cash * sleeve.allocation
        return {
            "strategy": sleeve.strategy,
            "allocation": sleeve.allocation,
            "params": engine.strategy.params.model_dump(mode="json"),
            "equity": equity,
            "cash": ledger.cash,
            "pnl": equity - start,
            "realized": ledger.realized_pnl(),
            "commissions": ledger.commissions,
            "n_fills": sleeve.n_fills,
            "exposure": exposure,
            "positions": positions,
            "open_orders": [
                {
                    "id": o.id,
                    "symbol": o.symbol,
                    "side": o.side.value,
                    "quantity": o.quantity,
                    "type": o.type.value,
                    "limit_price": o.limit_price,
                    "stop_price": o.stop_price,
                    "status": o.status.value,
                    "filled": o.filled,
                    "tag": o.tag,
                }
                for o in engine.broker.active
            ],
        }

    def summary(self) -> dict[str, Any]:
        return {
            "session": self.name,
            "status": self.status,
            "events": self.next_seq,
            "equity": self.equity,
            "cash": self.cash,
            "n_fills": self.n_fills,
        }


def _opt_float(value) -> float | None:
    return None if value in (None, "") else float(value)


def _finite(value) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0
