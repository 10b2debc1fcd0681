"""Entropy, mutual information, feature ranking and causal candidate features."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.optimize import (
    candidate_features,
    entropy,
    forward_returns,
    mutual_information,
    normalized_mutual_information,
    parameter_relevance,
    rank_features,
)
from core.optimize._information import FEATURE_COLUMNS, discretize


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_entropy_of_uniform_discrete_is_log_k(k):
    x = np.repeat(np.arange(k), 50)
    assert entropy(x, bins=10) == pytest.approx(math.log(k))
    # Miller-Madow adds (k - 1) / (2n)
    assert entropy(x, bins=10, bias_correction=True) == pytest.approx(
        math.log(k) + (k - 1) / (2 * len(x))
    )


def test_continuous_quantile_bins_are_equal_frequency():
    x = np.random.default_rng(1).lognormal(size=1000)
    codes = discretize(x, 10)
    assert np.bincount(codes).tolist() == [100] * 10
    assert entropy(x, bins=10) == pytest.approx(math.log(10))


def test_ties_share_a_bin_and_strings_are_discrete():
    x = np.array([0.0] * 50 + list(np.linspace(1, 2, 50)))
    codes = discretize(x, 10)
    assert len(set(codes[:50])) == 1
    labels = np.array(["a", "b", "c"] * 10, dtype=object)
    assert entropy(labels) == pytest.approx(math.log(3))


def test_mi_of_independent_is_near_zero_and_correction_helps():
    rng = np.random.default_rng(42)
    x, y = rng.standard_normal(5000), rng.standard_normal(5000)
    plain = mutual_information(x, y, bins=10)
    corrected = mutual_information(x, y, bins=10, bias_correction=True)
    assert 0 <= plain < 0.02
    assert 0 <= corrected < plain
    assert corrected < 0.005


def test_mi_of_identical_discrete_is_entropy():
    x = np.random.default_rng(3).integers(0, 6, size=2000)
    assert mutual_information(x, x) == pytest.approx(entropy(x))
    assert normalized_mutual_information(x, x) == pytest.approx(1.0)
    assert mutual_information(x, x, bins=10) > 1.7


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_mi_of_bivariate_normal_approaches_gaussian_formula(rho):
    rng = np.random.default_rng(7)
    n = 200_000
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal(n)
    exact = -0.5 * math.log(1 - rho**2)
    assert mutual_information(x, y, bins=30) == pytest.approx(exact, abs=0.02)
    # symmetric, and invariant to monotone transforms (quantile bins)
    assert mutual_information(y, np.exp(x), bins=30) == pytest.approx(
        mutual_information(x, y, bins=30)
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=60), st.integers(2, 12))
def test_mi_is_nonnegative_and_bounded(values, bins):
    x = np.array(values)
    y = np.roll(x, 1)
    mi = mutual_information(x, y, bins)
    assert 0 <= mi <= min(entropy(x, bins), entropy(y, bins)) + 1e-9
    assert 0 <= normalized_mutual_information(x, y, bins) <= 1


def test_nans_are_dropped_pairwise():
    x = np.array([1.0, 2.0, np.nan, 1.0, 2.0])
    y = np.array([1.0, 2.0, 3.0, np.nan, 2.0])
    assert mutual_information(x, y) == pytest.approx(mutual_information([1, 2, 2], [1, 2, 2]))


def test_rank_features_prefers_driver_and_flags_copy():
    rng = np.random.default_rng(0)
    n = 4000
    driver = rng.standard_normal(n)
    frame = pd.DataFrame(
        {
            "noise": rng.standard_normal(n),
            "driver": driver,
            "weak": rng.standard_normal(n),
            "copy": driver.copy(),
        }
    )
    target = pd.Series(driver + 0.5 * rng.standard_normal(n) + 0.1 * frame["weak"])
    ranking = rank_features(frame, target, bins=10)
    assert list(ranking.columns) == [
        "mutual_information",
        "normalized_mi",
        "rank",
        "most_redundant_with",
        "redundancy",
        "redundant",
    ]
    assert ranking["rank"].tolist() == [1, 2, 3, 4]
    assert ranking.loc["driver", "rank"] == 1  # ties keep column order
    assert ranking.loc["copy", "rank"] == 2
    assert (
        ranking.loc["driver", "mutual_information"] > 5 * ranking.loc["noise", "mutual_information"]
    )
    assert ranking.loc["copy", "redundant"]
    assert ranking.loc["copy", "most_redundant_with"] == "driver"
    assert ranking.loc["copy", "redundancy"] == pytest.approx(1.0)
    assert not ranking.loc["driver", "redundant"]
    assert not ranking.loc["noise", "redundant"]
    assert ranking.loc["noise", "redundancy"] < 0.05


def test_rank_features_aligns_on_index_and_single_feature():
    idx = pd.RangeIndex(100)
    x = pd.Series(np.arange(100) % 4, index=idx)
    ranking = rank_features(pd.DataFrame({"x": x}), (x * 2).iloc[10:])
    assert ranking.loc["x", "normalized_mi"] == pytest.approx(1.0)
    assert ranking.loc["x", "most_redundant_with"] is None
    assert math.isnan(ranking.loc["x", "redundancy"])
    assert not ranking.loc["x", "redundant"]


def test_parameter_relevance_on_search_trials():
    rng = np.random.default_rng(5)
    n = 400
    trials = pd.DataFrame(
        {
            "trial": np.arange(n),
            "fast": rng.integers(2, 30, n),
            "slow": rng.integers(30, 200, n),
            "fixed": 1,
            "score": 0.0,
            "feasible": True,
            "error": None,
            "sharpe": 0.0,
        }
    )
    trials["score"] = -((trials["fast"] - 10) ** 2) / 50 + 0.1 * rng.standard_normal(n)
    trials.loc[0, "score"] = -np.inf
    ranking = parameter_relevance(trials)
    assert list(ranking.index) == ["fast", "slow"]
    assert ranking.loc["fast", "mutual_information"] > 0.5
    with pytest.raises(KeyError):
        parameter_relevance(trials, score="nope")


def _closes(n=400, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2020-01-01", periods=n)
    return pd.Series(100 * np.exp(np.cumsum(0.01 * rng.standard_normal(n))), index=idx)


def test_candidate_features_values():
    closes = _closes()
    feats = candidate_features(closes)
    assert list(feats.columns) == list(FEATURE_COLUMNS)
    assert feats.index.equals(closes.index)
    t = 100
    assert feats["return_5"].iloc[t] == pytest.approx(closes.iloc[t] / closes.iloc[t - 5] - 1)
    assert feats["distance_sma_50"].iloc[t] == pytest.approx(
        closes.iloc[t] / closes.iloc[t - 49 : t + 1].mean() - 1
    )
    window = closes.iloc[t - 19 : t + 1]
    assert feats["zscore_20"].iloc[t] == pytest.approx(
        (closes.iloc[t] - window.mean()) / window.std()
    )
    assert feats["return_60"].iloc[:60].isna().all() and feats.iloc[60:].notna().all().all()
    assert feats["rsi_14"].dropna().between(0, 100).all()


@pytest.mark.parametrize("t", [60, 150, 398])
def test_candidate_features_are_causal(t):
    closes = _closes()
    before = candidate_features(closes)
    changed = closes.copy()
    changed.iloc[t + 1 :] *= np.random.default_rng(t).uniform(0.5, 2.0, len(changed) - t - 1)
    after = candidate_features(changed)
    pd.testing.assert_frame_equal(before.iloc[: t + 1], after.iloc[: t + 1])
    assert not before.iloc[t + 1 :].equals(after.iloc[t + 1 :])


def test_forward_returns_look_ahead_and_drop_tail():
    closes = _closes(50)
    target = forward_returns(closes, 5)
    assert len(target) == 45 and target.index.equals(closes.index[:45])
    assert target.iloc[3] == pytest.approx(closes.iloc[8] / closes.iloc[3] - 1)
    with pytest.raises(ValueError):
        forward_returns(closes, 0)
