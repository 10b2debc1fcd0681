"""RegimeHMM: parameter recovery, canonical order, determinism, decoding, errors."""

from __future__ import annotations

import numpy as np
import pytest

from core.marketdata import SyntheticMarket, preset
from core.regimes import RegimeHMM, return_features
from tests.regimes.conftest import TRUE_MEANS, TRUE_TRANSMAT, TRUE_VOLS


@pytest.fixture(scope="module")
def fitted(two_state_series) -> RegimeHMM:
    x, _ = two_state_series
    return RegimeHMM(n_states=2, seed=0).fit(x)


def within(actual: np.ndarray, expected: np.ndarray, tolerance: np.ndarray) -> bool:
    return bool(np.all(np.abs(np.asarray(actual) - expected) <= tolerance))


def test_recovers_a_known_two_state_model(fitted, two_state_series):
    # Tolerances of four standard errors: ~1,430 days in the volatile state and ~3,570
    # in the calm one, ~70 visits of each.
    _, states = two_state_series
    days = np.bincount(states)
    assert within(fitted.means_[:, 0], TRUE_MEANS, 4 * TRUE_VOLS / np.sqrt(days))
    vols = np.sqrt(fitted.variances_[:, 0])
    assert within(vols / TRUE_VOLS, 1.0, 4 / np.sqrt(2 * days))
    p_se = np.sqrt(TRUE_TRANSMAT * (1 - TRUE_TRANSMAT) / days[:, None])
    assert within(fitted.transmat_, TRUE_TRANSMAT, 4 * p_se)
    np.testing.assert_allclose(
        fitted.expected_durations_, 1 / (1 - np.diag(TRUE_TRANSMAT)), rtol=0.35
    )
    assert fitted.labels_ == ["bear", "bull"]


def test_decoded_states_match_the_simulated_ones(fitted, two_state_series):
    x, states = two_state_series
    assert (fitted.viterbi(x) == states).mean() > 0.93
    assert (fitted.filtered_probabilities(x).argmax(axis=1) == states).mean() > 0.90
    np.testing.assert_allclose(fitted.state_shares(x), np.bincount(states) / len(x), atol=0.02)


def test_attributes_have_documented_shapes_and_invariants(fitted):
    assert fitted.means_.shape == fitted.variances_.shape == (2, 1)
    assert fitted.covars_.shape == (2, 1, 1)
    np.testing.assert_allclose(fitted.transmat_.sum(axis=1), 1.0)
    np.testing.assert_allclose(fitted.startprob_.sum(), 1.0)
    assert np.all(np.diff(fitted.means_[:, 0]) > 0)  # canonical order: by mean
    np.testing.assert_allclose(fitted.expected_durations_, 1 / (1 - np.diag(fitted.transmat_)))
    assert fitted.start_logliks_.shape == (5,)
    assert fitted.loglik_ == pytest.approx(fitted.start_logliks_.max())


def test_log_likelihood_is_in_feature_units_and_agrees_with_hmmlearn(fitted, two_state_series):
    x, _ = two_state_series
    assert fitted.loglik_ == pytest.approx(fitted.score(x), rel=1e-9)
    assert fitted.score(x) == pytest.approx(fitted.hmm_.score(x[:, None]), rel=1e-9)


def test_forward_filter_equals_hmmlearn_smoothing_at_the_last_step(spx_returns):
    # Forward (filtered) and forward-backward (smoothed) probabilities coincide only
    # at the last observation.
    model = RegimeHMM(n_states=3).fit(spx_returns)
    filtered = model.filtered_probabilities(spx_returns)
    smoothed = model.hmm_.predict_proba(spx_returns)
    np.testing.assert_allclose(filtered[-1], smoothed[-1], atol=1e-10)
    assert np.abs(filtered[:-1] - smoothed[:-1]).max() > 0.1
    np.testing.assert_allclose(filtered.sum(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_viterbi_matches_hmmlearn(spx_returns, covariance_type):
    features = return_features(
        np.exp(np.concatenate([[0.0], np.cumsum(spx_returns[:, 0])])), vol_window=10
    ).values
    model = RegimeHMM(n_states=3, n_starts=2, covariance_type=covariance_type).fit(features)
    _, expected = model.hmm_.decode(features, algorithm="viterbi")
    np.testing.assert_array_equal(model.viterbi(features), expected)
    assert model.means_.shape == (3, 2) and model.covars_.shape == (3, 2, 2)


def test_same_seed_same_model_and_the_seed_drives_the_starts(spx_returns):
    first = RegimeHMM(n_states=3, seed=7).fit(spx_returns)
    second = RegimeHMM(n_states=3, seed=7).fit(spx_returns)
    for name in ("means_", "variances_", "transmat_", "startprob_", "start_logliks_"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert first.labels_ == second.labels_
    other = RegimeHMM(n_states=3, seed=8).fit(spx_returns)
    assert other.start_logliks_[0] == first.start_logliks_[0]  # start 0 is deterministic
    assert not np.array_equal(other.start_logliks_[1:], first.start_logliks_[1:])


def test_more_starts_never_lower_the_likelihood(spx_returns):
    one = RegimeHMM(n_states=4, n_starts=1).fit(spx_returns)
    five = RegimeHMM(n_states=4, n_starts=5).fit(spx_returns)
    assert five.loglik_ >= one.loglik_
    assert five.loglik_ == pytest.approx(five.start_logliks_.max())


def test_spx_three_states_have_a_high_volatility_crisis_state(spx_returns):
    model = RegimeHMM(n_states=3).fit(spx_returns)
    assert model.labels_ == ["high_volatility", "sideways", "bull"]
    vols = np.sqrt(model.variances_[:, 0])
    assert vols[0] > 1.5 * vols[1:].max()


def test_finds_the_bear_regime_of_the_synthetic_market():
    bars, regimes = SyntheticMarket(preset("equity"), seed=1).bars_with_regimes("2000-01-03", 5000)
    features = return_features(bars)
    model = RegimeHMM(n_states=2).fit(features.values)
    volatile = int(np.argmax(model.variances_[:, 0]))
    truly_bear = regimes[1:] == 1  # preset regimes: bull, bear, sideways
    assert model.labels_[volatile] == "bear"
    assert ((model.viterbi(features.values) == volatile) == truly_bear).mean() > 0.95
    filtered = model.filtered_probabilities(features.values).argmax(axis=1)
    assert ((filtered == volatile) == truly_bear).mean() > 0.9


def test_from_params_keeps_the_given_order():
    model = RegimeHMM.from_params([0.001, -0.002], [1e-4, 9e-4], [[0.9, 0.1], [0.2, 0.8]])
    assert model.labels_ == ["bull", "bear"]
    np.testing.assert_allclose(model.startprob_, [0.5, 0.5])
    np.testing.assert_allclose(model.expected_durations_, [10.0, 5.0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_states": 1}, "n_states"),
        ({"n_states": 5}, "n_states"),
        ({"n_starts": 0}, "n_starts"),
        ({"covariance_type": "tied"}, "covariance_type"),
    ],
)
def test_bad_parameters_are_rejected_at_fit(params, message):
    with pytest.raises(ValueError, match=message):
        RegimeHMM(**params).fit(np.random.default_rng(0).normal(size=200))


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros(100), "constant"),
        (np.ones(10), "at least 30"),
        (np.array([0.1, np.nan] * 50), "finite"),
    ],
)
def test_bad_features_are_rejected(X, message):
    with pytest.raises(ValueError, match=message):
        RegimeHMM(n_states=3).fit(X)


def test_decoding_needs_a_fit_and_the_same_features(fitted):
    with pytest.raises(ValueError, match="fit the model first"):
        RegimeHMM().filtered_probabilities(np.zeros(5))
    with pytest.raises(ValueError, match="expected 1 features"):
        fitted.viterbi(np.zeros((5, 2)))


def test_memory_layout_does_not_change_the_fit(spx_returns):
    # Equal rows must give bit-equal models (the look-ahead tests compare exactly).
    X = np.hstack([spx_returns, np.abs(spx_returns)])
    c_order = RegimeHMM(n_states=2, n_starts=2).fit(np.ascontiguousarray(X))
    f_order = RegimeHMM(n_states=2, n_starts=2).fit(np.asfortranarray(X))
    np.testing.assert_array_equal(c_order.means_, f_order.means_)
    np.testing.assert_array_equal(c_order.transmat_, f_order.transmat_)
