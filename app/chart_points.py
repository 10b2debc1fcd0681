"""How many points a chart draws: long price histories merged into OHLC buckets, long lines
thinned to their extremes (the browser stays fast). Plain pandas, no plotting."""

from __future__ import annotations

import numpy as np
import pandas as pd

# a price chart draws at most this many bars: a longer history is merged into OHLC buckets
# (thousands of SVG bars with weekend rangebreaks take the browser seconds to draw)
MAX_PRICE_POINTS = 1500


def downsample_bars(bars: pd.DataFrame, limit: int = MAX_PRICE_POINTS) -> pd.DataFrame:
    """At most ``limit`` bars: runs of consecutive bars merged into one (first open, highest
    high, lowest low, last close, summed volume, stamped with the run's last time)."""
    if len(bars) <= limit:
        return bars
    size = -(-len(bars) // limit)  # ceil
    groups = np.arange(len(bars)) // size
    frame = bars.reset_index()
    stamp = frame.columns[0]
    merged = frame.groupby(groups).agg(
        {
            stamp: "last",
            "open": "first",
            "high": "max",
            "low": "min",
            "close": "last",
            "volume": lambda v: v.sum(min_count=1),
        }
    )
    return merged.set_index(stamp).rename_axis(bars.index.name)


# a line chart draws at most this many points: a longer series keeps each bucket's lowest
# and highest point (its shape, peaks and troughs survive), drawn as SVG. WebGL traces were
# slower where the browser has no GPU (a software renderer makes one context per chart).
MAX_LINE_POINTS = 2000


def thin_line(series: pd.Series, limit: int = MAX_LINE_POINTS) -> pd.Series:
    """At most ``limit`` points of ``series`` (in order): the first and last, and the minimum
    and maximum of each of ``limit // 2`` equal runs of points; a short series as is."""
    n = len(series)
    if n <= limit:
        return series
    values = series.to_numpy(dtype=float)
    buckets = np.array_split(np.arange(n), max(1, (limit - 2) // 2))
    keep = {0, n - 1}
    for positions in buckets:
        chunk = values[positions]
        if np.isnan(chunk).all():
            keep.add(int(positions[0]))
            continue
        keep.add(int(positions[np.nanargmin(chunk)]))
        keep.add(int(positions[np.nanargmax(chunk)]))
    return series.iloc[sorted(keep)]
