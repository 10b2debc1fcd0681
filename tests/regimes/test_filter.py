"""RegimeFilter: one observation at a time, equal to the batch forward filter."""

from __future__ import annotations

import numpy as np
import pytest

from core.regimes import RegimeFilter, RegimeHMM, return_features


@pytest.fixture(scope="module")
def spx_two_features(spx_returns) -> np.ndarray:
    closes = np.exp(np.concatenate([[0.0], np.cumsum(spx_returns[:, 0])]))
    return return_features(closes, vol_window=20).values


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize("n_features", [1, 2])
def test_incremental_updates_equal_the_batch_filter(spx_two_features, covariance_type, n_features):
    X = spx_two_features[:, :n_features]
    model = RegimeHMM(n_states=3, n_starts=2, covariance_type=covariance_type).fit(X)
    batch = model.filtered_probabilities(X)
    live = RegimeFilter(model)
    rows = X[:, 0].tolist() if n_features == 1 else X.tolist()
    incremental = np.array([live.update(row) for row in rows])
    np.testing.assert_allclose(incremental, batch, rtol=1e-9, atol=1e-12)
    assert live.log_likelihood == pytest.approx(model.score(X), rel=1e-9)
    assert live.n_observations == len(X)
    assert live.state == int(batch[-1].argmax())
    assert live.regime == model.labels_[live.state]


def test_update_returns_a_tuple_of_floats_and_tracks_the_prediction(spx_returns):
    model = RegimeHMM(n_states=2, n_starts=1).fit(spx_returns)
    live = RegimeFilter(model)
    assert live.probabilities is None and live.regime is None
    np.testing.assert_allclose(live.predicted, model.startprob_)
    probs = live.update(np.float64(spx_returns[0, 0]))
    assert isinstance(probs, tuple) and all(isinstance(p, float) for p in probs)
    np.testing.assert_allclose(live.predicted, np.array(probs) @ model.transmat_)
    np.testing.assert_allclose(live.probabilities, probs)


def test_reset_starts_again_and_a_prior_replaces_startprob(spx_returns):
    model = RegimeHMM(n_states=2, n_starts=1).fit(spx_returns)
    live = RegimeFilter(model)
    first = live.update_many(spx_returns[:100])
    live.reset()
    np.testing.assert_array_equal(live.update_many(spx_returns[:100]), first)
    # Warm start: the prediction after 100 bars as prior for the rest = one long run.
    warm = RegimeFilter(model, prior=live.predicted)
    np.testing.assert_allclose(
        warm.update_many(spx_returns[100:200]),
        model.filtered_probabilities(spx_returns[:200])[100:],
        rtol=1e-9,
    )


def test_bad_inputs_are_rejected(spx_returns):
    model = RegimeHMM(n_states=2, n_starts=1).fit(spx_returns)
    with pytest.raises(ValueError, match="expected 1 features"):
        RegimeFilter(model).update([0.1, 0.2])
    with pytest.raises(ValueError, match="prior"):
        RegimeFilter(model, prior=[0.7, 0.7])


def test_the_filter_is_a_snapshot_of_the_model(spx_returns):
    model = RegimeHMM(n_states=2, n_starts=1).fit(spx_returns)
    live = RegimeFilter(model)
    before = live.update(0.01)
    model.fit(spx_returns[:1000])  # a refit does not touch a running filter
    live.reset()
    assert live.update(0.01) == before
