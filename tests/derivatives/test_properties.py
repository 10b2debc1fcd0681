"""Properties of the pricing functions over random inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.derivatives import bsm, bsm_price, implied_vol

EPS = np.finfo(float).eps
rights = st.sampled_from(["call", "put"])
spots = st.floats(1.0, 1000.0)
moneyness = st.floats(0.3, 3.0)
expiries = st.floats(1 / 365, 10.0)
rates = st.floats(-0.02, 0.15)
dividends = st.floats(0.0, 0.1)
vols = st.floats(0.01, 2.0)


@settings(max_examples=100, deadline=None)
@given(rights, spots, moneyness, expiries, rates, dividends, vols)
def test_price_within_no_arbitrage_bounds(right, s, m, t, r, q, v):
    k = s * m
    price = bsm_price(right, s, k, t, r, v, q)
    sq, kr = s * np.exp(-q * t), k * np.exp(-r * t)
    theta = 1.0 if right == "call" else -1.0
    lower = max(theta * (sq - kr), 0.0)
    upper = sq if right == "call" else kr
    tol = 1e-12 * max(s, k)
    assert lower - tol <= price <= upper + tol


@settings(max_examples=100, deadline=None)
@given(spots, moneyness, expiries, rates, dividends, vols)
def test_parity_and_greek_relations(s, m, t, r, q, v):
    k = s * m
    c, p = bsm("call", s, k, t, r, v, q), bsm("put", s, k, t, r, v, q)
    scale = max(s, k)
    assert abs((c.price - p.price) - (s * np.exp(-q * t) - k * np.exp(-r * t))) <= 1e-12 * scale
    assert abs((c.delta - p.delta) - np.exp(-q * t)) <= 1e-14
    assert c.gamma >= 0 and c.vega_per_1 >= 0
    # rho call − rho put = K·T·e^{-rT}
    assert abs((c.rho_per_1 - p.rho_per_1) - k * t * np.exp(-r * t)) <= 1e-11 * scale * t


@settings(max_examples=100, deadline=None)
@given(rights, spots, moneyness, expiries, rates, dividends, vols)
def test_implied_vol_round_trip_where_well_posed(right, s, m, t, r, q, v):
    k = s * m
    g = bsm(right, s, k, t, r, v, q)
    result = implied_vol(right, g.price, s, k, t, r, q)
    if g.vega_per_1 * 1e-10 > 8 * EPS * g.price and g.price > 1e-300:
        assert result.reason == ""
        assert abs(result.iv - v) <= 1e-9
    else:  # ill-posed: still a number that reproduces the price, or at the lower bound
        assert result.reason in ("", "below intrinsic (no-arbitrage lower bound)")
