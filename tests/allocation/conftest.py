"""Shared data: five years of the twenty bundled stocks, and a small synthetic universe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.allocation import estimate
from core.marketdata import load_bundled
from core.marketdata._bundled import STOCK_SYMBOLS


@pytest.fixture(scope="module")
def stock_prices() -> pd.DataFrame:
    """Closes of the 20 bundled stocks, 2018-2022 (1,257 prices, 1,256 returns)."""
    closes = {s: load_bundled(s)["close"] for s in STOCK_SYMBOLS}
    return pd.DataFrame(closes).loc["2018-01-01":"2022-12-31"].dropna()


@pytest.fixture(scope="module")
def stock_moments(stock_prices):
    return estimate(stock_prices)


@pytest.fixture(scope="module")
def stock_returns(stock_prices) -> pd.DataFrame:
    """Returns computed independently of core.allocation (pandas), from the second price."""
    return stock_prices.pct_change().iloc[1:]


def synthetic_prices(n_assets: int, n_days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    drift = rng.uniform(0.0002, 0.0008, n_assets)
    vol = rng.uniform(0.008, 0.03, n_assets)
    market = rng.normal(0, 0.01, (n_days, 1))
    returns = drift + 0.6 * market + rng.normal(0, 1, (n_days, n_assets)) * vol
    prices = 100 * np.cumprod(1 + np.vstack([np.zeros(n_assets), returns]), axis=0)
    index = pd.bdate_range("2020-01-01", periods=n_days + 1)
    return pd.DataFrame(prices, index=index, columns=[f"S{i:02d}" for i in range(n_assets)])
