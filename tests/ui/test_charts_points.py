"""A long price history is drawn with a bounded number of points (the browser stays fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.charts import (
    MAX_LINE_POINTS,
    MAX_PRICE_POINTS,
    downsample_bars,
    equity_figure,
    price_figure,
    thin_line,
)


def _bars(n: int) -> pd.DataFrame:
    index = pd.bdate_range("2005-01-03", periods=n, name="timestamp")
    close = np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "open": close - 0.5,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.ones(n),
        },
        index=index,
    )


def test_buckets_keep_first_open_extremes_last_close_and_summed_volume():
    bars = _bars(10)
    merged = downsample_bars(bars, limit=4)  # ceil(10 / 4) = 3 bars a bucket: 3, 3, 3, 1
    assert len(merged) == 4
    assert merged.index.name == "timestamp"
    assert list(merged.index) == [bars.index[2], bars.index[5], bars.index[8], bars.index[9]]
    assert merged["open"].tolist() == [-0.5, 2.5, 5.5, 8.5]  # closes 0, 3, 6, 9 minus 0.5
    assert merged["high"].tolist() == [3.0, 6.0, 9.0, 10.0]  # last close of each + 1
    assert merged["low"].tolist() == [-1.0, 2.0, 5.0, 8.0]
    assert merged["close"].tolist() == [2.0, 5.0, 8.0, 9.0]
    assert merged["volume"].tolist() == [3.0, 3.0, 3.0, 1.0]


def test_short_history_is_drawn_as_is_and_long_one_is_bounded():
    short = _bars(100)
    assert downsample_bars(short) is short
    figure = price_figure(_bars(5000), "X", candles=False)
    line = figure.data[0]
    assert isinstance(line, go.Scatter)  # SVG: WebGL was slower without a GPU
    assert 0 < len(line.x) <= MAX_PRICE_POINTS
    assert line.y[-1] == 4999.0  # the last close is kept
    assert not figure.layout.xaxis.rangebreaks  # no weekend breaks on merged bars


def test_missing_volume_stays_missing_after_merging():
    bars = _bars(9).assign(volume=np.nan)
    assert downsample_bars(bars, limit=3)["volume"].isna().all()


def test_a_thinned_line_keeps_each_buckets_extremes_and_both_ends():
    values = [5.0, 1.0, 9.0, 2.0, 7.0, 3.0, 8.0, 0.0, 6.0, 4.0]
    series = pd.Series(values, index=pd.bdate_range("2020-01-01", periods=10))
    thin = thin_line(series, limit=6)  # (6 - 2) // 2 = 2 runs of 5: [5 1 9 2 7], [3 8 0 6 4]
    assert thin.tolist() == [5.0, 1.0, 9.0, 8.0, 0.0, 4.0]  # first, min/max of each run, last
    assert list(thin.index) == [series.index[i] for i in (0, 1, 2, 6, 7, 9)]
    assert thin_line(series, limit=10) is series


def test_a_long_equity_curve_is_bounded_and_keeps_its_worst_drawdown():
    n = 20_000
    rng = np.random.default_rng(0)
    equity = pd.Series(
        100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
        index=pd.date_range("1990-01-01", periods=n, freq="D"),
    )
    figure = equity_figure(equity.to_frame("equity"))
    line, drawdown = figure.data
    assert all(isinstance(t, go.Scatter) for t in figure.data)
    assert len(line.x) <= MAX_LINE_POINTS and len(drawdown.x) <= MAX_LINE_POINTS
    assert max(line.y) == equity.max() and min(line.y) == equity.min()
    assert min(drawdown.y) == (equity / equity.cummax() - 1).min()  # the worst one survives
