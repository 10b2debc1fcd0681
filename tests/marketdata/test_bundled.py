"""The bundled history: every symbol loads, and the values are the files' values."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pandas as pd
import pytest

from core import config
from core.marketdata import BAR_COLUMNS, BUNDLED_SYMBOLS, has_ohlc, load_bundled

STOCKS = (
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO",
    "LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
)  # fmt: skip


def raw_rows(filename: str) -> list[dict[str, str]]:
    """The file read with the standard library only, independently of the loader."""
    with gzip.open(config.BUNDLED_MARKET_DIR / filename, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def test_symbol_list_is_the_twenty_stocks_then_the_indices_then_the_synthetic_fx():
    expected = (*STOCKS, "SP500", "SPX", "IXIC", "EURUSD", "USDJPY", "GBPUSD", "EURGBP")
    assert expected == BUNDLED_SYMBOLS


@pytest.mark.parametrize("symbol", BUNDLED_SYMBOLS)
def test_every_symbol_loads_as_a_bars_frame(symbol):
    bars = load_bundled(symbol)
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    assert isinstance(bars.index, pd.DatetimeIndex)
    assert bars.index.name == "timestamp"
    assert bars.index.tz is None
    assert bars.index.is_monotonic_increasing and bars.index.is_unique
    assert np.isfinite(bars["close"]).all() and (bars["close"] > 0).all()


@pytest.mark.parametrize("symbol", [*STOCKS, "SP500"])
def test_close_series_span_1990_to_2022_and_have_no_ohlc(symbol):
    bars = load_bundled(symbol)
    assert len(bars) == 8313
    assert bars.index[0] == pd.Timestamp("1990-01-02")
    assert bars.index[-1] == pd.Timestamp("2022-12-28")
    assert bars[["open", "high", "low", "volume"]].isna().all(axis=None)
    assert not has_ohlc(bars)


@pytest.mark.parametrize("symbol", ["SPX", "IXIC"])
def test_index_ohlcv_spans_1999_to_2018_and_is_consistent(symbol):
    bars = load_bundled(symbol)
    assert len(bars) == 5031
    assert bars.index[0] == pd.Timestamp("1999-01-04")
    assert bars.index[-1] == pd.Timestamp("2018-12-31")
    assert has_ohlc(bars)
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] >= 0).all()


def test_stock_closes_match_the_raw_file():
    rows = raw_rows("sp500_stocks_close.csv.gz")
    for position in (0, 4321, len(rows) - 1):
        row = rows[position]
        for symbol in ("MSFT", "JNJ", "XOM"):
            bars = load_bundled(symbol)
            assert bars.index[position] == pd.Timestamp(row["date"])
            np.testing.assert_allclose(bars["close"].iloc[position], float(row[symbol]))


def test_a_few_known_values():
    np.testing.assert_allclose(load_bundled("AAPL").loc["1990-01-02", "close"], 0.264)
    np.testing.assert_allclose(load_bundled("MSFT").loc["1990-01-03", "close"], 0.386)
    np.testing.assert_allclose(load_bundled("SP500").loc["1990-01-02", "close"], 359.69)
    spx = load_bundled("SPX").loc["1999-01-04"]
    np.testing.assert_allclose(
        spx.to_numpy(), [1229.22998, 1248.810059, 1219.099976, 1228.099976, 877000000.0]
    )


@pytest.mark.parametrize(
    ("symbol", "filename"), [("SPX", "spx_ohlcv.csv.gz"), ("IXIC", "ixic_ohlcv.csv.gz")]
)
def test_ohlcv_matches_the_raw_file(symbol, filename):
    rows = raw_rows(filename)
    bars = load_bundled(symbol)
    for position in (0, 2500, len(rows) - 1):
        row = rows[position]
        assert bars.index[position] == pd.Timestamp(row["date"])
        expected = [float(row[c]) for c in BAR_COLUMNS]
        np.testing.assert_allclose(bars.iloc[position].to_numpy(), expected)


def test_sp500_close_matches_the_raw_file_everywhere():
    rows = raw_rows("sp500_index_close.csv.gz")
    closes = load_bundled("SP500")["close"].to_numpy()
    np.testing.assert_allclose(closes, [float(r["SP500"]) for r in rows])


def test_callers_get_a_copy_they_may_mutate():
    first = load_bundled("SPX")
    first.iloc[0, :] = -1.0
    first["close"] *= 2
    again = load_bundled("SPX")
    np.testing.assert_allclose(again["close"].iloc[0], 1228.099976)
    stock = load_bundled("KO")
    stock.loc[stock.index[0], "close"] = 0.0
    assert load_bundled("KO")["close"].iloc[0] == pytest.approx(2.235)


def test_unknown_symbol_is_a_clear_key_error():
    with pytest.raises(KeyError, match=r"'TSLA' is not a bundled symbol.*AAPL"):
        load_bundled("TSLA")
