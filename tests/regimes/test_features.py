"""Return features: log returns, rolling volatility, alignment and causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.regimes import log_returns, return_features

CLOSES = pd.Series(
    [100.0, 110.0, 99.0, 108.9, 119.79, 100.0],
    index=pd.date_range("2024-01-01", periods=6, name="timestamp"),
)


def test_log_returns_are_indexed_by_the_later_bar():
    returns = log_returns(CLOSES)
    np.testing.assert_allclose(returns.to_numpy(), np.diff(np.log(CLOSES.to_numpy())))
    assert returns.index.equals(CLOSES.index[1:])


def test_features_without_volatility_are_one_column_of_log_returns():
    features = return_features(CLOSES)
    assert features.columns == ("log_return",)
    assert features.values.shape == (5, 1)
    np.testing.assert_allclose(features.values[:, 0], log_returns(CLOSES).to_numpy())
    assert features.index.equals(CLOSES.index[1:])


def test_rolling_volatility_is_the_sample_std_of_the_last_window_returns():
    features = return_features(CLOSES, vol_window=3)
    returns = np.diff(np.log(CLOSES.to_numpy()))
    assert features.columns == ("log_return", "volatility")
    assert features.values.shape == (3, 2)  # the first full window ends at the third return
    assert features.index.equals(CLOSES.index[3:])
    for row, end in enumerate(range(3, 6)):
        np.testing.assert_allclose(features.values[row, 1], returns[end - 3 : end].std(ddof=1))
        np.testing.assert_allclose(features.values[row, 0], returns[end - 1])


def test_bars_frame_and_plain_array_are_accepted():
    frame = pd.DataFrame({"close": CLOSES})
    np.testing.assert_array_equal(return_features(frame).values, return_features(CLOSES).values)
    np.testing.assert_array_equal(
        return_features(CLOSES.to_numpy()).values, return_features(CLOSES).values
    )


def test_features_up_to_t_ignore_later_closes():
    closes = pd.Series(np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 300))) * 100)
    t = 150
    changed = closes.copy()
    changed.iloc[t + 1 :] *= np.exp(np.random.default_rng(2).normal(0, 0.05, len(closes) - t - 1))
    before = return_features(closes, vol_window=20)
    after = return_features(changed, vol_window=20)
    rows = before.index <= t
    np.testing.assert_array_equal(before.values[rows], after.values[rows])
    assert not np.array_equal(before.values[~rows], after.values[~rows])


@pytest.mark.parametrize(
    ("closes", "window", "message"),
    [
        ([100.0], None, "at least two"),
        ([100.0, -1.0, 3.0], None, "positive"),
        ([100.0, np.nan, 3.0], None, "positive and finite"),
        ([100.0, 101.0, 102.0], 1, "vol_window"),
        ([100.0, 101.0, 102.0], 5, "more than 5"),
    ],
)
def test_bad_input_is_rejected(closes, window, message):
    with pytest.raises(ValueError, match=message):
        return_features(np.array(closes), vol_window=window)
