"""Importing user price files: accepted layouts, and one test per validation rule."""

from __future__ import annotations

import gzip
import io
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.marketdata import BAR_COLUMNS, BarsValidationError, read_bars_file
from core.marketdata._importer import bars_from_frame

YAHOO = """\
Date,Open,High,Low,Close,Adj Close,Volume
2020-01-27,100.0,102.0,99.0,101.0,50.5,1000
2020-01-28,101.0,103.0,100.0,102.0,51.0,2000
2020-01-29,102.0,104.5,101.5,104.0,52.0,3000
"""


def load(text: str, filename: str = "prices.csv", **kwargs) -> pd.DataFrame:
    return read_bars_file(text.encode(), filename=filename, **kwargs)


def failure(text: str, filename: str = "prices.csv", **kwargs) -> BarsValidationError:
    with pytest.raises(BarsValidationError) as caught:
        load(text, filename, **kwargs)
    return caught.value


def replace_line(text: str, line: int, new: str) -> str:
    """``text`` with its 1-based ``line`` replaced (the header is line 1)."""
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def assert_bars_frame(bars: pd.DataFrame) -> None:
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    assert bars.index.name == "timestamp" and bars.index.tz is None
    assert bars.index.is_monotonic_increasing and bars.index.is_unique


# --- accepted layouts ------------------------------------------------------------------------


def test_yahoo_export_with_iso_dates_loads_and_ignores_adj_close():
    bars = load(YAHOO)
    assert_bars_frame(bars)
    assert list(bars.index) == [pd.Timestamp(f"2020-01-{d}") for d in (27, 28, 29)]
    np.testing.assert_allclose(bars["open"], [100.0, 101.0, 102.0])
    np.testing.assert_allclose(bars["high"], [102.0, 103.0, 104.5])
    np.testing.assert_allclose(bars["low"], [99.0, 100.0, 101.5])
    np.testing.assert_allclose(bars["close"], [101.0, 102.0, 104.0])
    np.testing.assert_allclose(bars["volume"], [1000, 2000, 3000])


def test_yahoo_export_with_us_dates_loads():
    text = YAHOO.replace("2020-01-27", "1/27/2020").replace("2020-01-28", "01/28/2020")
    text = text.replace("2020-01-29", "1/29/2020")
    bars = load(text)
    assert list(bars.index) == [pd.Timestamp(f"2020-01-{d}") for d in (27, 28, 29)]
    np.testing.assert_allclose(bars["close"], [101.0, 102.0, 104.0])


def test_iso_dates_with_a_time_part_load():
    text = "timestamp,close\n2020-01-31 09:30:00,10\n2020-01-31T09:31,11\n"
    bars = load(text)
    assert list(bars.index) == [pd.Timestamp("2020-01-31 09:30"), pd.Timestamp("2020-01-31 09:31")]


def test_timezone_aware_timestamps_become_naive_utc():
    text = "datetime,close\n2020-01-31T10:00:00+02:00,10\n2020-07-01 10:00:00-04:00,11\n"
    bars = load(text)
    assert list(bars.index) == [pd.Timestamp("2020-01-31 08:00"), pd.Timestamp("2020-07-01 14:00")]
    assert bars.index.tz is None


@pytest.mark.parametrize(
    "header", ["date,close", "Date,Price", "timestamp,Adj Close", "TIME,CLOSE"]
)
def test_close_only_series(header):
    bars = load(f"{header}\n2021-03-01,10.5\n2021-03-02,11.25\n")
    assert_bars_frame(bars)
    np.testing.assert_allclose(bars["close"], [10.5, 11.25])
    assert bars[["open", "high", "low", "volume"]].isna().all(axis=None)


def test_ohlc_without_volume_column_has_nan_volume():
    bars = load("date,open,high,low,close\n2021-03-01,10,11,9,10.5\n")
    np.testing.assert_allclose(bars.iloc[0, :4], [10, 11, 9, 10.5])
    assert np.isnan(bars["volume"].iloc[0])


def test_use_adjusted_back_adjusts_by_hand():
    bars = load(YAHOO, use_adjusted=True)
    # row 1: factor 50.5 / 101 = 0.5; row 3: factor 52 / 104 = 0.5 as well; row 2: 51/102.
    np.testing.assert_allclose(bars.iloc[0, :4], [50.0, 51.0, 49.5, 50.5])
    np.testing.assert_allclose(bars.iloc[1, :4], [50.5, 51.5, 50.0, 51.0])
    np.testing.assert_allclose(bars["volume"], [1000, 2000, 3000])


def test_use_adjusted_with_an_uneven_factor():
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,40,44,38,42,35,10\n"
    bars = load(text, use_adjusted=True)
    factor = 35 / 42
    np.testing.assert_allclose(
        bars.iloc[0, :4], [40 * factor, 44 * factor, 38 * factor, 35.0], rtol=1e-12
    )


def test_use_adjusted_without_adj_close_changes_nothing():
    text = "date,open,high,low,close\n2021-03-01,10,11,9,10.5\n"
    np.testing.assert_allclose(load(text, use_adjusted=True).iloc[0, :4], [10, 11, 9, 10.5])


def test_semicolon_separated_txt_and_utf8_bom():
    bars = read_bars_file("\ufeffDate;Close\n2021-03-01;7\n".encode(), filename="x.txt")
    np.testing.assert_allclose(bars["close"], [7.0])


def test_path_str_and_gzip(tmp_path):
    plain = tmp_path / "prices.csv"
    plain.write_text(YAHOO)
    packed = tmp_path / "prices.csv.gz"
    packed.write_bytes(gzip.compress(YAHOO.encode()))
    for source in (plain, str(plain), packed, str(packed)):
        np.testing.assert_allclose(read_bars_file(source)["close"], [101.0, 102.0, 104.0])


class FakeUpload(io.BytesIO):
    """What Streamlit's UploadedFile offers: a binary file-like with a ``name``."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def test_bytes_and_file_like_input():
    upload = FakeUpload(YAHOO.encode(), "upload.csv")
    upload.read()  # already consumed once: the reader rewinds
    from_upload = read_bars_file(upload)
    from_bytes = read_bars_file(YAHOO.encode(), filename="upload.csv")
    pd.testing.assert_frame_equal(from_upload, from_bytes)
    np.testing.assert_allclose(from_bytes["close"], [101.0, 102.0, 104.0])


def test_parquet_round_trip(tmp_path):
    original = load(YAHOO)
    for name in ("bars.parquet", "bars.pq"):
        original.to_parquet(tmp_path / name)
        pd.testing.assert_frame_equal(read_bars_file(tmp_path / name), original)
    data = (tmp_path / "bars.pq").read_bytes()
    pd.testing.assert_frame_equal(read_bars_file(data, filename="b.parquet"), original)


def test_parquet_with_a_plain_timestamp_column(tmp_path):
    table = pd.DataFrame(
        {"Date": pd.to_datetime(["2021-01-04", "2021-01-05"]).tz_localize("Europe/Berlin"),
         "Close": [1.0, 2.0]}
    )  # fmt: skip
    table.to_parquet(tmp_path / "t.parquet", index=False)
    bars = read_bars_file(tmp_path / "t.parquet")
    assert list(bars.index) == [pd.Timestamp("2021-01-03 23:00"), pd.Timestamp("2021-01-04 23:00")]


# --- validation rules ------------------------------------------------------------------------


def test_unknown_extension():
    error = failure(YAHOO, filename="prices.xlsx")
    assert error.rule == "file type .csv, .txt, .parquet or .pq"
    assert error.row is None and error.column is None
    assert "prices.xlsx" in str(error)


def test_no_file_name_for_bytes():
    with pytest.raises(BarsValidationError) as caught:
        read_bars_file(YAHOO.encode())
    assert caught.value.rule == "file type .csv, .txt, .parquet or .pq"


def test_unreadable_files(tmp_path):
    broken_gzip = failure("not gzip at all", filename="p.csv.gz")
    assert broken_gzip.rule == "file must be readable" and broken_gzip.row is None
    broken_parquet = failure("not parquet", filename="p.parquet")
    assert broken_parquet.rule == "file must be readable"
    with pytest.raises(BarsValidationError) as caught:
        read_bars_file(tmp_path / "missing.csv")
    assert caught.value.rule == "file must be readable"
    assert str(caught.value).startswith("missing.csv: ")


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("date,close\n2020-01-01,1,9\n2020-01-02,2,9\n", 2, 3),
        ("date,close\n2020-01-01,1,9\n", 2, 3),
        ("date,close\n2020-01-01,1\n2020-01-02,2,9,9\n", 3, 4),  # the C parser's error
        ('date,close\n\n2020-01-01,"1\n"\n2020-01-02,2,9\n', 5, 3),  # blank + quoted break
    ],
)
def test_a_line_with_more_fields_than_the_header_is_named(text, line, fields):
    error = failure(text, filename="p.csv")
    assert error.rule == "no line has more fields than the header"
    assert error.row == line
    assert str(error).startswith(f"p.csv line {line}: {fields} fields, the header has 2")


@pytest.mark.parametrize("text", ["", "\n\n", "Date,Close\n"])
def test_empty_file(text):
    error = failure(text)
    assert error.rule == "file must contain at least one row of data"
    assert error.row is None


def test_missing_timestamp_column_lists_the_columns():
    error = failure("When,Close\n2020-01-01,1\n")
    assert error.rule == "a timestamp column is required"
    assert "['When', 'Close']" in str(error)


def test_missing_close_column_lists_the_columns():
    error = failure("Date,Open,High,Low,Volume\n2020-01-01,1,2,1,5\n")
    assert error.rule == "a close column is required"
    assert "['Date', 'Open', 'High', 'Low', 'Volume']" in str(error)


def test_open_high_low_come_together():
    error = failure("Date,Open,Close\n2020-01-01,1,1\n")
    assert error.rule == "open, high and low come together"
    assert "missing high, low" in str(error)


def test_unparseable_timestamp():
    error = failure(replace_line(YAHOO, 3, "2020-31-01,101,103,100,102,51,2000"))
    assert (error.row, error.column, error.rule) == (3, "Date", "timestamps must be dates")
    assert "'2020-31-01' is not a date" in str(error)


def test_empty_timestamp():
    error = failure(replace_line(YAHOO, 4, ",102,104.5,101.5,104,52,3000"))
    assert (error.row, error.column, error.rule) == (4, "Date", "timestamps must be dates")


def test_decreasing_timestamps():
    error = failure(replace_line(YAHOO, 4, "2020-01-26,102,104.5,101.5,104,52,3000"))
    assert (error.row, error.column) == (4, "Date")
    assert error.rule == "timestamps strictly increasing"
    assert "2020-01-26 comes after 2020-01-28 (line 3)" in str(error)


def test_duplicate_timestamp_is_reported_as_duplicate():
    error = failure(replace_line(YAHOO, 4, "2020-01-28,102,104.5,101.5,104,52,3000"))
    assert (error.row, error.column, error.rule) == (4, "Date", "timestamps unique")
    assert "2020-01-28 repeats line 3" in str(error)


def test_non_numeric_value():
    error = failure(replace_line(YAHOO, 3, "2020-01-28,101,abc,100,102,51,2000"))
    assert (error.row, error.column, error.rule) == (3, "High", "values numeric")
    assert "'abc' is not a number" in str(error)


def test_empty_price():
    error = failure(replace_line(YAHOO, 4, "2020-01-29,102,104.5,101.5,,52,3000"))
    assert (error.row, error.column, error.rule) == (4, "Close", "prices present and finite")


def test_infinite_price():
    error = failure(replace_line(YAHOO, 2, "2020-01-27,inf,102,99,101,50.5,1000"))
    assert (error.row, error.column, error.rule) == (2, "Open", "prices present and finite")


@pytest.mark.parametrize("low", ["0", "-1.5"])
def test_price_not_positive(low):
    error = failure(replace_line(YAHOO, 3, f"2020-01-28,101,103,{low},102,51,2000"))
    assert (error.row, error.column, error.rule) == (3, "Low", "prices > 0")


def test_high_below_max_open_close_message():
    lines = ["Date,Open,High,Low,Close,Volume"]
    lines += [f"2021-02-0{d},100,102,99,101,10" for d in range(1, 6)]
    lines += ["2021-02-08,101.2,99.5,98,99,10", "2021-02-09,100,102,99,101,10"]
    error = failure("\n".join(lines) + "\n")
    assert (error.row, error.column, error.rule) == (7, "High", "high ≥ max(open, close)")
    assert str(error) == (
        "prices.csv line 7, column 'High': 99.5 is below max(open, close) = 101.2 "
        "(rule: high ≥ max(open, close))"
    )


def test_low_above_min_open_close():
    error = failure(replace_line(YAHOO, 3, "2020-01-28,101,103,101.5,102,51,2000"))
    assert (error.row, error.column, error.rule) == (3, "Low", "low ≤ min(open, close)")
    assert "101.5 is above min(open, close) = 101" in str(error)


@pytest.mark.parametrize("volume", ["-5", "inf", ""])
def test_volume_negative_infinite_or_missing(volume):
    error = failure(replace_line(YAHOO, 4, f"2020-01-29,102,104.5,101.5,104,52,{volume}"))
    assert (error.row, error.column, error.rule) == (4, "Volume", "volume ≥ 0 and finite")


def test_blank_lines_still_count_as_lines():
    text = "date,close\n2020-01-01,1\n\n2020-01-03,-2\n"
    error = failure(text)
    assert (error.row, error.column, error.rule) == (4, "close", "prices > 0")


def test_frames_report_one_based_data_rows():
    table = pd.DataFrame(
        {"Date": ["2020-01-01", "2020-01-02"], "Open": [1.0, 1.0], "High": [2.0, 0.5],
         "Low": [0.5, 0.4], "Close": [1.5, 0.9]}
    )  # fmt: skip
    with pytest.raises(BarsValidationError) as caught:
        bars_from_frame(table, source="mine")
    assert (caught.value.row, caught.value.column) == (2, "High")
    assert str(caught.value).startswith("mine row 2, column 'High': 0.5 is below")


def test_parquet_errors_report_data_rows(tmp_path):
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02", "2020-01-03"], "close": [1, 2, 0]})
    table.to_parquet(tmp_path / "p.parquet", index=False)
    with pytest.raises(BarsValidationError) as caught:
        read_bars_file(tmp_path / "p.parquet")
    assert (caught.value.row, caught.value.column, caught.value.rule) == (3, "close", "prices > 0")
    assert str(caught.value).startswith("p.parquet row 3, column 'close'")


def test_error_is_a_value_error():
    assert issubclass(BarsValidationError, ValueError)


# --- property: any valid table survives CSV text ---------------------------------------------

prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(prices, prices, prices, prices, st.integers(0, 10**12)), min_size=1,
                max_size=30))  # fmt: skip
def test_any_valid_table_round_trips_through_csv(rows):
    opens, a, b, closes, volumes = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    highs = np.maximum.reduce([opens, a, b, closes])
    lows = np.minimum.reduce([opens, a, b, closes])
    dates = pd.date_range("2000-01-03", periods=len(rows), freq="D")
    table = pd.DataFrame(
        {"Date": dates.strftime("%Y-%m-%d"), "Open": opens, "High": highs, "Low": lows,
         "Close": closes, "Volume": volumes}
    )  # fmt: skip
    bars = load(table.to_csv(index=False))
    assert list(bars.index) == list(dates)
    np.testing.assert_allclose(bars.to_numpy(), table.iloc[:, 1:].to_numpy(), rtol=1e-15)


# -- plausible dates (issue 10) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "shown"),
    [
        ("Date,Close\n0001-01-01,5\n2020-01-02,6\n", 2, "0001-01-01 is before 1800-01-01"),
        ("Date,Close\n2020-01-02,6\n1799-12-31,5\n", 3, "1799-12-31 is before 1800-01-01"),
        ("Date,Close\n2026-12-01,6\n2026-12-05,7\n", 3, "2026-12-05 is in the future"),
        ("Date,Close\n9999-12-31,5\n", 2, "9999-12-31 is in the future"),
    ],
)
def test_bars_outside_the_plausible_range_are_refused(text, line, shown):
    now = datetime(2026, 12, 2, 12, 0)  # a bar up to two days ahead (timezones) is fine
    error = failure(text, now=now)
    assert error.rule == "timestamps from 1800-01-01 to now"
    assert error.row == line and shown in str(error)


def test_bars_two_days_ahead_of_the_clock_are_accepted():
    now = datetime(2026, 12, 2, 12, 0)
    bars = load("Date,Close\n1800-01-01,5\n2026-12-04,6\n", "p.csv", now=now)
    assert list(bars.index) == [pd.Timestamp("1800-01-01"), pd.Timestamp("2026-12-04")]


def test_import_bars_refuses_a_frame_of_year_one_and_writes_nothing(ws, table_counts):
    frame = pd.DataFrame(
        {c: [1.0] for c in BAR_COLUMNS},
        index=pd.DatetimeIndex(np.array(["0001-01-01"], dtype="datetime64[s]"), name="timestamp"),
    )
    before = table_counts(ws)
    with pytest.raises(BarsValidationError) as caught:
        ws.market.import_bars("OLD", frame)
    assert "0001-01-01 is before 1800-01-01" in str(caught.value)
    assert table_counts(ws) == before


def test_import_file_of_year_one_is_a_clear_error_not_an_overflow(ws, table_counts):
    before = table_counts(ws)
    with pytest.raises(BarsValidationError) as caught:
        ws.market.import_file(b"Date,Close\n0001-01-01,5\n", "OLD", filename="old.csv")
    assert str(caught.value).startswith("old.csv line 2, column 'Date': 0001-01-01 is before")
    assert table_counts(ws) == before


def test_a_year_before_one_out_of_order_is_named_not_a_traceback():
    """Found by the fuzzer: year -1 also broke the order rule, whose message used strftime."""
    text = "Date,Close\n2021-03-01,10\n-1,11\n2021-03-03,12\n"
    error = failure(text)
    assert [(p.rule, p.row) for p in error.problems] == [
        ("timestamps from 1800-01-01 to now", 3),
        ("timestamps strictly increasing", 3),
    ]
    assert "-001-01-01 comes after 2021-03-01 (line 2)" in str(error)


def test_a_file_with_three_defects_reports_all_three():
    """The import stopped at the first broken rule; every row problem is listed now."""
    text = (
        "Date,Open,High,Low,Close,Volume\n"
        "2020-01-02,10,11,9,10.5,100\n"
        "2020-01-03,10,11,9,abc,100\n"  # line 3: close is no number
        "2020-01-06,10,11,9,10.5,-5\n"  # line 4: negative volume
        "2020-01-07,10,9.5,9,10.5,100\n"  # line 5: high 9.5 below max(10, 10.5)
    )
    error = failure(text)
    assert [(p.rule, p.row, p.column) for p in error.problems] == [
        ("values numeric", 3, "Close"),
        ("high ≥ max(open, close)", 5, "High"),
        ("volume ≥ 0 and finite", 4, "Volume"),
    ]
    assert error.rule == "values numeric" and error.row == 3  # the first, as before
    assert str(error) == (
        "prices.csv: line 3, column 'Close': 'abc' is not a number (rule: values numeric); "
        "line 5, column 'High': 9.5 is below max(open, close) = 10.5 "
        "(rule: high ≥ max(open, close)); "
        "line 4, column 'Volume': -5 is not a finite number ≥ 0 (rule: volume ≥ 0 and finite)"
    )


def test_many_defects_are_listed_up_to_the_limit_then_counted():
    from core.errors import MAX_LISTED

    lines = [f"2020-01-{d:02d},x{d}" for d in range(1, 16)]  # 15 closes that are no number
    error = failure("Date,Close\n" + "\n".join(lines) + "\n")
    assert len(error.problems) == MAX_LISTED == 10
    assert [p.row for p in error.problems] == list(range(2, 12))
    assert str(error).endswith("(and 5 more)")
