"""Aligned market arrays for the engines: one row per timestamp, one column per symbol."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InvalidInputError


@dataclass(frozen=True)
class MarketFrame:
    """Bars of several instruments on the union of their timestamps.

    Arrays have shape (n_bars, n_symbols); NaN where an instrument has no bar. Close-only
    series are given open = high = low = close (a bar that traded at its close).
    """

    index: pd.DatetimeIndex
    symbols: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_bars(cls, bars: dict[str, pd.DataFrame]) -> MarketFrame:
        if not bars:
            raise InvalidInputError("no instruments to backtest")
        frames = list(bars.values())
        index = pd.DatetimeIndex(frames[0].index)
        for frame in frames[1:]:
            index = index.union(frame.index)  # sorted, duplicates dropped
        aligned = {s: b.reindex(index) for s, b in bars.items()}
        close = np.column_stack([a["close"].to_numpy(float) for a in aligned.values()])

        def field(name: str) -> np.ndarray:
            raw = np.column_stack([a[name].to_numpy(float) for a in aligned.values()])
            return np.where(np.isnan(raw), close, raw)

        volume = np.column_stack([a["volume"].to_numpy(float) for a in aligned.values()])
        return cls(index, tuple(bars), field("open"), field("high"), field("low"), close, volume)

    @property
    def n_bars(self) -> int:
        return len(self.index)

    def column(self, symbol: str) -> int:
        return self.symbols.index(symbol)

    def timestamp(self, i: int) -> pd.Timestamp:
        return self.index[i]


_FIELDS = ("open", "high", "low", "close", "volume")


class GrowingMarket:
    """A :class:`MarketFrame` that grows one bar at a time (live feeds).

    The arrays are views of a buffer that doubles when full, so a strategy's
    ``history`` reads only the bars that have arrived.
    """

    def __init__(self, symbols: tuple[str, ...] | list[str], capacity: int = 1024):
        self.symbols = tuple(symbols)
        self._buf = {f: np.full((capacity, len(self.symbols)), np.nan) for f in _FIELDS}
        self._ts: list = []  # datetimes as the feed gives them
        self._index: pd.DatetimeIndex | None = None

    @property
    def n_bars(self) -> int:
        return len(self._ts)

    def append(self, ts, row: dict[str, list[float]]) -> None:
        """Add one timestamp; ``row`` maps each field to one value per symbol (NaN: no bar)."""
        n = len(self._ts)
        if n == len(self._buf["close"]):
            for f, old in self._buf.items():
                grown = np.full((2 * n, old.shape[1]), np.nan)
                grown[:n] = old
                self._buf[f] = grown
        for f in _FIELDS:
            self._buf[f][n] = row[f]
        self._ts.append(ts)
        self._index = None

    def _view(self, field: str) -> np.ndarray:
        return self._buf[field][: len(self._ts)]

    open = property(lambda self: self._view("open"))
    high = property(lambda self: self._view("high"))
    low = property(lambda self: self._view("low"))
    close = property(lambda self: self._view("close"))
    volume = property(lambda self: self._view("volume"))

    @property
    def index(self) -> pd.DatetimeIndex:
        if self._index is None:
            self._index = pd.DatetimeIndex(self._ts, name="timestamp")
        return self._index

    def column(self, symbol: str) -> int:
        return self.symbols.index(symbol)

    def timestamp(self, i: int) -> pd.Timestamp:
        return self._ts[i]

    def frame(self) -> MarketFrame:
        """A fixed :class:`MarketFrame` of the bars so far (for reconciliation)."""
        return MarketFrame(self.index, self.symbols, *(self._view(f).copy() for f in _FIELDS))
