"""Implied volatility: the round trip over moneyness and maturity, bounds and their reasons."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.derivatives import bsm, bsm_price, implied_vol

EPS = np.finfo(float).eps
STRIKES = 100.0 * np.exp(np.linspace(-2.0, 2.0, 41))  # 13.5 .. 739: deep ITM to deep OTM
EXPIRIES = np.array([1 / 365, 0.02, 0.1, 0.5, 1.0, 3.0, 10.0])
VOLS = np.array([0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0])


def _well_posed(g):
    """Prices whose time value survives double precision: a 1e-10 move in σ moves the price
    by more than 8 ulps (deep ITM short-dated prices are their intrinsic value to the last
    bit, deep OTM ones underflow to 0; no solver can recover σ from those)."""
    return (g.vega_per_1 * 1e-10 > 8 * EPS * g.price) & (g.price > 1e-300)


@pytest.mark.parametrize("right", ["call", "put"])
@pytest.mark.parametrize(("rate", "dividend"), [(0.0, 0.0), (0.03, 0.01), (0.08, 0.12)])
def test_round_trip_over_moneyness_maturity_and_vol(right, rate, dividend):
    k, t, v = np.meshgrid(STRIKES, EXPIRIES, VOLS, indexing="ij")
    g = bsm(right, 100.0, k, t, rate, v, dividend)
    posed = _well_posed(g)
    assert posed.sum() > 0.55 * posed.size
    # the posed set reaches deep into and out of the money (strike e^{±2} of spot)
    assert posed[0].any() and posed[-1].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = implied_vol(right, g.price, 100.0, k, t, rate, dividend)
    assert np.all(result.reason[posed] == "")
    np.testing.assert_allclose(result.iv[posed], v[posed], rtol=0, atol=1e-9)


def test_round_trip_black76():
    k, t, v = np.meshgrid(STRIKES, EXPIRIES, VOLS[1:6], indexing="ij")
    g = bsm("put", 80.0, k, t, 0.04, v, dividend=0.04)  # Black-76 = BSM with q = r
    posed = _well_posed(g)
    result = implied_vol("put", g.price, 80.0, k, t, 0.04, black76=True)
    np.testing.assert_allclose(result.iv[posed], v[posed], rtol=0, atol=1e-9)


def test_random_chain_round_trip():
    rng = np.random.default_rng(7)
    n = 20_000
    k, t, v = rng.uniform(60, 160, n), rng.uniform(0.05, 2.0, n), rng.uniform(0.05, 0.9, n)
    right = rng.random(n) < 0.5
    price = bsm_price(right, 100.0, k, t, 0.02, v, 0.01)
    g = bsm(right, 100.0, k, t, 0.02, v, 0.01)
    posed = _well_posed(g)
    result = implied_vol(right, price, 100.0, k, t, 0.02, 0.01)
    assert np.max(np.abs(result.iv[posed] - v[posed])) <= 1e-9


def test_known_value():
    result = implied_vol("call", 10.450583572185565, 100.0, 100.0, 1.0, 0.05)
    assert result.iv == pytest.approx(0.2, abs=1e-12)
    assert result.reason == ""


def test_prices_outside_the_bounds_give_nan_and_the_reason():
    # call: lower bound S - K e^{-rT} = 100 - 90 e^{-0.05} = 14.389..., upper bound S = 100
    prices = np.array([14.0, 100.0, 150.0, np.nan, 20.0])
    expiry = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    result = implied_vol("call", prices, 100.0, 90.0, expiry, 0.05)
    assert np.isnan(result.iv).all()
    assert list(result.reason) == [
        "below intrinsic (no-arbitrage lower bound)",
        "above the upper bound",
        "above the upper bound",
        "price is not a number",
        "expired",
    ]
    put = implied_vol("put", 95.2, 100.0, 100.0, 1.0, 0.05)  # upper bound K e^{-rT} = 95.12
    assert np.isnan(put.iv) and put.reason == "above the upper bound"


def test_price_at_the_lower_bound_is_zero_vol():
    lower = 100.0 * np.exp(-0.02) - 90.0 * np.exp(-0.05)
    result = implied_vol("call", lower, 100.0, 90.0, 1.0, 0.05, 0.02)
    assert result.iv == 0.0 and result.reason == ""
    assert implied_vol("put", 0.0, 100.0, 90.0, 1.0, 0.05).iv == 0.0


def test_extreme_but_resolvable_prices():
    # a 1-day 1 % vol ATM option, a 10-year 150 % vol one, a far OTM wing at 5 % of spot
    cases = [("call", 100.0, 1 / 365, 0.01), ("put", 100.0, 10.0, 1.5), ("call", 300.0, 2.0, 0.6)]
    for right, strike, t, vol in cases:
        price = bsm_price(right, 100.0, strike, t, 0.01, vol)
        assert implied_vol(right, price, 100.0, strike, t, 0.01).iv == pytest.approx(vol, abs=1e-9)
