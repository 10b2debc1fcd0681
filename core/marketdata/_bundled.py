"""The daily history shipped in ``data/market`` (provenance in ``data/README.md``).

Twenty S&P 500 stocks and the S&P 500 index as adjusted closes (1990-2022, from
skfolio), and the S&P 500 and NASDAQ Composite as daily OHLCV (1999-2018, from arch).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from core import config
from core.errors import NotFoundError
from core.marketdata._frames import BAR_COLUMNS

STOCKS_FILE = "sp500_stocks_close.csv.gz"
INDEX_CLOSE_FILE = "sp500_index_close.csv.gz"
STOCK_SYMBOLS = (
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
)

# symbol -> (file, column holding its close, or None for an OHLCV file)
_SOURCES: dict[str, tuple[str, str | None]] = {
    **{s: (STOCKS_FILE, s) for s in STOCK_SYMBOLS},
    "SP500": (INDEX_CLOSE_FILE, "SP500"),
    "SPX": ("spx_ohlcv.csv.gz", None),
    "IXIC": ("ixic_ohlcv.csv.gz", None),
}

BUNDLED_SYMBOLS: tuple[str, ...] = tuple(_SOURCES)


def load_bundled(symbol: str) -> pd.DataFrame:
    """Bars of a bundled symbol (a fresh copy; close-only symbols have NaN open/high/low/volume)."""
    if symbol not in _SOURCES:
        raise NotFoundError(
            f"{symbol!r} is not a bundled symbol; bundled: {', '.join(BUNDLED_SYMBOLS)}"
        )
    filename, column = _SOURCES[symbol]
    table = _read(filename)
    if column is None:
        return table[list(BAR_COLUMNS)].copy()
    return _close_only(table[column])


def bundled_close(symbol: str) -> pd.Series:
    """The cached close series of a bundled symbol: a read-only view, do not mutate."""
    filename, column = _SOURCES[symbol]
    return _read(filename)[column or "close"]


@lru_cache(maxsize=8)  # four files
def _read(filename: str) -> pd.DataFrame:
    """One bundled file as float64 columns on a ``timestamp`` index (cached; never mutate)."""
    table = pd.read_csv(config.BUNDLED_MARKET_DIR / filename, index_col="date")
    table.index = pd.DatetimeIndex(
        pd.to_datetime(table.index, format="%Y-%m-%d"), name="timestamp"
    ).as_unit("us")
    return table.astype(float)


def _close_only(close: pd.Series) -> pd.DataFrame:
    nan = np.full(len(close), np.nan)
    columns = {c: nan.copy() for c in BAR_COLUMNS}
    columns["close"] = close.to_numpy(dtype=float, copy=True)
    return pd.DataFrame(columns, index=close.index.copy())
