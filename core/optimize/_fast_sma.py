"""A fast simulator of the SMA crossover for searches.

Moving averages are computed once per window, only the crossing bars simulated, in plain float
arithmetic.

It gives the same equity curve, closed trades, position values and fills as
:func:`core.backtest.run_vectorized` (and so as the event engine) for the configurations
:func:`supports` accepts: one instrument with multiplier 1 traded in whole units, and the
default execution (all-in sizing, market orders filled at the next bar's open, no slippage,
shorting allowed, no margin) with a percent commission. It repeats their arithmetic
operation for operation, as :mod:`core.backtest._sweep` does for final equity:

* signals: :func:`cross_signs` of :func:`sma_array` averages (the strategy's own functions;
  the averages of each window are cached, and a prefix of the bars gives the prefix of the
  full-length signals, so a window ``[0, stop)`` reuses them);
* a target closes what opposes it (``cash ± |held| × price − commission``, rejected with the
  rest of the order when cash would fall below ``−CASH_TOLERANCE``), then sizes the new side
  all-in: ``units = floor(cash / (price × (1 + rate)) + 1e-9)``, cut while cost plus
  commission exceed ``cash + 1e-9``;
* closed trades come from the engine's own :class:`~core.backtest._trades.TradeTracker`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

import numpy as np

from core.backtest import BacktestConfig, MarketFrame, TradeTracker
from core.execution import CommissionModel, ExecutionConfig
from core.instruments import Instrument
from core.portfolio import CASH_TOLERANCE
from core.strategies.builtin import cross_signs, sma_array

STRATEGY = "sma_crossover"


MODELLED = {"strategy", "params", "symbols", "data_file", "start", "end", "cash", "execution"}
MODELLED |= {"periods_per_year", "risk_free"}
"""The config fields the fast path models; any other (a later option, e.g. a risk overlay)
must keep its default for the fast path to be used."""


def supports(config: BacktestConfig, instruments: dict[str, Instrument]) -> bool:
    """True when :class:`FastSmaCrossover` reproduces the backtest of ``config`` exactly."""
    if config.strategy != STRATEGY or len(config.symbols) != 1:
        return False
    fields = type(config).model_fields
    if any(
        getattr(config, k) != fields[k].get_default(call_default_factory=True)
        for k in set(fields) - MODELLED
    ):
        return False
    execution = config.execution or ExecutionConfig()
    plain = ExecutionConfig(commission=CommissionModel(rate=execution.commission.rate))
    instrument = instruments.get(config.symbols[0])
    return (
        execution == plain
        and instrument is not None
        and instrument.multiplier == 1.0
        and instrument.quantity_step == 1.0
    )


@dataclass
class FastRun:
    """What :meth:`FastSmaCrossover.run` returns (the parts of a ``RawRun`` metrics use).

    Attributes
    ----------
    equity : ndarray of shape (n_bars,)
    position : ndarray of shape (n_bars,)
        Net position value at each close.
    closed : list of tuple
        ``TradeTracker.closed`` rows (exit bar at index 3, net P&L at index 8).
    fills : list of (bar, quantity, price)
    """

    equity: np.ndarray
    position: np.ndarray
    closed: list[tuple]
    fills: list[tuple[int, float, float]]


@dataclass
class FastSmaCrossover:
    """The SMA crossover on one instrument's ``open`` and ``close`` (shape ``(n_bars,)``).

    Parameters
    ----------
    open, close : ndarray of shape (n_bars,)
    cash : float
    rate : float
        Commission as a fraction of notional.
    symbol : str
        The instrument's symbol (for the trade rows).
    """

    open: np.ndarray
    close: np.ndarray
    cash: float
    rate: float
    symbol: str = "X"
    token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False, compare=False)
    _smas: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._smas = _cache(self.token)

    @classmethod
    def for_backtest(cls, config: BacktestConfig, market: MarketFrame) -> FastSmaCrossover:
        execution = config.execution or ExecutionConfig()
        return cls(
            np.asarray(market.open[:, 0], float),
            np.asarray(market.close[:, 0], float),
            float(config.cash),
            float(execution.commission.rate),
            market.symbols[0],
        )

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_smas": {}}  # the averages are not shipped to workers

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._smas = _cache(self.token)  # a worker process keeps them between tasks

    def sma(self, window: int) -> np.ndarray:
        """:func:`sma_array` of the closes, cached per window."""
        out = self._smas.get(window)
        if out is None:
            out = self._smas[window] = sma_array(self.close, window)
        return out

    def run(self, fast: int, slow: int, long_short: bool = False, stop: int | None = None):
        """Simulate bars ``[0, stop)``; a :class:`FastRun` of that many bars."""
        n = len(self.close) if stop is None else int(stop)
        cross = cross_signs(self.sma(int(fast)), self.sma(int(slow)))
        bars = np.flatnonzero(cross[: max(n - 1, 0)])  # a signal on the last bar never fills
        down = -1 if long_short else 0
        targets = np.where(cross[bars] > 0, 1, down).tolist()
        prices = self.open[bars + 1].tolist()
        return self._simulate(bars.tolist(), targets, prices, n)

    def _simulate(self, bars: list[int], targets: list[int], prices: list[float], n: int):
        rate, unit = self.rate, 1 + self.rate
        cash, held = self.cash, 0.0
        tracker = TradeTracker({self.symbol: 1.0})
        fills: list[tuple[int, float, float]] = []
        change, cash_after, qty_after = [0], [cash], [0.0]
        for t, target, price in zip(bars, targets, prices, strict=True):
            bar = t + 1
            ok = True
            if held and (target == 0 or (held > 0) != (target > 0)):
                quantity = abs(held)
                signed = -held
                after = _cash_after(cash, signed, price, rate)
                if after < -CASH_TOLERANCE:
                    ok = False
                else:
                    cash, held = after, held + signed
                    commission = quantity * price * rate if quantity else 0.0
                    tracker.on_execution(self.symbol, signed, price, commission, bar)
                    fills.append((bar, quantity, price))
            if ok and target != 0 and not held * target > 0:
                units = _units(cash, price, rate, unit)
                if units > 0:
                    signed = units if target > 0 else -units
                    after = _cash_after(cash, signed, price, rate)
                    if not after < -CASH_TOLERANCE:
                        cash, held = after, held + signed
                        tracker.on_execution(self.symbol, signed, price, units * price * rate, bar)
                        fills.append((bar, units, price))
            change.append(bar)
            cash_after.append(cash)
            qty_after.append(held)
        close = self.close[:n]
        state = np.searchsorted(np.array(change), np.arange(n), side="right") - 1
        cash_at, qty_at = np.array(cash_after)[state], np.array(qty_after)[state]
        value = np.where(qty_at != 0, qty_at * close, 0.0)
        return FastRun(cash_at + value, value, tracker.closed, fills)


_CACHES: dict[str, dict[int, np.ndarray]] = {}
CACHED_SERIES = 4
"""Each process keeps the moving averages of this many price series (the latest used)."""


def _cache(token: str) -> dict[int, np.ndarray]:
    cache = _CACHES.pop(token, None)
    _CACHES[token] = cache = {} if cache is None else cache
    while len(_CACHES) > CACHED_SERIES:
        del _CACHES[next(iter(_CACHES))]
    return cache


def _cash_after(cash: float, signed: float, price: float, rate: float) -> float:
    """The ledger's cash after a fill of ``signed`` units (commission ``|q| × p × rate``)."""
    commission = abs(signed) * price * rate if signed else 0.0
    return cash - signed * price - commission - 0.0


def _units(cash: float, price: float, rate: float, unit: float) -> float:
    """All-in sizing for whole units with a percent commission (``Sizing.units``)."""
    units = float(max(math.floor(max(cash, 0.0) / (price * unit) + 1e-9), 0))
    while units > 0 and units * price + units * price * rate > cash + 1e-9:
        over = units * price + units * price * rate - cash
        units = float(max(math.floor(max(units - max(over / price, 1.0), 0.0) + 1e-9), 0))
    return units
