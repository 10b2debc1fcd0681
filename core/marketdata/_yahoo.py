"""Optional real data from Yahoo Finance through ``yfinance`` (not a requirement).

Install with ``pip install yfinance`` (or ``pip install .[online]``). Nothing here
touches the network unless :meth:`YahooAdapter.fetch` is called with the default
downloader; tests pass a fake downloader.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from core.errors import NotFoundError
from core.marketdata._importer import bars_from_frame

DateLike = str | date | datetime | None
Downloader = Callable[[str, DateLike, DateLike], pd.DataFrame]
_NON_PRICE_COLUMNS = ("Dividends", "Stock Splits", "Capital Gains")


def network_available(
    host: str = "query1.finance.yahoo.com", port: int = 443, timeout: float = 1.5
) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def yfinance_history(symbol: str, start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """Daily unadjusted bars from ``yfinance.Ticker(symbol).history`` (all of it without start)."""
    try:
        yfinance = importlib.import_module("yfinance")
    except ImportError as exc:
        raise RuntimeError(
            "Fetching from Yahoo Finance needs the optional yfinance package: pip install yfinance"
        ) from exc
    span = {"start": start} if start is not None else {"period": "max"}
    return yfinance.Ticker(symbol).history(**span, end=end, interval="1d", auto_adjust=False)


class YahooAdapter:
    """Daily bars from Yahoo Finance, validated like an imported file."""

    def __init__(self, downloader: Downloader | None = None) -> None:
        self._download = downloader or yfinance_history

    def fetch(
        self,
        symbol: str,
        start: DateLike = None,
        end: DateLike = None,
        *,
        use_adjusted: bool = False,
    ) -> pd.DataFrame:
        """Bars of ``symbol``; ``LookupError`` when Yahoo returns nothing.

        Daily bars are labelled with their exchange-local trading date (tz dropped).
        ``use_adjusted`` back-adjusts OHLC with ``Adj Close`` as the importer does.
        """
        history = self._download(symbol, start, end)
        if history is None or history.empty:
            raise NotFoundError(f"no data for {symbol}", field="symbol")
        return bars_from_frame(
            normalise_history(history), source=f"Yahoo {symbol}", use_adjusted=use_adjusted
        )


def normalise_history(history: pd.DataFrame) -> pd.DataFrame:
    """``Ticker.history`` output -> a plain table with a tz-naive ``Date`` column."""
    frame = history.drop(columns=list(_NON_PRICE_COLUMNS), errors="ignore")
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)  # keep the exchange-local wall time
    return frame.set_axis(index.normalize().rename("Date")).reset_index()
