"""causal_regimes: no look-ahead — changing data after t never changes the regime at t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.marketdata import SyntheticMarket, preset
from core.regimes import LABELS, RegimeHMM, causal_regimes, return_features

N_BARS = 700  # closes: 690 feature rows with a 10-bar volatility
SETTINGS = {"n_states": 2, "refit_every": 100, "min_train": 300, "n_starts": 2, "seed": 3}


@pytest.fixture(scope="module")
def closes() -> pd.Series:
    return SyntheticMarket(preset("equity"), seed=11).bars("2001-01-02", N_BARS)["close"]


@pytest.fixture(scope="module")
def baseline(closes):
    features = return_features(closes, vol_window=10)
    return features, causal_regimes(features.values, features.index, **SETTINGS)


def perturbed_after(closes: pd.Series, t_stamp: pd.Timestamp, seed: int) -> pd.Series:
    """The same closes up to ``t_stamp``, a wildly different path afterwards."""
    rng = np.random.default_rng(seed)
    later = closes.index > t_stamp
    shocks = np.exp(np.cumsum(rng.normal(0.0, 0.05, later.sum())))
    changed = closes.copy()
    changed[later] = closes[later] * shocks * rng.uniform(0.2, 5.0)
    return changed


def assert_same_up_to(before, after, t_stamp) -> None:
    rows = before.probabilities.index <= t_stamp
    np.testing.assert_array_equal(
        before.probabilities[rows].to_numpy(), after.probabilities[rows].to_numpy()
    )
    np.testing.assert_array_equal(
        before.regime_probabilities[rows].to_numpy(), after.regime_probabilities[rows].to_numpy()
    )
    assert before.regime[rows].tolist() == after.regime[rows].tolist()
    assert before.state[rows].tolist() == after.state[rows].tolist()


@pytest.mark.parametrize("t", [299, 300, 301, 399, 400, 555, 688])
def test_changing_data_after_t_never_changes_the_regime_at_or_before_t(closes, baseline, t):
    features, before = baseline
    t_stamp = features.index[t]
    changed = return_features(perturbed_after(closes, t_stamp, seed=t), vol_window=10)
    assert np.array_equal(changed.values[: t + 1], features.values[: t + 1])
    assert not np.allclose(changed.values[t + 1 :], features.values[t + 1 :])
    after = causal_regimes(changed.values, changed.index, **SETTINGS)
    assert_same_up_to(before, after, t_stamp)


@settings(max_examples=8, deadline=None)
@given(t=st.integers(SETTINGS["min_train"] - 5, N_BARS - 30), seed=st.integers(0, 2**16))
def test_no_look_ahead_property(closes, baseline, t, seed):
    features, before = baseline
    changed = return_features(perturbed_after(closes, features.index[t], seed), vol_window=10)
    after = causal_regimes(changed.values, changed.index, **SETTINGS)
    assert_same_up_to(before, after, features.index[t])


def test_rolling_window_is_causal_too(baseline):
    features, _ = baseline
    X = features.values
    settings_ = {**SETTINGS, "window": 300}
    before = causal_regimes(X, **settings_)
    t = 450
    changed = X.copy()
    changed[t + 1 :] = np.random.default_rng(0).normal(0.0, 0.05, changed[t + 1 :].shape) ** 2
    after = causal_regimes(changed, **settings_)
    assert_same_up_to(before, after, t)
    assert before.refits["train_start"].tolist() == [0, 100, 200, 300]


def test_smoothed_probabilities_would_fail_the_same_test(baseline):
    # The test has teeth: forward-backward (smoothed) probabilities at t move when
    # later data change, the filtered ones above do not.
    features, _ = baseline
    X = features.values
    model = RegimeHMM(n_states=2, n_starts=2).fit(X[:300])
    t = 349
    changed = X.copy()
    changed[t + 1 :] *= 4.0
    smoothed = model.hmm_.predict_proba(X[: t + 20])[t]
    smoothed_changed = model.hmm_.predict_proba(changed[: t + 20])[t]
    assert not np.allclose(smoothed, smoothed_changed)
    filtered = model.filtered_probabilities(X[: t + 20])[t]
    np.testing.assert_array_equal(filtered, model.filtered_probabilities(changed[: t + 20])[t])


def test_the_model_at_t_was_fitted_strictly_before_its_refit_point(baseline):
    features, result = baseline
    refits = result.refits
    assert refits["position"].tolist() == [300, 400, 500, 600]
    assert (refits["train_stop"] == refits["position"]).all()
    assert (refits["train_start"] == 0).all()  # expanding window
    assert refits["timestamp"].tolist() == list(features.index[[300, 400, 500, 600]])
    refit = RegimeHMM(n_states=2, n_starts=2, seed=3).fit(features.values[:400])
    np.testing.assert_array_equal(result.models[1].means_, refit.means_)
    assert result.model_number.iloc[399] == 0 and result.model_number.iloc[400] == 1
    expected = refit.filtered_probabilities(features.values[:500])[400:500]
    np.testing.assert_array_equal(result.probabilities.iloc[400:500].to_numpy(), expected)


def test_result_layout(baseline):
    features, result = baseline
    n = len(features.values)
    assert result.probabilities.shape == (n, 2)
    assert list(result.probabilities.columns) == ["state_0", "state_1"]
    assert list(result.regime_probabilities.columns) == list(LABELS)
    assert result.probabilities.index.equals(features.index)
    head, tail = slice(0, 300), slice(300, n)
    assert result.probabilities.iloc[head].isna().all().all()
    assert result.regime.iloc[head].isna().all() and result.state.iloc[head].isna().all()
    np.testing.assert_allclose(result.probabilities.iloc[tail].sum(axis=1), 1.0)
    np.testing.assert_allclose(result.regime_probabilities.iloc[tail].sum(axis=1), 1.0)
    for i in range(300, n):
        model = result.models[result.model_number.iloc[i]]
        assert result.regime.iloc[i] == model.labels_[result.state.iloc[i]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refit_every": 0}, "refit_every"),
        ({"min_train": 10}, "min_train must be"),
        ({"window": 100}, "window"),
        ({"min_train": 700}, "more than min_train"),
    ],
)
def test_bad_settings_are_rejected(baseline, kwargs, message):
    features, _ = baseline
    with pytest.raises(ValueError, match=message):
        causal_regimes(features.values, **{**SETTINGS, **kwargs})


def test_index_must_match():
    with pytest.raises(ValueError, match="index"):
        causal_regimes(np.zeros(400), pd.RangeIndex(10), min_train=300)
