"""The event-driven engine: bars → strategy → orders → fills → portfolio, bar by bar.

Conventions (docs/BACKTESTING.md): orders placed at a bar's close fill at the next bar's
open (or that close with ``same_close``); a signal on the last bar is never filled;
equity is cash plus positions marked at each bar's close, starting at the first bar.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from core.backtest._config import RiskOverlay
from core.backtest._data import MarketFrame
from core.backtest._overlay import RiskGate
from core.backtest._trades import TradeTracker
from core.execution import (
    Execution,
    ExecutionConfig,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    SimulatedBroker,
    TimeInForce,
    floor_to_step,
)
from core.instruments import Instrument
from core.portfolio import Ledger, Side
from core.strategies import Strategy


class StopRequested(Exception):
    """Raised inside the loop when the caller asks to stop."""


@dataclass
class RawRun:
    """What the engine produces; :mod:`core.backtest._result` turns it into tables."""

    market: MarketFrame
    equity: np.ndarray
    cash: np.ndarray
    exposure: np.ndarray  # gross position value / equity at each close
    position: np.ndarray  # net position value per bar (all symbols)
    broker: SimulatedBroker
    trades: TradeTracker
    ledger: Ledger


class _Ctx:
    """The backtest's implementation of :class:`core.strategies.Context`."""

    def __init__(self, engine: BacktestEngine):
        self._e = engine
        self.i = 0
        self.symbols = engine.market.symbols
        self.symbol = self.symbols[0]
        self._close0 = engine._C[0]
        self.params = engine.strategy.params

    def _j(self, symbol: str | None) -> int:
        return 0 if symbol is None else self._e.column[symbol]

    def close(self, symbol: str | None = None) -> float:
        return (
            self._close0[self.i] if symbol is None else self._e._C[self._e.column[symbol]][self.i]
        )

    def bar(self, symbol: str | None = None):
        e, j, i = self._e, self._j(symbol), self.i
        return e._O[j][i], e._H[j][i], e._L[j][i], e._C[j][i], e._V[j][i]

    def has_bar(self, symbol: str | None = None) -> bool:
        return not math.isnan(self._e._C[self._j(symbol)][self.i])

    def history(self, symbol: str | None = None, field: str = "close") -> np.ndarray:
        """Values of ``field`` up to and including the current bar (no look-ahead)."""
        return getattr(self._e.market, field)[: self.i + 1, self._j(symbol)]

    @property
    def time(self):
        return self._e.market.timestamp(self.i)

    def position(self, symbol: str | None = None) -> float:
        return self._e.ledger.quantity(symbol or self.symbol)

    @property
    def cash(self) -> float:
        return self._e.ledger.cash

    @property
    def equity(self) -> float:
        return self._e.ledger.equity(self._e.marks())

    def marks(self) -> dict[str, float]:
        """The last known close of every instrument with a bar now (what equity uses)."""
        return self._e.marks()

    def position_value(self, symbol: str, price: float) -> float:
        """Quantity × price × multiplier of ``symbol`` (0 when flat)."""
        position = self._e.ledger.positions.get(symbol)
        return position.market_value(price) if position else 0.0

    @property
    def instruments(self):
        """Instrument definitions by symbol (multiplier, quantity step, …)."""
        return self._e.instruments

    @property
    def execution(self):
        """The execution settings (commission, slippage, sizing) orders will meet."""
        return self._e.execution

    def volatility(self, symbol: str | None = None) -> float:
        """Volatility of the last returns up to now, as the slippage model measures it."""
        return self._e._stats(symbol or self.symbol)[0]

    # -- orders ------------------------------------------------------------------------
    def go_long(self, symbol: str | None = None, tag: str = "", scale: float = 1.0) -> Order:
        return self._target(symbol, 1, tag, scale)

    def go_short(self, symbol: str | None = None, tag: str = "", scale: float = 1.0) -> Order:
        return self._target(symbol, -1, tag, scale)

    def go_flat(self, symbol: str | None = None, tag: str = "") -> Order:
        return self._target(symbol, 0, tag)

    def _target(self, symbol: str | None, target: int, tag: str, scale: float = 1.0) -> Order:
        side = Side.BUY if target > 0 or (target == 0 and self.position(symbol) < 0) else Side.SELL
        return self._submit(symbol, side, None, target=target, tag=tag, scale=scale)

    def buy(self, quantity: float, symbol: str | None = None, **order) -> Order:
        return self._submit(symbol, Side.BUY, quantity, **order)

    def sell(self, quantity: float, symbol: str | None = None, **order) -> Order:
        return self._submit(symbol, Side.SELL, quantity, **order)

    def bracket(self, side, quantity, *, stop_loss, take_profit, symbol=None, **entry) -> Order:
        """An entry with a stop-loss and a take-profit attached (one cancels the other)."""
        side = Side(side)
        parent = self._submit(symbol, side, quantity, **entry)
        exit_side = Side.SELL if side is Side.BUY else Side.BUY
        for kind, price in ((OrderType.STOP, stop_loss), (OrderType.TAKE_PROFIT, take_profit)):
            child = OrderIntent(
                symbol or self.symbol,
                exit_side,
                quantity,
                type=kind,
                stop_price=price if kind is OrderType.STOP else None,
                limit_price=price if kind is OrderType.TAKE_PROFIT else None,
                strategy=self._e.key,
                parent=parent.id,
                oco=parent.id,
            )
            parent.children.append(self._e.broker.place(child, self.i).id)
        return parent

    def cancel(self, order_id: int) -> bool:
        return self._e.broker.cancel(order_id)

    def modify(self, order_id: int, **changes) -> Order:
        return self._e.broker.modify(order_id, **changes)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self._e.broker.active if symbol is None or o.symbol == symbol]

    def target_weights(self, weights: dict[str, float], tag: str = "") -> None:
        """Market orders that bring each instrument to weight × equity at this close."""
        marks = self._e.marks()
        equity = self._e.ledger.equity(marks)
        for symbol, weight in weights.items():
            price = marks.get(symbol, math.nan)
            if math.isnan(price):
                continue
            instrument = self._e.instruments[symbol]
            wanted = weight * equity / (price * instrument.multiplier)
            delta = floor_to_step(wanted, instrument.quantity_step) - self.position(symbol)
            if abs(delta) >= instrument.quantity_step:
                side = Side.BUY if delta > 0 else Side.SELL
                self._submit(symbol, side, abs(delta), tag=tag)

    def _submit(
        self,
        symbol,
        side,
        quantity,
        *,
        target=None,
        type=OrderType.MARKET,
        limit_price=None,
        stop_price=None,
        tif=TimeInForce.GTC,
        tag="",
        scale=1.0,
    ) -> Order:
        intent = OrderIntent(
            symbol or self.symbol,
            side,
            quantity,
            target=target,
            scale=scale,
            type=OrderType(type),
            limit_price=limit_price,
            stop_price=stop_price,
            tif=TimeInForce(tif),
            tag=tag,
            strategy=self._e.key,
        )
        return self._e.broker.place(intent, self.i)


class _SilentCtx(_Ctx):
    """Warms a strategy up on past bars without placing orders.

    See :meth:`BacktestEngine.replace_strategy`.
    """

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


class BacktestEngine:
    """Runs one strategy over a :class:`MarketFrame`.

    ``run`` goes through every bar; live paper trading drives the same engine one bar at a
    time (:meth:`start`, :meth:`append_bar`, :meth:`step`) on a
    :class:`~core.backtest._data.GrowingMarket`, so a strategy runs the same code in both.
    Between bars a caller places and cancels orders (:meth:`submit`, :meth:`cancel`),
    swaps the strategy (:meth:`replace_strategy`) and reads the book and the curves
    (:attr:`orders`, :attr:`open_orders`, :attr:`executions`, :attr:`gross`, …).
    ``key`` names the strategy on its order intents (a paper session's sleeve).
    """

    def __init__(
        self,
        strategy: Strategy,
        market: MarketFrame,
        instruments: dict[str, Instrument],
        *,
        cash: float,
        execution: ExecutionConfig | None = None,
        risk: RiskOverlay | None = None,
        key: str = "",
    ):
        self.strategy, self.market, self.instruments = strategy, market, instruments
        self.key = key
        self.execution = execution or ExecutionConfig()
        currency = instruments[market.symbols[0]].currency
        self.ledger = Ledger(
            cash, currency, self.execution.allow_short, self.execution.allow_margin
        )
        self.column = {s: j for j, s in enumerate(market.symbols)}
        self._O, self._H, self._L, self._C, self._V = (
            getattr(market, f).T.tolist() for f in ("open", "high", "low", "close", "volume")
        )
        self.broker = SimulatedBroker(
            self.execution, self.ledger, instruments, self._stats, self.marks
        )
        self.trades = TradeTracker({s: instruments[s].multiplier for s in market.symbols})
        self._i = 0
        self._known = 0  # the last bar whose close is known (i − 1 while matching at the open)
        self.ctx: _Ctx | None = None
        # the risk overlay (off by default); a paper session gates its portfolio instead
        self.gate: RiskGate | None = None
        if risk is not None and risk.active:
            self.gate = RiskGate(risk, instruments, cash=cash)
            self.broker.order_filter = self._vet

    def _vet(self, intent: OrderIntent) -> tuple[OrderIntent, str]:
        """The risk overlay on one new order (see :class:`~core.backtest._overlay.RiskGate`)."""
        last = bool(self.equity)
        return self.gate.vet(
            intent,
            self,
            ledger=self.ledger,
            equity=self.equity[-1] if last else self.ledger.cash,
            cash=self.cash[-1] if last else self.ledger.cash,
            marks=self.last_marks(),
            now=self.market.timestamp(self._i),
        )

    def last_marks(self) -> dict[str, float]:
        """The last known close of every instrument up to the current bar.

        A held instrument may have no bar now.
        """
        marks = {}
        for symbol, column in zip(self.market.symbols, self._C, strict=True):
            k = min(len(column) - 1, self._i)
            while k >= 0 and column[k] != column[k]:
                k -= 1
            if k >= 0:
                marks[symbol] = column[k]
        return marks

    def marks(self) -> dict[str, float]:
        i = self._known
        return {
            s: self._C[j][i]
            for j, s in enumerate(self.market.symbols)
            if self._C[j][i] == self._C[j][i]
        }

    def _stats(self, symbol: str) -> tuple[float, float]:
        """Volatility and mean of the last ``lookback`` simple returns up to this bar."""
        n = self.execution.slippage.lookback
        known = self._known
        closes = self.market.close[max(0, known - n) : known + 1, self.column[symbol]]
        returns = np.diff(closes) / closes[:-1]
        returns = returns[np.isfinite(returns)]
        if len(returns) < 2:
            return math.nan, math.nan
        return float(returns.std(ddof=1)), float(returns.mean())

    # -- stepping -----------------------------------------------------------------------
    def start(self) -> _Ctx:
        """Set up the curves and call the strategy's ``on_start`` (before the first bar)."""
        self.ctx = ctx = _Ctx(self)
        self.equity, self.cash, self._gross, self._net = [], [], [], []
        self._seen = 0
        k = len(self.market.symbols)
        # with several instruments, sales are matched before purchases on each bar
        self._passes = (None,) if k == 1 else (Side.SELL, Side.BUY)
        self._same_close = self.execution.fill_timing == "same_close"
        self._mult = [self.instruments[s].multiplier for s in self.market.symbols]
        self.strategy.on_start(ctx)
        return ctx

    def append_bar(self, ts, row: dict[str, list[float]]) -> int:
        """Add a bar that arrived from a live feed (a GrowingMarket); returns its index.

        ``row`` maps each field to one value per symbol (NaN: no bar; a missing open, high
        or low is the close, as in :meth:`MarketFrame.from_bars`).
        """
        close = [float(c) for c in row["close"]]
        filled = {"close": close, "volume": [float(v) for v in row["volume"]]}
        for f in ("open", "high", "low"):
            filled[f] = [c if v != v else v for v, c in zip(map(float, row[f]), close, strict=True)]
        self.market.append(ts, filled)
        for lists, f in zip(
            (self._O, self._H, self._L, self._C, self._V),
            ("open", "high", "low", "close", "volume"),
            strict=True,
        ):
            for j, value in enumerate(filled[f]):
                lists[j].append(value)
        return self.market.n_bars - 1

    def step(self, i: int, last: bool = False) -> None:
        """Bar ``i``: match orders at its open, the strategy at its close, mark to market.

        ``last``: no bar follows (a same-close signal on the last bar never fills).
        """
        broker, gate = self.broker, self.gate
        self._i = self.ctx.i = i
        self._known = i - 1 if i else 0  # at the open only earlier closes are known
        if gate is not None:
            gate.new_bar(
                self.market.timestamp(i), self.equity[-1] if self.equity else self.ledger.cash
            )
        if broker.active:
            self._match(i, broker.on_bar, True)
        self._known = i
        self.strategy.on_bar(self.ctx)
        if self._same_close and broker.active and not last:
            self._match(i, broker.on_close, False)
        equity = self._mark(i)
        if gate is not None:
            gate.update(equity)

    def _match(self, i: int, match, at_open: bool) -> None:
        """Every symbol with a bar at ``i`` against the book (sales first with several)."""
        symbols, O, H, L, C, V = self.market.symbols, self._O, self._H, self._L, self._C, self._V
        k = len(symbols)
        for side in self._passes:
            for j in range(k):
                c = C[j][i]
                if c == c:
                    if at_open:
                        match(i, symbols[j], O[j][i], H[j][i], L[j][i], c, V[j][i], side)
                    else:
                        match(i, symbols[j], c, V[j][i], side)
        if len(self.broker.executions) > self._seen:
            self._seen = self._record(self.ctx, self._seen)

    def _mark(self, i: int) -> float:
        """Mark to market at this close (no bar: the last known close); the equity."""
        value = gross_value = 0.0
        C, column, mult = self._C, self.column, self._mult
        for symbol, position in self.ledger.positions.items():
            q = position.quantity
            if q:
                j = column[symbol]
                price = C[j][i]
                if price != price:
                    price = _last_valid(C[j], i)
                v = q * price * mult[j]
                value += v
                gross_value += abs(v)
        money = self.ledger.cash
        self.cash.append(money)
        self.equity.append(money + value)
        self._gross.append(gross_value)
        self._net.append(value)
        return money + value

    # -- between bars ------------------------------------------------------------------
    def submit(self, intent: OrderIntent, *, before: int) -> Order:
        """Place ``intent`` from outside the strategy, before bar ``before`` arrives.

        It fills at that bar's open at the earliest; the book's checks and filter apply.
        """
        self._known = max(before - 1, 0)
        return self.broker.place(intent, before - 1)

    def cancel(self, order_id: int, reason: str = "cancelled") -> bool:
        """Cancel an open or pending order (and its bracket exits); False if not open."""
        return self.broker.cancel(order_id, reason)

    def expire_open_orders(self, reason: str) -> None:
        """No bar is left: every order still open expires with ``reason``."""
        self.broker.expire_open(reason)

    def replace_strategy(self, strategy: Strategy) -> None:
        """Trade ``strategy`` from the next bar on (a parameter change).

        It is warmed up on the bars so far without placing orders.
        """
        silent = _SilentCtx(self)
        silent.params = strategy.params
        strategy.on_start(silent)
        for i in range(self.market.n_bars):
            silent.i = self._known = i
            strategy.on_bar(silent)
        self._known = self._i
        self.strategy = strategy
        self.ctx.params = strategy.params

    @property
    def orders(self) -> Mapping[int, Order]:
        """Every order by id (read only)."""
        return MappingProxyType(self.broker.orders)

    @property
    def open_orders(self) -> Sequence[Order]:
        """The orders that can still fill, oldest first (read only)."""
        return tuple(self.broker.active)

    @property
    def executions(self) -> Sequence[Execution]:
        """Every fill so far, in order (do not change it)."""
        return self.broker.executions

    @property
    def last_order_id(self) -> int:
        return self.broker.last_order_id

    @property
    def gross(self) -> Sequence[float]:
        """Gross position value at each close so far (do not change it)."""
        return self._gross

    def run(
        self,
        progress: Callable[[float], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RawRun:
        n = self.market.n_bars
        self.start()
        step = self.step
        report_every = max(n // 50, 1)
        for i in range(n):
            step(i, i == n - 1)
            if i % report_every == 0:
                if progress:
                    progress(i / n)
                if should_stop and should_stop():
                    raise StopRequested(f"stopped at bar {i} of {n}")
        if progress:
            progress(1.0)
        return self.raw()

    def raw(self) -> RawRun:
        """The curves so far as a :class:`RawRun`."""
        equity, cash, gross, net = (
            np.array(x, dtype=float) for x in (self.equity, self.cash, self._gross, self._net)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(equity != 0, gross / equity, 0.0)
        market = self.market if isinstance(self.market, MarketFrame) else self.market.frame()
        return RawRun(market, equity, cash, exposure, net, self.broker, self.trades, self.ledger)

    def _record(self, ctx: _Ctx, seen: int) -> int:
        executions = self.broker.executions
        for x in executions[seen:]:
            signed = x.quantity if x.side is Side.BUY else -x.quantity
            self.trades.on_execution(x.symbol, signed, x.price, x.commission, x.bar)
            if self.gate is not None:
                self.gate.on_fill(x.quantity, x.price, x.symbol)
            self.strategy.on_fill(ctx, x)
        return len(executions)


def _last_valid(values: list[float], i: int) -> float:
    while i >= 0 and values[i] != values[i]:
        i -= 1
    return values[i] if i >= 0 else 0.0
