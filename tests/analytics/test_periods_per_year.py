"""``periods_per_year_for``: how many bars a year an index holds (daily, weekly, intraday,
crypto around the clock), and the timestamps it refuses."""

from __future__ import annotations

import pandas as pd
import pytest

from core.analytics import periods_per_year_for


def _intraday(days: pd.DatetimeIndex, start: str, bars: int, step: str) -> pd.DatetimeIndex:
    offsets = pd.Timedelta(start) + pd.timedelta_range(0, periods=bars, freq=step)
    return pd.DatetimeIndex([day + offset for day in days for offset in offsets])


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.bdate_range("2024-01-01", periods=300), 252),
        (pd.date_range("2024-01-01", periods=300), 365),
        (pd.date_range("2024-01-03", periods=10), 365),
        (pd.date_range("2020-01-03", periods=60, freq="W-FRI"), 52),
        (pd.date_range("2020-01-31", periods=36, freq="ME"), 12),
        (pd.bdate_range("2020-01-31", periods=36, freq="BME"), 12),
        (pd.date_range("2020-03-31", periods=12, freq="QE"), 4),
        (pd.date_range("2010-12-31", periods=10, freq="YE"), 1),
        (pd.date_range("2024-01-01", periods=24 * 30, freq="h"), 365 * 24),
        (_intraday(pd.bdate_range("2024-01-01", periods=10), "9h30min", 390, "min"), 252 * 390),
        (_intraday(pd.bdate_range("2024-01-01", periods=10), "9h30min", 7, "h"), 252 * 7),
        (_intraday(pd.bdate_range("2024-01-01", periods=10), "9h30min", 78, "5min"), 252 * 78),
    ],
    ids=[
        "weekdays",
        "calendar-days",
        "short-calendar",
        "weekly",
        "monthly",
        "business-month-end",
        "quarterly",
        "yearly",
        "hourly-crypto",
        "minute-stocks",
        "hourly-stocks",
        "5-minute-stocks",
    ],
)
def test_periods_per_year_for(index, expected):
    assert periods_per_year_for(index) == expected


def test_a_stray_saturday_does_not_make_a_seven_day_market():
    days = pd.bdate_range("2024-01-01", periods=250).append(pd.DatetimeIndex(["2024-12-28"]))
    assert periods_per_year_for(days.sort_values()) == 252


def test_sunday_evening_opens_are_not_a_seven_day_market():
    # FX: Sunday 22:00 UTC to Friday 22:00 UTC, hourly bars
    hours = pd.date_range("2024-01-07 22:00", "2024-03-29 21:00", freq="h")
    fx = hours[~((hours.day_of_week == 5) | ((hours.day_of_week == 4) & (hours.hour >= 22)))]
    fx = fx[~((fx.day_of_week == 6) & (fx.hour < 22))]
    assert periods_per_year_for(fx) == 252 * 24


def test_periods_per_year_for_accepts_series_and_time_zones():
    stamps = pd.Series(pd.bdate_range("2024-01-01", periods=30, tz="America/New_York"))
    assert periods_per_year_for(stamps) == 252
    assert periods_per_year_for(list(pd.date_range("2024-01-01", periods=30))) == 365


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (pd.DatetimeIndex(["2024-01-01"]), "at least 2"),
        (pd.DatetimeIndex(["2024-01-02", "2024-01-01"]), "strictly increasing"),
        (pd.DatetimeIndex(["2024-01-01", "2024-01-01"]), "strictly increasing"),
    ],
)
def test_periods_per_year_for_refuses_bad_timestamps(index, message):
    with pytest.raises(ValueError, match=message):
        periods_per_year_for(index)
