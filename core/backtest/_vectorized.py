"""The vectorized path for parameter sweeps.

A strategy that states its targets as an array (``Strategy.signals``) is simulated here:
signals come from numpy, and only the bars where a target is stated go through the very
same broker, ledger and sizing as the event engine, so trades and final equity are
identical; equity between fills is filled in with array arithmetic.
"""

from __future__ import annotations

import numpy as np

from core.backtest._data import MarketFrame
from core.backtest._engine import BacktestEngine, RawRun
from core.errors import InvalidInputError
from core.execution import ExecutionConfig, Order, OrderType
from core.instruments import Instrument
from core.portfolio import Side
from core.strategies import Strategy


def run_vectorized(
    strategy: Strategy,
    market: MarketFrame,
    instruments: dict[str, Instrument],
    *,
    cash: float,
    execution: ExecutionConfig | None = None,
) -> RawRun:
    """Simulate ``strategy`` from its array signals on one instrument."""
    if len(market.symbols) != 1:
        raise InvalidInputError(
            "the vectorized path runs one instrument at a time", field="symbols"
        )
    close = market.close[:, 0]
    targets = strategy.signals(close, market.high[:, 0], market.low[:, 0])
    if targets is None:
        raise InvalidInputError(
            f"{strategy.name} cannot state its signals as arrays", field="strategy"
        )
    engine = BacktestEngine(strategy, market, instruments, cash=cash, execution=execution)
    return _simulate(engine, np.asarray(targets, dtype=float))


def _simulate(engine: BacktestEngine, targets: np.ndarray) -> RawRun:
    market, broker, ledger = engine.market, engine.broker, engine.ledger
    symbol, n = market.symbols[0], market.n_bars
    O, H, L, C, V = (getattr(market, f)[:, 0] for f in ("open", "high", "low", "close", "volume"))
    same_close = engine.execution.fill_timing == "same_close"
    change_bars, cash_after, qty_after = [0], [ledger.cash], [0.0]
    for t in np.flatnonzero(~np.isnan(targets)):
        if t >= n - 1:
            break  # a signal on the last bar is never filled
        target = int(targets[t])
        held = ledger.quantity(symbol)
        side = Side.BUY if target > 0 or (target == 0 and held < 0) else Side.SELL
        order = Order(
            0, symbol, side, None, target=target, type=OrderType.MARKET, created_at=int(t)
        )
        broker.submit(order)
        fill_bar = int(t) if same_close else int(t) + 1
        engine._i, engine._known = fill_bar, int(t)
        seen = len(broker.executions)
        if same_close:
            broker.on_close(fill_bar, symbol, float(C[t]), float(V[t]))
        else:
            broker.on_bar(
                fill_bar,
                symbol,
                float(O[fill_bar]),
                float(H[fill_bar]),
                float(L[fill_bar]),
                float(C[fill_bar]),
                float(V[fill_bar]),
            )
        for x in broker.executions[seen:]:
            signed = x.quantity if x.side is Side.BUY else -x.quantity
            engine.trades.on_execution(x.symbol, signed, x.price, x.commission, x.bar)
        change_bars.append(fill_bar)
        cash_after.append(ledger.cash)
        qty_after.append(ledger.quantity(symbol))
    return _curves(engine, C, np.array(change_bars), np.array(cash_after), np.array(qty_after))


def _curves(engine: BacktestEngine, close, bars, cash_after, qty_after) -> RawRun:
    """Cash and quantity hold from each change bar to the next; mark at every close."""
    n = len(close)
    state = np.searchsorted(bars, np.arange(n), side="right") - 1
    cash, qty = cash_after[state], qty_after[state]
    multiplier = engine.instruments[engine.market.symbols[0]].multiplier
    value = np.where(qty != 0, qty * close * multiplier, 0.0)
    equity = cash + value
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.where(equity != 0, np.abs(value) / equity, 0.0)
    return RawRun(
        engine.market, equity, cash, exposure, value, engine.broker, engine.trades, engine.ledger
    )
