"""Tiny in-memory pieces for the paper parts' unit tests: one instrument, a hand-made
strategy, engines stepped on bars given by hand (no database, no feed)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from core.backtest import BacktestEngine, RiskGate, RiskOverlay
from core.backtest._data import GrowingMarket
from core.execution import ExecutionConfig
from core.instruments import Instrument
from core.paper._book import SessionBook
from core.paper._feeds import Event
from core.paper._journal import Cursor, Journal
from core.paper._sleeve import Sleeve
from core.paper._tracking import OrderTracker
from core.portfolio import Ledger
from core.strategies import Strategy, StrategyParams

SYMBOL = "XYZ"
T0 = datetime(2024, 1, 2, 9, 30)


class Params(StrategyParams):
    buy_every: int = 0  # buy one unit every this many bars (0: never)


class Counting(Strategy):
    """Counts the bars it saw; buys one unit every ``buy_every`` bars."""

    Params = Params

    def on_start(self, ctx) -> None:
        self.seen = 0

    def on_bar(self, ctx) -> None:
        self.seen += 1
        n = self.params.buy_every
        if n and self.seen % n == 0:
            ctx.buy(1)


def instruments(multiplier: float = 1.0) -> dict[str, Instrument]:
    return {SYMBOL: Instrument(symbol=SYMBOL, multiplier=multiplier)}


def engine(strategy: Strategy | None = None, *, cash=10_000.0, key="k", multiplier=1.0):
    e = BacktestEngine(
        strategy or Counting(),
        GrowingMarket((SYMBOL,)),
        instruments(multiplier),
        cash=cash,
        execution=ExecutionConfig(),  # no commission, no slippage
        key=key,
    )
    e.start()
    return e


def row(o: float, c: float, volume: float = 1e6) -> dict[str, list[float]]:
    return {"open": [o], "high": [max(o, c)], "low": [min(o, c)], "close": [c], "volume": [volume]}


def step(e: BacktestEngine, o: float, c: float) -> int:
    i = e.append_bar(T0 + timedelta(days=e.market.n_bars), row(o, c))
    e.step(i)
    return i


def event(seq: int, o: float = 10.0, c: float = 10.0) -> Event:
    return Event(seq, T0 + timedelta(days=seq), row(o, c), last=False)


class World:
    """A session's book of one sleeve on a live cursor, with its journal and tracker."""

    def __init__(self, *, cash=10_000.0, strategy=None, live=True, multiplier=1.0):
        self.cursor = Cursor(live=live)
        self.journal = Journal(7, self.cursor)
        self.tracker = OrderTracker(7, self.journal)
        self.engine = engine(strategy, cash=cash, multiplier=multiplier)
        self.sleeve = Sleeve("k", "counting", 1.0, self.engine)
        self.risk = RiskGate(RiskOverlay(), instruments(multiplier), cash=cash)
        self.book = SessionBook(
            Ledger(cash, "USD", allow_short=True, allow_margin=True),
            [self.sleeve],
            instruments(multiplier),
            idle_cash=0.0,
            journal=self.journal,
            tracker=self.tracker,
            risk=self.risk,
        )

    def bar(self, o: float, c: float) -> None:
        """One event: the engine steps, its fills are booked, the totals follow."""
        i = step(self.engine, o, c)
        self.cursor.enter(i, self.engine.market.timestamp(i))
        self.book.book_new_fills(self.sleeve)
        self.book.equity, self.book.cash = self.engine.equity[-1], self.engine.cash[-1]


def isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)
