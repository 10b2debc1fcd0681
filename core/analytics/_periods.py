"""How many bars a year a timestamp index has (daily, intraday, 7-day markets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InvalidInputError

TRADING_DAYS_PER_YEAR = 252
CALENDAR_DAYS_PER_YEAR = 365
# Bars on at least this share of the distinct dates fall on Saturdays: a 7-day market.
_SATURDAY_SHARE = 0.05


def _datetime_index(index) -> pd.DatetimeIndex:
    stamps = pd.DatetimeIndex(index)
    if len(stamps) < 2:
        raise InvalidInputError(
            f"need at least 2 timestamps to infer a frequency, got {len(stamps)}"
        )
    if not (stamps[1:] > stamps[:-1]).all():
        raise InvalidInputError("timestamps must be strictly increasing")
    return stamps


def _days_per_year(stamps: pd.DatetimeIndex) -> int:
    """365 when bars fall on Saturdays (a 7-day market such as crypto), else 252."""
    dates = stamps.normalize().unique()
    saturdays = float(np.mean(dates.day_of_week == 5))
    return CALENDAR_DAYS_PER_YEAR if saturdays >= _SATURDAY_SHARE else TRADING_DAYS_PER_YEAR


def _bars_per_day(stamps: pd.DatetimeIndex) -> int:
    """Median number of bars per calendar date (partial first/last days do not count)."""
    counts = pd.Series(1, index=stamps).groupby(stamps.normalize()).size()
    return max(1, round(float(counts.median())))


def periods_per_year_for(index) -> int:
    """Infer the number of bars per year from their timestamps.

    The rule, on the median spacing of consecutive timestamps:

    * below one day (intraday): ``days × bars per day``, where bars per day is the
      median count of bars per calendar date and days is 365 for a 7-day market
      else 252 — e.g. 1-minute stock bars (390 a session) give 252 × 390;
    * one to four days (daily bars; the weekend gap is 3 days): 365 when at least 5 %
      of the dates are Saturdays (crypto trades every day; a 7-day calendar has 1/7
      Saturdays, while FX and futures open on Sunday evening but not on Saturday),
      else 252 trading days;
    * longer (weekly, monthly, …): ``round(365.25 days / spacing)``, at least 1 —
      52 for weekly, 12 for monthly, 4 for quarterly and 1 for yearly bars.

    Parameters
    ----------
    index : DatetimeIndex or array_like of datetimes, shape (N + 1,)
        Bar timestamps, strictly increasing, at least two.

    Returns
    -------
    int
        Periods per year.
    """
    stamps = _datetime_index(index)
    step = (stamps[1:] - stamps[:-1]).median()
    if step < pd.Timedelta(days=1):
        return _days_per_year(stamps) * _bars_per_day(stamps)
    if step <= pd.Timedelta(days=4):
        return _days_per_year(stamps)
    return max(1, round(pd.Timedelta(days=365.25) / step))
