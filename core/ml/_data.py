"""The universe a model learns on: closes (and volumes) of several symbols on one calendar.

:func:`load_universe` reads symbols from the market data service (bundled or imported) or a
file: a wide CSV of closes (a date column, then one column per symbol) or long OHLCV bars
with a ``symbol`` column. Dates are the union of the symbols' dates; a symbol without a bar
on a date has NaN there (never filled forward, so no value is invented).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.marketdata import MarketDataService

DATE_NAMES = ("date", "timestamp", "time", "datetime", "day")


@dataclass(frozen=True)
class Universe:
    """Closes and volumes of shape (n_dates, n_symbols); ``volume`` None when absent."""

    dates: pd.DatetimeIndex
    symbols: tuple[str, ...]
    close: np.ndarray
    volume: np.ndarray | None

    def cut(self, end: int) -> Universe:
        """Dates 0 … end − 1 only."""
        volume = None if self.volume is None else self.volume[:end]
        return Universe(self.dates[:end], self.symbols, self.close[:end], volume)

    @property
    def span(self) -> tuple[str, str]:
        return self.dates[0].date().isoformat(), self.dates[-1].date().isoformat()


def universe_from_frames(closes: pd.DataFrame, volumes: pd.DataFrame | None = None) -> Universe:
    """A universe from a frame of closes (dates × symbols) and optional volumes."""
    closes = closes.sort_index()
    closes = closes.loc[:, closes.notna().any()]
    if closes.shape[1] < 2:
        raise InvalidInputError("ml: a universe needs at least two symbols with prices")
    volume = None
    if volumes is not None:
        aligned = volumes.reindex(index=closes.index, columns=closes.columns)
        if aligned.notna().to_numpy().mean() > 0.5 and (aligned.fillna(0) > 0).to_numpy().any():
            volume = aligned.to_numpy(float)
    index = pd.DatetimeIndex(closes.index).as_unit("us")
    return Universe(index, tuple(map(str, closes.columns)), closes.to_numpy(float), volume)


def load_universe(
    market: MarketDataService,
    symbols: tuple[str, ...] = (),
    data_file: str | None = None,
    start=None,
    end=None,
) -> Universe:
    """Bars of ``symbols`` (or of ``data_file``) between ``start`` and ``end`` (inclusive)."""
    if data_file:
        closes, volumes = read_universe_file(Path(data_file))
    else:
        bars = {s: market.bars(s) for s in symbols}
        closes = pd.DataFrame({s: b["close"] for s, b in bars.items()})
        volumes = pd.DataFrame({s: b["volume"] for s, b in bars.items()})
    lo = pd.Timestamp(start) if start else None
    hi = pd.Timestamp(end) + pd.Timedelta(days=1, microseconds=-1) if end else None
    closes = closes.sort_index().loc[lo:hi]
    volumes = None if volumes is None else volumes.sort_index().loc[lo:hi]
    return universe_from_frames(closes, volumes)


def read_universe_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Closes and volumes (dates × symbols) of a wide close file or a long OHLCV file."""
    if not path.is_file():
        raise InvalidInputError(f"--data: no file {path}", field="data_file")
    table = pd.read_csv(path)
    columns = {c.lower().strip(): c for c in table.columns}
    date_col = next((columns[n] for n in DATE_NAMES if n in columns), None)
    if date_col is None:
        raise InvalidInputError(
            f"{path.name}: no date column (one of {', '.join(DATE_NAMES)})", field="data_file"
        )
    table[date_col] = pd.to_datetime(table[date_col], errors="coerce")
    if table[date_col].isna().any():
        raise InvalidInputError(f"{path.name}: a date that cannot be read", field="data_file")
    if "symbol" in columns and "close" in columns:
        sym, close = columns["symbol"], columns["close"]
        table[sym] = table[sym].astype(str).str.strip().str.upper()
        closes = table.pivot_table(index=date_col, columns=sym, values=close, aggfunc="last")
        volumes = None
        if "volume" in columns:
            volumes = table.pivot_table(
                index=date_col, columns=sym, values=columns["volume"], aggfunc="last"
            )
        return closes.astype(float), volumes
    wide = table.set_index(date_col)
    wide.columns = [str(c).strip().upper() for c in wide.columns]
    try:
        return wide.astype(float), None
    except ValueError:
        raise InvalidInputError(
            f"{path.name}: a close that is not a number", field="data_file"
        ) from None
