"""Closes from the market-data service in, a portfolio's target weights out."""

from __future__ import annotations

import pandas as pd
import pytest

from core.allocation import (
    AllocationError,
    AllocationSpec,
    allocate,
    apply_to_portfolio,
    load_prices,
)
from core.marketdata import load_bundled
from core.portfolio import PortfolioError


def test_load_prices_bounds_the_dates_inclusively(ws):
    prices = load_prices(ws.market, ["aapl", "KO"], "2020-03-02", "2020-03-31")
    assert list(prices.columns) == ["AAPL", "KO"]
    assert prices.index[0] == pd.Timestamp("2020-03-02")
    assert prices.index[-1] == pd.Timestamp("2020-03-31")
    expected = load_bundled("KO")["close"].loc["2020-03-02":"2020-03-31"]
    pd.testing.assert_series_equal(prices["KO"], expected, check_names=False, check_freq=False)


def test_returns_start_at_the_second_price_of_the_range(ws):
    prices = load_prices(ws.market, ["AAPL", "KO"], "2020-03-02", "2020-03-31")
    result = allocate(prices, AllocationSpec(method="equal"))
    assert result.start.isoformat() == "2020-03-03"
    assert result.n_returns == len(prices) - 1 == 21


def test_unknown_symbol_is_named(ws):
    with pytest.raises(AllocationError, match="unknown symbol NOPE") as err:
        load_prices(ws.market, ["AAPL", "NOPE"])
    assert err.value.field == "symbols"


def test_a_range_without_prices_is_named(ws):
    with pytest.raises(AllocationError, match="no closes of AAPL, KO between 2030-01-01"):
        load_prices(ws.market, ["AAPL", "KO"], "2030-01-01", "2030-02-01")


def test_duplicate_symbols_are_rejected(ws):
    with pytest.raises(AllocationError, match="KO listed twice"):
        load_prices(ws.market, ["KO", "AAPL", "ko"])


def test_apply_sets_the_portfolio_target_weights(ws):
    ws.portfolios.create("Growth", 100_000)
    prices = load_prices(ws.market, ["AAPL", "KO", "XOM"], "2019-01-01", "2021-12-31")
    result = allocate(prices, AllocationSpec(method="min_variance", max_weight=0.5))
    applied = apply_to_portfolio(ws.portfolios, "Growth", result)
    stored = ws.export_portfolio("Growth").target_weights
    assert stored == applied
    assert stored == pytest.approx(result.weights, abs=1e-12)
    assert sum(stored.values()) == pytest.approx(1.0)


def test_apply_to_a_missing_portfolio_fails(ws):
    result = allocate(load_prices(ws.market, ["AAPL", "KO"]), AllocationSpec(method="equal"))
    with pytest.raises(PortfolioError, match="no portfolio named 'Nowhere'"):
        apply_to_portfolio(ws.portfolios, "Nowhere", result)
