"""BSM and Black-76 prices and Greeks: hand-worked values, parity, finite differences, limits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core.derivatives import black76, black76_price, bsm, bsm_price
from core.errors import InvalidInputError


def _n_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def test_atm_call_and_put_worked_by_hand():
    # S = K = 100, T = 1, r = 5 %, σ = 20 %: d1 = (0 + 0.05 + 0.02) / 0.2 = 0.35, d2 = 0.15
    call = 100 * _n_cdf(0.35) - 100 * math.exp(-0.05) * _n_cdf(0.15)
    put = 100 * math.exp(-0.05) * _n_cdf(-0.15) - 100 * _n_cdf(-0.35)
    assert call == pytest.approx(10.450583572185565, abs=1e-12)
    g = bsm("call", 100.0, 100.0, 1.0, 0.05, 0.2)
    assert g.price == pytest.approx(10.450583572185565, abs=1e-12)
    assert bsm_price("put", 100.0, 100.0, 1.0, 0.05, 0.2) == pytest.approx(put, abs=1e-12)
    assert g.delta == pytest.approx(_n_cdf(0.35), abs=1e-15)
    pdf = math.exp(-(0.35**2) / 2) / math.sqrt(2 * math.pi)
    assert g.gamma == pytest.approx(pdf / (100 * 0.2), abs=1e-15)
    assert g.vega_per_1 == pytest.approx(100 * pdf, abs=1e-12)
    assert g.vega_per_1pct == pytest.approx(pdf, abs=1e-14)
    rho = 100 * math.exp(-0.05) * _n_cdf(0.15)
    assert g.rho_per_1 == pytest.approx(rho, abs=1e-12)
    theta = -100 * pdf * 0.2 / 2 - 0.05 * 100 * math.exp(-0.05) * _n_cdf(0.15)
    assert g.theta_per_year == pytest.approx(theta, abs=1e-12)
    assert g.theta_per_day == pytest.approx(theta / 365, abs=1e-14)
    assert g.theta_per_trading_day == pytest.approx(theta / 252, abs=1e-14)


def test_hull_textbook_example():
    # Hull, Options Futures and Other Derivatives, ex. 15.6: S=42 K=40 r=10 % σ=20 % T=0.5
    assert bsm_price("call", 42, 40, 0.5, 0.1, 0.2) == pytest.approx(4.76, abs=0.005)
    assert bsm_price("put", 42, 40, 0.5, 0.1, 0.2) == pytest.approx(0.81, abs=0.005)


def test_put_call_parity_with_dividends_over_a_grid():
    spot, strike = 100.0, np.linspace(40, 250, 30)[:, None]
    t, r, q, vol = np.array([0.01, 0.5, 2.0, 8.0]), 0.04, 0.02, 0.3
    call = bsm_price("call", spot, strike, t, r, vol, q)
    put = bsm_price("put", spot, strike, t, r, vol, q)
    np.testing.assert_allclose(
        call - put, spot * np.exp(-q * t) - strike * np.exp(-r * t), rtol=0, atol=1e-11
    )
    gc, gp = bsm("call", spot, strike, t, r, vol, q), bsm("put", spot, strike, t, r, vol, q)
    np.testing.assert_allclose(gc.delta - gp.delta, np.exp(-q * t) + 0 * strike, atol=1e-14)
    np.testing.assert_allclose(gc.gamma, gp.gamma, atol=1e-15)
    np.testing.assert_allclose(gc.vega_per_1, gp.vega_per_1, atol=1e-12)


@pytest.mark.parametrize("right", ["call", "put"])
@pytest.mark.parametrize("strike", [70.0, 100.0, 135.0])
def test_greeks_equal_central_finite_differences(right, strike):
    s, t, r, v, q = 100.0, 0.75, 0.03, 0.27, 0.015
    h = 1e-4

    def p(**kw):
        args = {"spot": s, "expiry": t, "rate": r, "vol": v, "dividend": q} | kw
        return bsm_price(right, strike=strike, **args)

    g = bsm(right, s, strike, t, r, v, q)
    assert g.delta == pytest.approx((p(spot=s + h) - p(spot=s - h)) / (2 * h), rel=1e-7)
    gamma_fd = (p(spot=s + 1e-2) - 2 * p() + p(spot=s - 1e-2)) / 1e-4
    assert g.gamma == pytest.approx(gamma_fd, rel=1e-5)
    assert g.vega_per_1 == pytest.approx((p(vol=v + h) - p(vol=v - h)) / (2 * h), rel=1e-7)
    assert g.rho_per_1 == pytest.approx((p(rate=r + h) - p(rate=r - h)) / (2 * h), rel=1e-7)
    theta_fd = -(p(expiry=t + h) - p(expiry=t - h)) / (2 * h)
    assert g.theta_per_year == pytest.approx(theta_fd, rel=1e-7)


def test_black76_worked_by_hand_and_against_bsm_with_carry_equal_to_rate():
    # F = 50, K = 48, T = 0.5, r = 4 %, σ = 25 %
    f, k, t, r, v = 50.0, 48.0, 0.5, 0.04, 0.25
    d1 = (math.log(f / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    call = math.exp(-r * t) * (f * _n_cdf(d1) - k * _n_cdf(d2))
    g = black76("call", f, k, t, r, v)
    assert g.price == pytest.approx(call, abs=1e-12)
    assert black76_price("call", f, k, t, r, v) == pytest.approx(call, abs=1e-12)
    assert g.rho_per_1 == pytest.approx(-t * call, abs=1e-12)  # the forward held fixed
    # a future is a stock paying a dividend yield equal to the rate
    as_stock = bsm("put", f, k, t, r, v, dividend=r)
    b76 = black76("put", f, k, t, r, v)
    for name in ("price", "delta", "gamma", "theta_per_year", "vega_per_1"):
        assert getattr(b76, name) == pytest.approx(getattr(as_stock, name), abs=1e-12)
    h = 1e-4
    theta_fd = -(black76_price("put", f, k, t + h, r, v) - black76_price("put", f, k, t - h, r, v))
    assert b76.theta_per_year == pytest.approx(theta_fd / (2 * h), rel=1e-7)
    rho_fd = black76_price("put", f, k, t, r + h, v) - black76_price("put", f, k, t, r - h, v)
    assert b76.rho_per_1 == pytest.approx(rho_fd / (2 * h), rel=1e-7)


def test_expiry_zero_and_vol_zero_limits_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expired = bsm(["call", "put", "call"], 100.0, [90.0, 90.0, 100.0], 0.0, 0.05, 0.2)
        flat = bsm(["call", "put"], 100.0, [90.0, 110.0], 1.0, 0.05, 0.0, 0.02)
        b76 = black76("put", 100.0, 110.0, 0.0, 0.05, 0.3)
    np.testing.assert_array_equal(expired.price, [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(expired.delta, [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(expired.gamma, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(expired.vega_per_1, [0.0, 0.0, 0.0])
    # σ = 0: the forward intrinsic value, discounted
    call = 100 * math.exp(-0.02) - 90 * math.exp(-0.05)
    put = 110 * math.exp(-0.05) - 100 * math.exp(-0.02)
    np.testing.assert_allclose(flat.price, [call, put], atol=1e-12)
    np.testing.assert_allclose(flat.delta, [math.exp(-0.02), -math.exp(-0.02)], atol=1e-15)
    np.testing.assert_allclose(flat.rho_per_1, [90 * math.exp(-0.05), -110 * math.exp(-0.05)])
    # the drift alone: d/dt of S e^{-qT} - K e^{-rT} is q·S·e^{-qT} - r·K·e^{-rT}
    theta_call = 0.02 * 100 * math.exp(-0.02) - 0.05 * 90 * math.exp(-0.05)
    assert flat.theta_per_year[0] == pytest.approx(theta_call, abs=1e-12)
    assert b76.price == 10.0
    # the limit is continuous: a tiny volatility prices like zero
    assert bsm_price("call", 100.0, 90.0, 1.0, 0.05, 1e-9, 0.02) == pytest.approx(call, abs=1e-12)


def test_inputs_broadcast_and_scalars_give_floats():
    g = bsm("call", 100.0, np.array([[90.0], [100.0], [110.0]]), np.array([0.25, 0.5]), 0.01, 0.2)
    assert g.price.shape == (3, 2)
    assert g.price[2, 1] == pytest.approx(bsm_price("call", 100.0, 110.0, 0.5, 0.01, 0.2))
    assert isinstance(bsm("put", 100, 100, 1, 0.0, 0.2).gamma, float)
    mixed = bsm_price(np.array([True, False]), 100.0, 100.0, 1.0, 0.05, 0.2)
    np.testing.assert_allclose(mixed, [10.450583572185565, 5.573526022256971], atol=1e-12)
    words = bsm_price(np.array(["Call", "P"]), 100.0, 100.0, 1.0, 0.05, 0.2)
    np.testing.assert_array_equal(words, mixed)
    assert list(g.as_dict()) == [
        "price",
        "delta",
        "gamma",
        "theta_per_year",
        "theta_per_day",
        "theta_per_trading_day",
        "vega_per_1",
        "vega_per_1pct",
        "rho_per_1",
        "rho_per_1pct",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"right": "straddle"}, "right"),
        ({"right": np.array(["call", "swap"])}, "right"),
        ({"spot": 0.0}, "spot"),
        ({"strike": np.array([100.0, -1.0])}, "strike"),
        ({"expiry": -0.1}, "expiry"),
        ({"vol": -0.2}, "vol"),
        ({"spot": "abc"}, "spot"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(kwargs, field):
    args = {"right": "call", "spot": 100.0, "strike": 100.0, "expiry": 1.0}
    args |= {"rate": 0.05, "vol": 0.2} | kwargs
    with pytest.raises(InvalidInputError, match=f"^{field}:"):
        bsm(**args)


def test_nan_inputs_propagate():
    out = bsm_price("call", np.array([100.0, np.nan]), 100.0, 1.0, 0.05, 0.2)
    assert out[0] == pytest.approx(10.450583572185565) and np.isnan(out[1])
