"""The top-N portfolio simulation and its weights, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.ml import simulate, top_weights


def test_top_weights_equal_and_by_score():
    scores = np.array([0.1, np.nan, 0.5, 0.3])
    np.testing.assert_allclose(top_weights(scores, 2), [0, 0, 0.5, 0.5])
    # score weights: score − lowest finite score (0.1): 0.4 and 0.2 → 2/3, 1/3
    np.testing.assert_allclose(top_weights(scores, 2, "score"), [0, 0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(top_weights(np.full(3, np.nan), 2), [0, 0, 0])


def test_simulate_trades_the_day_after_the_decision_and_charges_turnover():
    close = np.array([[10.0, 20.0], [10.0, 20.0], [11.0, 20.0], [11.0, 22.0], [11.0, 22.0]])
    # decided at the close of bar 0: all in A, traded at the close of bar 1;
    # decided at bar 2: all in B, traded at the close of bar 3
    targets = {0: np.array([1.0, 0.0]), 2: np.array([0.0, 1.0])}
    equity, turnover = simulate(close, targets, 0, 5, cost_bps=100)
    # bar 1: buy A with turnover 1 → 1 × (1 − 0.01) = 0.99
    # bar 2: A +10 % → 1.089; bar 3: A flat, switch to B: turnover 2 → 1.089 × 0.98
    # bar 4: B flat
    expected = [1.0, 0.99, 0.99 * 1.1, 0.99 * 1.1 * 0.98, 0.99 * 1.1 * 0.98]
    np.testing.assert_allclose(equity, expected)
    assert turnover == pytest.approx(3.0)


def test_weights_drift_between_rebalances():
    close = np.array([[10.0, 10.0], [10.0, 10.0], [20.0, 10.0], [20.0, 5.0]])
    equity, _ = simulate(close, {0: np.array([0.5, 0.5])}, 0, 4, cost_bps=0)
    # half in each at bar 1; A doubles (1.5); then B halves: 1.0 + 0.25 = 1.25
    np.testing.assert_allclose(equity, [1.0, 1.0, 1.5, 1.25])
