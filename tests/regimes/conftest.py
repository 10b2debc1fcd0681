"""Shared data for the regime tests: a simulated Gaussian HMM and bundled S&P 500 returns."""

from __future__ import annotations

import numpy as np
import pytest

from core.marketdata import load_bundled
from core.regimes import return_features

# A known two-state model, states in canonical order (lowest mean first).
TRUE_MEANS = np.array([-0.002, 0.001])  # per day
TRUE_VOLS = np.array([0.025, 0.008])
TRUE_TRANSMAT = np.array([[0.95, 0.05], [0.02, 0.98]])


def simulate_hmm(
    means: np.ndarray, vols: np.ndarray, transmat: np.ndarray, n: int, seed: int, start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws of a one-feature Gaussian HMM: observations and the true states."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(transmat, axis=1)
    uniforms = rng.random(n)
    states = np.empty(n, dtype=int)
    state = start
    for t in range(n):
        states[t] = state
        state = min(
            int(np.searchsorted(cumulative[state], uniforms[t], side="right")), len(means) - 1
        )
    return rng.normal(np.asarray(means)[states], np.asarray(vols)[states]), states


@pytest.fixture(scope="module")
def two_state_series() -> tuple[np.ndarray, np.ndarray]:
    """5,000 steps of the known two-state model."""
    return simulate_hmm(TRUE_MEANS, TRUE_VOLS, TRUE_TRANSMAT, 5_000, seed=0)


@pytest.fixture(scope="module")
def spx_returns() -> np.ndarray:
    """Daily log returns of the bundled S&P 500 index, shape (5030, 1)."""
    return return_features(load_bundled("SPX")).values
