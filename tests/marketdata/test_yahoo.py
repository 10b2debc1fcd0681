"""The yfinance adapter, fed a sample in ``Ticker.history``'s shape; never the network."""

from __future__ import annotations

import csv
import socket
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.marketdata import BAR_COLUMNS, BarsValidationError, YahooAdapter, network_available

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "yahoo_msft_history.csv"


def sample_history() -> pd.DataFrame:
    """The fixture as ``Ticker.history(auto_adjust=False)`` returns it: tz-aware ``Date`` index."""
    frame = pd.read_csv(FIXTURE, index_col="Date")
    frame.index = pd.to_datetime(frame.index, utc=True).tz_convert("America/New_York")
    frame.index.name = "Date"
    return frame


def fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(newline="") as handle:
        return list(csv.DictReader(handle))


class FakeDownloader:
    def __init__(self, history: pd.DataFrame) -> None:
        self.history = history
        self.calls: list[tuple] = []

    def __call__(self, symbol, start, end):
        self.calls.append((symbol, start, end))
        return self.history.copy()


def test_sample_has_yfinance_shape():
    history = sample_history()
    assert list(history.columns) == [
        "Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits",
    ]  # fmt: skip
    assert str(history.index.tz) == "America/New_York"
    assert str(history.index[0]) == "2024-01-02 00:00:00-05:00"


def test_fetch_normalises_to_a_bars_frame():
    downloader = FakeDownloader(sample_history())
    bars = YahooAdapter(downloader).fetch("MSFT", "2024-01-02", "2024-01-17")
    assert downloader.calls == [("MSFT", "2024-01-02", "2024-01-17")]
    rows = fixture_rows()
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    assert bars.index.name == "timestamp" and bars.index.tz is None
    # daily bars keep the exchange's trading date, at midnight
    assert list(bars.index) == [pd.Timestamp(r["Date"][:10]) for r in rows]
    assert bars.index[-1] == pd.Timestamp("2024-01-16")
    for ours, theirs in zip(BAR_COLUMNS, ("Open", "High", "Low", "Close", "Volume"), strict=True):
        np.testing.assert_allclose(bars[ours], [float(r[theirs]) for r in rows])
    np.testing.assert_allclose(bars.loc["2024-01-02", "close"], 370.87)
    np.testing.assert_allclose(bars.loc["2024-01-16", "volume"], 27202300)


def test_fetch_use_adjusted_scales_by_adj_close():
    bars = YahooAdapter(FakeDownloader(sample_history())).fetch("MSFT", use_adjusted=True)
    factor = 366.35 / 370.87  # first row: Adj Close / Close
    np.testing.assert_allclose(
        bars.iloc[0, :4], [373.86 * factor, 375.90 * factor, 366.77 * factor, 366.35]
    )


def test_fetch_handles_daylight_saving_offsets():
    stamps = ["2024-03-08 00:00:00-05:00", "2024-03-11 00:00:00-04:00"]  # DST starts 03-10
    index = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True), name="Date")
    index = index.tz_convert("America/New_York")
    history = pd.DataFrame(
        {"Open": [10.0, 11.0], "High": [12.0, 12.0], "Low": [9.0, 10.0], "Close": [11.0, 11.5],
         "Volume": [100, 200], "Dividends": [0.0, 0.0], "Stock Splits": [0.0, 0.0]},
        index=index,
    )  # fmt: skip
    bars = YahooAdapter(FakeDownloader(history)).fetch("X")
    assert list(bars.index) == [pd.Timestamp("2024-03-08"), pd.Timestamp("2024-03-11")]


def test_fetch_keeps_the_local_trading_date_east_of_utc():
    stamps = ["2024-01-04 00:00:00+09:00", "2024-01-05 00:00:00+09:00"]  # Tokyo midnight
    index = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True), name="Date")
    history = pd.DataFrame(
        {"Open": [10.0, 11.0], "High": [12.0, 12.0], "Low": [9.0, 10.0], "Close": [11.0, 11.5],
         "Volume": [100, 200]},
        index=index.tz_convert("Asia/Tokyo"),
    )  # fmt: skip
    bars = YahooAdapter(FakeDownloader(history)).fetch("7203.T")
    assert list(bars.index) == [pd.Timestamp("2024-01-04"), pd.Timestamp("2024-01-05")]


def test_empty_result_is_a_lookup_error():
    empty = sample_history().iloc[0:0]
    with pytest.raises(LookupError, match="no data for NOPE"):
        YahooAdapter(FakeDownloader(empty)).fetch("NOPE")


def test_bad_rows_fail_with_the_importer_validation():
    history = sample_history()
    history.iloc[2, history.columns.get_loc("High")] = 300.0
    with pytest.raises(BarsValidationError) as caught:
        YahooAdapter(FakeDownloader(history)).fetch("MSFT")
    assert (caught.value.row, caught.value.column) == (3, "High")
    assert caught.value.rule == "high ≥ max(open, close)"
    assert str(caught.value).startswith("Yahoo MSFT row 3, column 'High': 300 is below")


def test_without_yfinance_the_default_downloader_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # makes `import yfinance` fail
    with pytest.raises(RuntimeError, match="pip install yfinance"):
        YahooAdapter().fetch("MSFT")


def test_default_downloader_calls_ticker_history(monkeypatch):
    calls = []

    class Ticker:
        def __init__(self, symbol):
            self.symbol = symbol

        def history(self, **kwargs):
            calls.append((self.symbol, kwargs))
            return sample_history()

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(Ticker=Ticker))
    bars = YahooAdapter().fetch("MSFT", "2024-01-02", "2024-01-17")
    assert len(bars) == 10
    assert calls == [
        ("MSFT", {"start": "2024-01-02", "end": "2024-01-17", "interval": "1d",
                  "auto_adjust": False}),
    ]  # fmt: skip
    YahooAdapter().fetch("MSFT")
    assert calls[-1] == (
        "MSFT", {"period": "max", "end": None, "interval": "1d", "auto_adjust": False}
    )  # fmt: skip


def test_network_available_on_loopback_only():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert network_available("127.0.0.1", port, timeout=1.0)
    assert not network_available("127.0.0.1", port, timeout=1.0)
