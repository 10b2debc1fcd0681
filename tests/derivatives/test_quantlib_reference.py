"""BSM prices and Greeks against QuantLib's analytic European engine (skipped without QuantLib).

Both sides use Actual/365 Fixed: an expiry of n days is T = n/365 here and a maturity date
n days after the evaluation date there. QuantLib's theta is per year, its vega and rho per
1.00, which are :class:`core.derivatives.Greeks`' ``theta_per_year``, ``vega_per_1`` and
``rho_per_1``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.derivatives import bsm, implied_vol

ql = pytest.importorskip("QuantLib")

TODAY = ql.Date(15, 1, 2026)
FIELDS = {
    "price": "NPV",
    "delta": "delta",
    "gamma": "gamma",
    "theta_per_year": "theta",
    "vega_per_1": "vega",
    "rho_per_1": "rho",
}
CASES = list(
    itertools.product(
        ("call", "put"),
        (100.0,),
        (50.0, 80.0, 100.0, 120.0, 200.0),  # strike
        (7, 91, 365, 1825),  # days
        (0.0, 0.05),  # rate
        (0.0, 0.03),  # dividend
        (0.1, 0.35, 0.8),  # vol
    )
)


def _quantlib(right, spot, strike, days, rate, dividend, vol):
    ql.Settings.instance().evaluationDate = TODAY
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, dividend, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, rate, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, dc)),
    )
    kind = ql.Option.Call if right == "call" else ql.Option.Put
    option = ql.VanillaOption(
        ql.PlainVanillaPayoff(kind, strike), ql.EuropeanExercise(TODAY + days)
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return {ours: getattr(option, theirs)() for ours, theirs in FIELDS.items()}


@pytest.fixture(scope="module")
def reference():
    rows = [_quantlib(*case) for case in CASES]
    return {name: np.array([row[name] for row in rows]) for name in FIELDS}


@pytest.fixture(scope="module")
def ours():
    right, spot, strike, days, rate, dividend, vol = (np.array(c) for c in zip(*CASES, strict=True))
    return bsm(right, spot, strike, days / 365.0, rate, vol, dividend)


@pytest.mark.parametrize("name", list(FIELDS))
def test_prices_and_greeks_equal_quantlib_to_1e_12(reference, ours, name):
    # absolute for |value| ≤ 1, relative above (a 5-year rho is ~400 per 1.00 of rate)
    expected = reference[name]
    got = getattr(ours, name)
    scale = np.maximum(1.0, np.abs(expected))
    assert np.max(np.abs(got - expected) / scale) <= 1e-12


def test_single_case_matches_quantlib_by_value():
    ql_values = _quantlib("put", 100.0, 110.0, 182, 0.04, 0.01, 0.25)
    g = bsm("put", 100.0, 110.0, 182 / 365.0, 0.04, 0.25, 0.01)
    for name, value in ql_values.items():
        assert getattr(g, name) == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_implied_vol_inverts_quantlib_prices(reference):
    right, spot, strike, days, rate, dividend, vol = (np.array(c) for c in zip(*CASES, strict=True))
    result = implied_vol(right, reference["price"], spot, strike, days / 365.0, rate, dividend)
    # QuantLib's prices differ from ours by up to 1e-12 of the price: where that moves the
    # volatility by more than 1e-10 (deep ITM/OTM, little vega), the inversion is ill-posed
    vega = bsm(right, spot, strike, days / 365.0, rate, vol, dividend).vega_per_1
    posed = vega * 1e-10 > 1e-12 * np.maximum(reference["price"], 1.0)
    assert posed.sum() > 0.6 * len(CASES)
    np.testing.assert_allclose(result.iv[posed], vol[posed], rtol=0, atol=1e-9)
