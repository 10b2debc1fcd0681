"""Aligned market arrays for the engines: one row per timestamp, one column per symbol."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
            raise ValueError("no instruments to backtest")
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
