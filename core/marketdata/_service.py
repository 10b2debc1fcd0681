"""One door to market data.

Bundled files, imported bars in the database and, when the user allows it and the network is up, the
optional yfinance adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import BarRow, InstrumentRow
from core.errors import ConflictError, InvalidInputError, NotFoundError, WorkstationError
from core.instruments import AssetClass, Instrument, default_instrument
from core.instruments import repository as instruments
from core.marketdata._bundled import (
    BUNDLED_SYMBOLS,
    SYNTHETIC_SYMBOLS,
    bundled_close,
    load_bundled,
)
from core.marketdata._frames import BAR_COLUMNS, has_ohlc
from core.marketdata._importer import check_bar_range, read_bars_file
from core.marketdata._yahoo import YahooAdapter, network_available


class MarketDataError(WorkstationError, ValueError):
    """A market-data request that cannot be served (unknown symbol, name clash, ...).

    The room's umbrella (catch it): raise sites raise one of its kinds below.
    """


class MarketDataInputError(MarketDataError, InvalidInputError):
    """Bars that cannot be imported as given (none at all, an adapter's refusal)."""


class MarketDataNotFound(MarketDataError, NotFoundError):
    """A symbol with no stored bars that cannot be fetched either."""


class MarketDataConflict(MarketDataError, ConflictError):
    """An import that would overwrite bundled history or stored bars."""


@dataclass(frozen=True)
class ImportReport:
    symbol: str
    rows: int
    start: datetime
    end: datetime
    has_ohlc: bool
    replaced: bool


class MarketDataService:
    """Read and import bars; every loader returns a bars frame (see ``_frames``)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        allow_network: bool = False,
        adapter: YahooAdapter | None = None,
    ):
        self._sessions = sessions
        self._allow_network = allow_network
        self._adapter = adapter

    # -- catalogue -------------------------------------------------------------------
    def symbols(self) -> pd.DataFrame:
        """One row per symbol: source, asset class, first and last bar, bar count, synthetic.

        ``synthetic`` marks the generated FX pairs bundled for the currency tools: not market
        data (data/README.md).
        """
        rows = [_summary(s, load_bundled(s), "bundled") for s in BUNDLED_SYMBOLS]
        rows += self._stored_summaries()
        frame = pd.DataFrame(rows)
        defined = {i.symbol: i for i in self.instruments()}
        frame["name"] = [defined[s].name if s in defined else "" for s in frame["symbol"]]
        frame["asset_class"] = [
            str(defined[s].asset_class) if s in defined else "" for s in frame["symbol"]
        ]
        return frame

    def has_symbol(self, symbol: str) -> bool:
        return symbol in BUNDLED_SYMBOLS or self._stored_count(symbol) > 0

    def instruments(self) -> list[Instrument]:
        with self._sessions() as session:
            return instruments.list_all(session)

    def instrument(self, symbol: str) -> Instrument | None:
        with self._sessions() as session:
            return instruments.get(session, symbol)

    # -- bars ---------------------------------------------------------------------------
    def bars(self, symbol: str, start=None, end=None) -> pd.DataFrame:
        """Bars of ``symbol`` between ``start`` and ``end`` (inclusive)."""
        if symbol in BUNDLED_SYMBOLS:
            frame = load_bundled(symbol)
        elif self._stored_count(symbol):
            frame = self._stored_bars(symbol)
        else:
            frame = self._fetch(symbol)
        return frame.loc[_ts(start) : _ts(end)]

    def closes(
        self, symbols: list[str], start=None, end=None, *, past_last: bool = True
    ) -> pd.DataFrame:
        """Closes of several symbols on the union of their dates, forward-filled.

        ``past_last=False`` fills only inside each symbol's own history: after its last bar it
        is NaN, not its last close repeated (flat prices would read as zero returns).
        """
        columns = {s: self.bars(s, start, end)["close"] for s in symbols}
        frame = pd.DataFrame(columns).sort_index()
        return frame.ffill() if past_last else frame.ffill(limit_area="inside")

    def last_price(self, symbol: str, as_of=None) -> float | None:
        """The last close at or before ``as_of`` (the last one known when None).

        A daily bar is stamped with its date and counts as known on that date.
        """
        if symbol in BUNDLED_SYMBOLS:
            closes = bundled_close(symbol)
            end = len(closes) if as_of is None else closes.index.searchsorted(_ts(as_of), "right")
            return float(closes.iloc[end - 1]) if end else None
        query = (
            select(BarRow.close)
            .join(InstrumentRow)
            .where(InstrumentRow.symbol == symbol)
            .order_by(BarRow.ts.desc())
            .limit(1)
        )
        if as_of is not None:
            query = query.where(BarRow.ts <= _ts(as_of).to_pydatetime())
        with self._sessions() as session:
            return session.scalar(query)

    def last_prices(self, symbols, as_of=None) -> dict[str, float]:
        prices = {s: self.last_price(s, as_of) for s in symbols}
        return {s: p for s, p in prices.items() if p is not None}

    # -- import -------------------------------------------------------------------------
    def import_file(
        self,
        source: str | bytes | IO[bytes],
        symbol: str,
        *,
        filename: str | None = None,
        asset_class: AssetClass | str = AssetClass.STOCK,
        use_adjusted: bool = False,
        replace: bool = False,
    ) -> ImportReport:
        """Validate a CSV/Parquet file and store it; nothing is written if it is broken."""
        bars = read_bars_file(source, filename=filename, use_adjusted=use_adjusted)
        return self.import_bars(symbol, bars, asset_class=asset_class, replace=replace)

    def import_bars(
        self,
        symbol: str,
        bars: pd.DataFrame,
        *,
        asset_class: AssetClass | str = AssetClass.STOCK,
        replace: bool = False,
        source: str = "user",
    ) -> ImportReport:
        symbol = symbol.strip().upper()
        instrument = default_instrument(symbol, AssetClass(asset_class))
        if symbol in BUNDLED_SYMBOLS:
            raise MarketDataConflict(f"{symbol} is bundled history; import under another symbol")
        if bars.empty:
            raise MarketDataInputError(f"{symbol}: no bars to import")
        check_bar_range(pd.DatetimeIndex(bars.index))
        with self._sessions.begin() as session:
            row = instruments.ensure(session, instrument, source)
            replaced = self._clear_bars(session, row, symbol, replace)
            session.execute(insert(BarRow.__table__), _bar_records(row.id, bars))
        return ImportReport(
            symbol, len(bars), bars.index[0], bars.index[-1], has_ohlc(bars), replaced
        )

    # -- internals ----------------------------------------------------------------------
    def _clear_bars(self, session: Session, row: InstrumentRow, symbol: str, replace: bool):
        count = session.scalar(select(func.count()).where(BarRow.instrument_id == row.id))
        if count and not replace:
            raise MarketDataConflict(
                f"{symbol} already has {count} bars; import with replace to overwrite them"
            )
        if count:
            session.execute(delete(BarRow).where(BarRow.instrument_id == row.id))
        return bool(count)

    def _stored_count(self, symbol: str) -> int:
        query = (
            select(func.count())
            .select_from(BarRow)
            .join(InstrumentRow)
            .where(InstrumentRow.symbol == symbol)
        )
        with self._sessions() as session:
            return session.scalar(query) or 0

    def _stored_bars(self, symbol: str) -> pd.DataFrame:
        columns = [BarRow.ts, *(getattr(BarRow, c) for c in BAR_COLUMNS)]
        query = (
            select(*columns).join(InstrumentRow).where(InstrumentRow.symbol == symbol)
        ).order_by(BarRow.ts)
        with self._sessions() as session:
            rows = session.execute(query).all()
        frame = pd.DataFrame(rows, columns=["timestamp", *BAR_COLUMNS])
        frame = frame.set_index(pd.DatetimeIndex(frame.pop("timestamp"), name="timestamp"))
        return frame.astype("float64")

    def _stored_summaries(self) -> list[dict]:
        query = (
            select(
                InstrumentRow.symbol,
                func.min(BarRow.ts),
                func.max(BarRow.ts),
                func.count(),
                func.count(BarRow.open),
                InstrumentRow.source,
            )
            .join(BarRow)
            .group_by(InstrumentRow.id)
            .order_by(InstrumentRow.symbol)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        return [
            {
                "symbol": s,
                "source": src,
                "start": lo,
                "end": hi,
                "bars": n,
                "ohlc": n_open == n,
                "synthetic": False,
            }
            for s, lo, hi, n, n_open, src in rows
        ]

    def _fetch(self, symbol: str) -> pd.DataFrame:
        if not self._allow_network:
            raise MarketDataNotFound(
                f"unknown symbol {symbol!r}: import a file for it, or enable the online "
                "adapter (WORKSTATION_ALLOW_NETWORK=1) to fetch it from Yahoo Finance"
            )
        if not network_available():
            raise MarketDataNotFound(f"unknown symbol {symbol!r} and the network is unreachable")
        try:
            bars = (self._adapter or YahooAdapter()).fetch(symbol)
        except LookupError as exc:
            raise MarketDataNotFound(str(exc)) from exc
        except RuntimeError as exc:
            raise MarketDataInputError(str(exc)) from exc
        self.import_bars(symbol, bars, source="yahoo")
        return bars


def _summary(symbol: str, bars: pd.DataFrame, source: str) -> dict:
    return {
        "symbol": symbol,
        "source": source,
        "start": bars.index[0].to_pydatetime(),
        "end": bars.index[-1].to_pydatetime(),
        "bars": len(bars),
        "ohlc": has_ohlc(bars),
        "synthetic": source == "bundled" and symbol in SYNTHETIC_SYMBOLS,
    }


def _ts(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def _bar_records(instrument_id: int, bars: pd.DataFrame) -> list[dict]:
    values = bars[list(BAR_COLUMNS)].to_numpy(dtype=float)
    as_objects = np.where(np.isnan(values), None, values).tolist()
    stamps = bars.index.to_pydatetime()
    return [
        {"instrument_id": instrument_id, "ts": ts, **dict(zip(BAR_COLUMNS, row, strict=True))}
        for ts, row in zip(stamps, as_objects, strict=True)
    ]
