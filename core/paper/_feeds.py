"""Feeds: where a session's events come from.

Only the feed and the clock differ from a backtest; every feed here is deterministic, so a session
can be re-run after a crash.

An event is one timestamp with one bar per instrument (NaN where an instrument has none).
"""

from __future__ import annotations

import importlib
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy import select

from core.backtest import BacktestConfig, MarketFrame
from core.db import PaperBarRow
from core.errors import InvalidInputError
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

    live = False

    def __init__(
        self,
        market: MarketFrame,
        instruments: dict[str, Instrument],
        regimes: np.ndarray | None = None,
        regime_names: tuple[str, ...] = (),
        *,
        closed: bool = True,
    ):
        self.market, self.instruments = market, instruments
        self.closed = closed  # no event follows the last one (False: recorded live bars)
        self.symbols = market.symbols
        self.regimes, self.regime_names = regimes, regime_names

    def __len__(self) -> int:
        return self.market.n_bars

    @cached_property
    def _columns(self) -> tuple[dict[str, list], list[datetime]]:
        """Plain lists and datetimes: the hot loop never touches numpy.

        Converted once, when the first event is asked for, not when the feed is built:
        creating a session checks its feed, and a worker claims its session, without paying
        for it.
        """
        rows = {f: getattr(self.market, f).tolist() for f in FIELDS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sub-microsecond digits are dropped
            stamps = list(self.market.index.to_pydatetime())
        return rows, stamps

    def events(self, start: int = 0) -> Iterator[Event]:
        (rows, stamps), n = self._columns, self.market.n_bars
        regimes = self.regimes
        for seq in range(start, n):
            yield Event(
                seq,
                stamps[seq],
                {f: rows[f][seq] for f in FIELDS},
                self.closed and seq == n - 1,
                None if regimes is None else int(regimes[seq]),
            )


def recorded_market(
    conn, session_id: int, symbols: tuple[str, ...], upto: int | None = None
) -> tuple[MarketFrame, dict[pd.Timestamp, int]]:
    """The bars a session recorded (its first ``upto`` events) and each timestamp's event number.

    The bars come as a frame: what reconciliation backtests and a live feed's resume re-runs.
    """
    query = select(
        PaperBarRow.seq,
        PaperBarRow.ts,
        PaperBarRow.symbol,
        *(getattr(PaperBarRow, f) for f in FIELDS),
    ).where(PaperBarRow.session_id == session_id)
    if upto is not None:
        query = query.where(PaperBarRow.seq < upto)
    result = conn.execute(query.order_by(PaperBarRow.seq))
    bars = pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
    n = int(bars["seq"].max()) + 1 if len(bars) else 0
    arrays = {f: np.full((n, len(symbols)), np.nan) for f in FIELDS}
    column = {s: j for j, s in enumerate(symbols)}
    seqs, cols = bars["seq"].to_numpy(int), bars["symbol"].map(column).to_numpy(int)
    for f, a in arrays.items():
        a[seqs, cols] = bars[f].to_numpy(float)
    stamps = bars.drop_duplicates("seq").set_index("seq")["ts"].reindex(range(n))
    index = pd.DatetimeIndex(stamps.to_numpy(), name="timestamp")
    market = MarketFrame(index, symbols, *(arrays[f] for f in FIELDS))
    return market, {t: i for i, t in enumerate(index)}


def build_feed(config: FeedConfig, backtests, *, allow_network: bool = False) -> Feed | PollingFeed:
    """The feed a session's configuration describes (``backtests``: a BacktestService)."""
    if config.kind == "yahoo":
        if not allow_network:
            raise InvalidInputError(
                "the live Yahoo feed needs the network: set WORKSTATION_ALLOW_NETWORK=1 "
                "(and pip install yfinance)",
                "feed",
            )
        market = backtests.market
        instruments = {s: market.instrument(s) or default_instrument(s) for s in config.symbols}
        return PollingFeed(config, instruments, LIVE_SOURCES["yahoo"])
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


# -- a live feed ---------------------------------------------------------------------------
IDLE = None  # what a live feed yields when no new bar has completed yet

LiveSource = Callable[[str, str], pd.DataFrame]  # (symbol, interval) → recent bars


def yahoo_recent(symbol: str, interval: str) -> pd.DataFrame:
    """Recent bars from ``yfinance.Ticker(symbol).history`` (the last days at ``interval``)."""
    try:
        yfinance = importlib.import_module("yfinance")
    except ImportError as exc:
        raise RuntimeError(
            "the live Yahoo feed needs the optional yfinance package: pip install yfinance"
        ) from exc
    period = "5d" if interval != "1d" else "1mo"
    return yfinance.Ticker(symbol).history(period=period, interval=interval, auto_adjust=False)


LIVE_SOURCES: dict[str, LiveSource] = {"yahoo": yahoo_recent}
_STEP = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "1d": 86400}


def recent_bars(history: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """A ``Ticker.history`` frame → a bars frame (UTC, tz dropped).

    NaN or non-positive prices are refused with the row at fault.
    """
    if history is None or history.empty:
        return pd.DataFrame(columns=list(FIELDS), index=pd.DatetimeIndex([], name="timestamp"))
    index = pd.DatetimeIndex(history.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)  # live bars are stamped in UTC
    frame = pd.DataFrame(
        {f: pd.to_numeric(history[f.title()], errors="coerce").to_numpy(float) for f in FIELDS},
        index=index.rename("timestamp"),
    )
    prices = frame[["open", "high", "low", "close"]]
    bad = ~(np.isfinite(prices) & (prices > 0)).all(axis=1)
    if bad.any():
        at = frame.index[bad.to_numpy()][0]
        raise InvalidInputError(f"{symbol}: a bar at {at} has a missing or non-positive price")
    return frame[~frame.index.duplicated(keep="last")].sort_index()


class PollingFeed:
    """Live bars polled from a public source; an event per completed bar, in time order.

    Not deterministic, so a resumed session re-runs its recorded bars (from the database)
    and the feed carries on after the last of them (``resume_after``). A bar is emitted
    once its interval has ended (a forming bar is left for the next poll); a bar that
    arrives for a time already passed is dropped.
    """

    live = True
    regimes = None
    regime_names: tuple[str, ...] = ()

    def __init__(
        self,
        config: FeedConfig,
        instruments: dict[str, Instrument],
        source: LiveSource,
        *,
        now=lambda: pd.Timestamp.now("UTC").tz_localize(None),
        sleep=time.sleep,
    ):
        self.symbols = tuple(config.symbols)
        self.instruments = instruments
        self._source, self._now, self._sleep = source, now, sleep
        self._interval, self._poll = config.interval, config.poll_seconds
        self._step = pd.Timedelta(seconds=_STEP[config.interval])
        self._last: pd.Timestamp | None = None
        self._next_poll = -math.inf
        self.polls = 0

    def __len__(self) -> int:
        return 0  # unknown: it runs until stopped

    def resume_after(self, ts) -> None:
        self._last = None if ts is None else pd.Timestamp(ts)

    def poll(self) -> list[tuple[pd.Timestamp, dict[str, list[float]]]]:
        """Fetch every symbol once; the new completed bars, aligned by time."""
        self.polls += 1
        frames = {s: recent_bars(self._source(s, self._interval), s) for s in self.symbols}
        # a bar has ended once its interval has passed, and a time is complete once every
        # instrument that reported has reported up to it (a lagging symbol is waited for)
        cutoff = min(
            [self._now() - self._step] + [f.index.max() for f in frames.values() if len(f)]
        )
        last = self._last
        stamps = sorted(
            {
                t
                for f in frames.values()
                for t in f.index
                if t <= cutoff and (last is None or t > last)
            }
        )
        rows = []
        for t in stamps:
            row = {f: [] for f in FIELDS}
            for s in self.symbols:
                frame = frames[s]
                have = t in frame.index
                for f in FIELDS:
                    row[f].append(float(frame.at[t, f]) if have else math.nan)
            rows.append((t, row))
        return rows

    def events(self, start: int = 0) -> Iterator[Event | None]:
        """Events from sequence number ``start`` on; ``IDLE`` while nothing is new."""
        seq = start
        while True:
            clock = time.monotonic()
            if clock < self._next_poll:
                self._sleep(min(0.2, self._next_poll - clock))
                yield IDLE
                continue
            self._next_poll = clock + self._poll
            for t, row in self.poll():
                self._last = t
                yield Event(seq, t.to_pydatetime(), row, False)
                seq += 1
            yield IDLE
