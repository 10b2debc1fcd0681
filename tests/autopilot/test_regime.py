"""Each regime component against values worked out by hand, and the series' causality."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.autopilot import (
    AutopilotConfig,
    breadth,
    realized_volatility,
    regime_series,
    trend_state,
    volatility_bucket,
    volatility_percentile,
)
from core.marketdata import load_bundled
from core.regimes import RegimeHMM, return_features

DAYS = pd.bdate_range("2024-01-01", periods=6)


def test_realized_volatility_is_the_sample_std_of_log_returns_annualised():
    close = pd.Series([100.0, 101.0, 99.0, 102.0, 100.0, 103.0], index=DAYS)
    r = [math.log(b / a) for a, b in zip(close[:-1], close[1:], strict=True)]
    last = r[-5:]
    mean = sum(last) / 5
    by_hand = math.sqrt(sum((x - mean) ** 2 for x in last) / 4) * math.sqrt(252)
    vol = realized_volatility(close, 5)
    assert vol.iloc[:5].isna().all()
    assert vol.iloc[-1] == pytest.approx(by_hand, rel=1e-12)


def test_volatility_percentile_counts_values_at_or_below_the_current_one():
    vol = pd.Series([np.nan, 1.0, 3.0, 2.0, 5.0, 4.0], index=DAYS)
    p = volatility_percentile(vol, 3)
    # windows of 3 defined values: [1,3,2] -> 2/3, [3,2,5] -> 1, [2,5,4] -> 2/3
    assert p.iloc[:3].isna().all()
    np.testing.assert_allclose(p.iloc[3:].to_numpy(), [2 / 3, 1.0, 2 / 3])


@pytest.mark.parametrize(
    ("percentile", "bucket"),
    [(0.0, "low"), (0.49, "low"), (0.5, "medium"), (0.79, "medium"), (0.8, "high"),
     (0.949, "high"), (0.95, "extreme"), (1.0, "extreme"), (math.nan, None)],
)  # fmt: skip
def test_volatility_buckets_at_and_around_their_edges(percentile, bucket):
    assert volatility_bucket(percentile, (0.5, 0.8, 0.95)) == bucket


@pytest.mark.parametrize(
    ("price", "fast", "slow", "state"),
    [(110, 105, 100, "bull"), (90, 95, 100, "bear"), (104, 105, 100, "sideways"),
     (101, 99, 100, "sideways"), (96, 95, 100, "sideways"), (100, math.nan, 100, None)],
)  # fmt: skip
def test_trend_is_price_against_sma50_against_sma200(price, fast, slow, state):
    assert trend_state(price, fast, slow) == state


def test_breadth_share_above_sma_and_advance_decline_ratio():
    closes = pd.DataFrame(
        {"A": [10.0, 11.0, 12.0], "B": [10.0, 9.0, 8.0], "C": [10.0, 10.0, 11.0]},
        index=DAYS[:3],
    )
    wide = breadth(closes, 2)
    last = wide.iloc[-1]
    # SMA2 on the last day: A 11.5 (12 above), B 8.5 (8 below), C 10.5 (11 above)
    assert last["above"] == pytest.approx(2 / 3)
    assert (last["advancers"], last["decliners"]) == (2, 1)
    assert last["ad_ratio"] == pytest.approx(2.0)
    # day 2: A up, B down, C flat -> 1 / 1; SMA2 = (10.5, 9.5, 10): A above, B below, C equal
    assert wide.iloc[1]["above"] == pytest.approx(1 / 3)
    assert wide.iloc[1]["ad_ratio"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def market():
    index = load_bundled("SP500")["close"].rename("SP500")
    config = AutopilotConfig()
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in config.universe})
    return index, closes, config


def test_label_and_confidence_follow_their_formulas(market):
    index, closes, config = market
    frame = regime_series(index.loc[:"2021-06-30"], closes.loc[:"2021-06-30"], config, "2021-06-01")
    row = frame.iloc[-1]
    assert row["label"] == f"{row['trend']}_{row['vol_bucket']}_vol"
    p, spread, share = row["vol_percentile"], row["sma_fast"] / row["sma_slow"] - 1, row["breadth"]
    c_vol = min(1, min(abs(p - e) for e in config.vol_edges) / 0.1)
    strength = min(1, abs(spread) / 0.05)
    c_trend = 1 - strength if row["trend"] == "sideways" else strength
    c_breadth = {"bull": share, "bear": 1 - share}.get(row["trend"], 1 - 2 * abs(share - 0.5))
    assert row["confidence"] == pytest.approx((c_vol + c_trend + c_breadth) / 3)
    assert row["sma_fast"] == pytest.approx(index.loc[:"2021-06-30"].iloc[-50:].mean())
    assert row["sma_slow"] == pytest.approx(index.loc[:"2021-06-30"].iloc[-200:].mean())


def test_hmm_reading_is_fitted_before_the_month_and_filtered_to_the_day(market):
    index, closes, config = market
    day = pd.Timestamp("2021-06-15")
    frame = regime_series(index.loc[:day], closes.loc[:day], config, day)
    features = return_features(index.loc[:day])
    X, positions = features.values, features.index
    anchor = int(positions.searchsorted(pd.Timestamp("2021-06-01")))
    model = RegimeHMM(3, 2, 0, n_iter=100).fit(X[anchor - 756 : anchor])
    probabilities = model.filtered_probabilities(X[anchor - 126 :])[-1]
    assert frame.iloc[-1]["hmm"] == model.labels_[int(np.argmax(probabilities))]
    assert frame.iloc[-1]["hmm_probability"] == pytest.approx(probabilities.max())


def test_the_regime_at_t_is_unchanged_when_later_data_is_cut(market):
    index, closes, config = market
    full = regime_series(index.loc[:"2020-12-31"], closes.loc[:"2020-12-31"], config, "2020-01-02")
    for day in ("2020-02-03", "2020-03-16", "2020-07-01", "2020-12-31"):
        cut = regime_series(index.loc[:day], closes.loc[:day], config, day).iloc[-1]
        expected = full.loc[day]
        for column in ("label", "trend", "vol_bucket", "hmm"):
            assert cut[column] == expected[column], (day, column)
        for column in ("confidence", "volatility", "vol_percentile", "breadth", "hmm_probability"):
            assert cut[column] == pytest.approx(expected[column], rel=1e-9), (day, column)
