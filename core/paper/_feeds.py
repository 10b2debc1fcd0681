"""Feeds: where a session's events come from. Only the feed and the clock differ from a
backtest; every feed here is deterministic, so a session can be re-run after a crash.

An event is one timestamp with one bar per instrument (NaN where an instrument has none).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from core.backtest import BacktestConfig, MarketFrame
from core.instruments import AssetClass, Instrument, default_instrument
from core.marketdata import SyntheticMarket, preset
from core.paper._config import FeedConfig

FIELDS = ("open", "high", "low", "close", "volume")
SYNTHETIC_SYMBOLS = {"equity": "SYN-EQ", "crypto": "SYN-BTC", "forex": "SYN-FX"}
_SYNTHETIC_CLASS = {
    "equity": AssetClass.STOCK,
    "crypto": AssetClass.CRYPTO,
    "forex": AssetClass.FOREX,
}


@dataclass(frozen=True)
class Event:
    seq: int
    ts: datetime  # naive, microseconds
    row: dict[str, list[float]]  # field → one value per symbol (NaN: no bar)
    last: bool  # no event follows (the feed is exhausted)
    regime: int | None = None  # the synthetic market's true regime, when known


class Feed:
    """A fixed sequence of events (replay of history, or a seeded synthetic market)."""

    def __init__(
        self,
        market: MarketFrame,
        instruments: dict[str, Instrument],
        regimes: np.ndarray | None = None,
        regime_names: tuple[str, ...] = (),
    ):
        self.market, self.instruments = market, instruments
        self.symbols = market.symbols
        self.regimes, self.regime_names = regimes, regime_names
        # plain lists and datetimes, converted once: the hot loop never touches numpy
        self._rows = {f: getattr(market, f).tolist() for f in FIELDS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sub-microsecond digits are dropped
            self._ts = list(market.index.to_pydatetime())

    def __len__(self) -> int:
        return self.market.n_bars

    def events(self, start: int = 0) -> Iterator[Event]:
        n, rows, stamps = self.market.n_bars, self._rows, self._ts
        regimes = self.regimes
        for seq in range(start, n):
            yield Event(
                seq,
                stamps[seq],
                {f: rows[f][seq] for f in FIELDS},
                seq == n - 1,
                None if regimes is None else int(regimes[seq]),
            )

    def history(self, upto: int) -> MarketFrame:
        """The first ``upto`` events as a frame (what a resumed worker re-runs)."""
        m = self.market
        return MarketFrame(m.index[:upto], m.symbols, *(getattr(m, f)[:upto] for f in FIELDS))


def build_feed(config: FeedConfig, backtests) -> Feed:
    """The feed a session's configuration describes (``backtests``: a BacktestService)."""
    if config.kind == "replay":
        spec = BacktestConfig(
            strategy="sma_crossover",  # only the data fields are read by ``load``
            symbols=config.symbols,
            data_file=config.data_file,
            start=config.start,
            end=config.end,
        )
        market, instruments = backtests.load(spec)
        return Feed(market, instruments)
    model = preset(config.preset)
    ticks = SyntheticMarket(model, seed=config.seed).ticks(
        pd.Timestamp(config.start or "2026-01-05"), config.events, rate=config.tick_rate
    )
    symbol = SYNTHETIC_SYMBOLS[config.preset]
    price = ticks["price"].to_numpy(float)[:, None]
    size = ticks["size"].to_numpy(float)[:, None]
    # microsecond stamps (what databases keep), still strictly increasing
    stamps = pd.DatetimeIndex(ticks["timestamp"]).round("us").asi8
    steps = np.arange(len(stamps), dtype=np.int64) * 1000  # 1 µs apart at least
    stamps = np.maximum.accumulate(stamps - steps) + steps
    index = pd.DatetimeIndex(stamps, name="timestamp")
    market = MarketFrame(index, (symbol,), price, price.copy(), price.copy(), price.copy(), size)
    instrument = default_instrument(symbol, _SYNTHETIC_CLASS[config.preset])
    names = tuple(r.name for r in model.regimes)
    return Feed(market, {symbol: instrument}, ticks["regime"].to_numpy(), names)


class Clock:
    """Paces events: ``speed`` × real time between their timestamps, or none (max)."""

    def __init__(self, speed: float | None, sleep=time.sleep, now=time.monotonic):
        self.speed, self._sleep, self._now = speed, sleep, now
        self._anchor: tuple[float, pd.Timestamp] | None = None

    def reset(self) -> None:
        self._anchor = None

    def wait(self, ts: pd.Timestamp, max_wait: float = 0.25) -> bool:
        """Sleep until ``ts`` is due (at most ``max_wait`` s); True when it is due."""
        if self.speed is None:
            return True
        if self._anchor is None:
            self._anchor = (self._now(), ts)
            return True
        wall0, ts0 = self._anchor
        due = wall0 + (ts - ts0).total_seconds() / self.speed
        delay = due - self._now()
        if delay <= 0:
            return True
        self._sleep(min(delay, max_wait))
        return delay <= max_wait
