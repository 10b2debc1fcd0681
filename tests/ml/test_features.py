"""Features and labels against values worked out by hand; causality of every feature."""

from __future__ import annotations

import numpy as np
import pytest

from core.ml import (
    FeatureSet,
    LabelSpec,
    causality_gaps,
    compute_features,
    cross_rank,
    feature_names,
    forward_returns,
    make_label,
)

CLOSE = np.array([[10.0], [11.0], [12.0], [11.0], [13.0], [14.0]])  # one symbol
RAW3 = FeatureSet(windows="3", cross_section="raw")


def _value(panel, name, t, j=0):
    return float(panel.values[t, j, panel.names.index(name)])


def test_close_features_match_hand_computed_values():
    panel = compute_features(CLOSE, RAW3)
    t = 4  # window of closes 12, 11, 13; returns 1/11, -1/12, 2/11
    assert _value(panel, "ret_3", t) == pytest.approx(13 / 11 - 1, rel=1e-6)
    returns = np.array([12 / 11 - 1, 11 / 12 - 1, 13 / 11 - 1])
    assert _value(panel, "vol_3", t) == pytest.approx(returns.std(ddof=1), rel=1e-6)
    assert _value(panel, "ma_3", t) == pytest.approx(12 / 13, rel=1e-6)
    assert _value(panel, "max_3", t) == pytest.approx(1.0)
    assert _value(panel, "min_3", t) == pytest.approx(11 / 13, rel=1e-6)
    assert _value(panel, "rank_3", t) == pytest.approx(1.0)  # 13 is the highest of three
    assert _value(panel, "rank_3", 3) == pytest.approx(2 / 3)  # 11 among 11, 12, 11: 2 of 3 ≤
    # changes +1, -1, +2: gains 3, losses 1 → 75
    assert _value(panel, "rsi_3", t) == pytest.approx(75.0)
    # warm-up: ret_3 needs 4 closes, ma_3 three
    assert np.isnan(_value(panel, "ret_3", 2)) and not np.isnan(_value(panel, "ma_3", 2))


def test_volume_features_match_hand_computed_values():
    close = np.array([[1.0], [2.0], [3.0], [4.0]])
    volume = np.array([[10.0], [20.0], [30.0], [60.0]])
    panel = compute_features(close, FeatureSet(windows="3", cross_section="raw"), volume)
    assert _value(panel, "vma_3", 3) == pytest.approx((20 + 30 + 60) / 3 / 60, rel=1e-6)
    assert _value(panel, "vstd_3", 3) == pytest.approx(np.std([20, 30, 60], ddof=1) / 60, rel=1e-6)
    expected = np.corrcoef([2, 3, 4], np.log1p([20, 30, 60]))[0, 1]
    assert _value(panel, "corr_3", 3) == pytest.approx(expected, rel=1e-5)
    assert "vma_3" not in compute_features(close, FeatureSet(windows="3")).names  # no volume


def test_cross_sectional_rank_is_scaled_to_half_and_keeps_missing():
    x = np.array([[3.0, 1.0, 2.0, np.nan], [1.0, 1.0, 5.0, 0.0]])
    ranked = cross_rank(x)
    np.testing.assert_allclose(ranked[0, :3], [0.5, -0.5, 0.0])
    assert np.isnan(ranked[0, 3])
    # ties averaged: ranks 2.5, 2.5, 4, 1 of 4 → (r − 1) / 3 − 0.5
    np.testing.assert_allclose(ranked[1], [0.0, 0.0, 0.5, -0.5])


def test_the_label_is_the_return_from_the_next_bar_over_h_bars():
    close = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    fwd = forward_returns(close, 2)
    # at t = 0: close[3] / close[1] − 1 = 4 / 2 − 1
    assert fwd[0, 0] == pytest.approx(1.0)
    assert fwd[2, 0] == pytest.approx(6 / 4 - 1)
    assert np.isnan(fwd[3:]).all()  # the last h + 1 dates have no label
    two = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 3.0], [4.0, 2.0], [5.0, 6.0]])
    target, raw = make_label(two, LabelSpec(horizon=1))
    np.testing.assert_allclose(raw[0], [3 / 2 - 1, 3 / 1 - 1])
    np.testing.assert_allclose(target[0], [-0.5, 0.5])


@pytest.mark.parametrize("mode", ["rank", "raw", "both"])
def test_every_feature_at_t_is_unchanged_by_the_data_after_t(mode):
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(0.02 * rng.normal(size=(160, 5)), axis=0))
    close[40:45, 2] = np.nan  # a gap in one symbol
    volume = rng.uniform(1e5, 1e6, size=close.shape)
    features = FeatureSet(windows="5,10,20,60", cross_section=mode)
    gaps = causality_gaps(close, features, [61, 62, 100, 158], volume)
    assert set(gaps) == set(feature_names(features, True))
    assert len(gaps) == {"rank": 40, "raw": 40, "both": 80}[mode]
    assert max(gaps.values()) == 0.0


def test_the_causality_check_catches_a_feature_that_reads_ahead():
    close = np.arange(1.0, 41.0).reshape(20, 2)
    features = FeatureSet(windows="3", cross_section="raw")
    leaky = compute_features(close, features)
    leaky.values[:-1] = leaky.values[1:]  # each date sees the next one
    gaps = causality_gaps(close, features, [10], full=leaky)
    assert max(gaps.values()) > 0


def test_scoring_one_date_equals_the_full_panel_on_that_date():
    rng = np.random.default_rng(4)
    close = 50 * np.exp(np.cumsum(0.02 * rng.normal(size=(120, 6)), axis=0))
    full = compute_features(close, FeatureSet())
    last = compute_features(close[-61:], FeatureSet(), last_only=True)
    np.testing.assert_array_equal(last.values[0], full.values[-1])


def test_bad_windows_are_refused():
    with pytest.raises(ValueError, match="windows"):
        FeatureSet(windows="5,x")
    with pytest.raises(ValueError, match="windows"):
        FeatureSet(windows="1")
    assert FeatureSet(windows="20, 5").windows == "5,20"


def test_cross_rank_equals_scipy_rankdata_with_ties_and_gaps():
    from scipy.stats import rankdata

    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, size=(50, 9, 3)).astype(float)  # many ties
    x[rng.random(x.shape) < 0.2] = np.nan
    ours = cross_rank(x)
    for t in range(50):
        for f in range(3):
            row = x[t, :, f]
            ok = ~np.isnan(row)
            if ok.sum() > 1:
                expected = (rankdata(row[ok]) - 1) / (ok.sum() - 1) - 0.5
                np.testing.assert_allclose(ours[t, ok, f], expected)
            assert np.isnan(ours[t, ~ok, f]).all()
