"""Small markets for the RL tests (built by hand or from a seeded generator)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.rl import RLMarket


def random_market(n_bars: int = 400, n_assets: int = 3, seed: int = 0) -> RLMarket:
    """Seeded random-walk opens and closes (opens differ from the previous close)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (n_bars, n_assets)), axis=0))
    gap = np.exp(rng.normal(0, 0.003, (n_bars, n_assets)))
    opened = np.vstack([close[:1], close[:-1] * gap[1:]])
    index = pd.date_range("2001-01-01", periods=n_bars, freq="B")
    return RLMarket(index, tuple(f"S{i}" for i in range(n_assets)), opened, close)


def drift_market(n_bars: int = 1500, seed: int = 0) -> RLMarket:
    """Asset A drifts up strongly with low volatility; B and C are driftless and noisy."""
    rng = np.random.default_rng(seed)
    mu = np.array([0.002, 0.0, -0.0005])
    sigma = np.array([0.003, 0.02, 0.02])
    close = 100 * np.exp(np.cumsum(mu + sigma * rng.standard_normal((n_bars, 3)), axis=0))
    index = pd.date_range("2001-01-01", periods=n_bars, freq="B")
    return RLMarket(index, ("A", "B", "C"), close, close)
