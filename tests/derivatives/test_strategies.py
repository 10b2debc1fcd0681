"""Multi-leg strategies: payoffs, breakevens and extremes against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from core.derivatives import (
    Leg,
    OptionMarket,
    Strategy,
    analyze,
    bsm,
    bsm_price,
    butterfly,
    calendar,
    iron_condor,
    pnl_at_expiry,
    pnl_today,
    straddle,
    strangle,
    vertical,
)
from core.errors import InvalidInputError

MARKET = OptionMarket(spot=100.0, vol=0.25, rate=0.03, dividend=0.0)


def _legs(*rows, multiplier=1.0):
    legs = tuple(Leg(right=r, strike=k, expiry=0.25, quantity=q, premium=p) for r, k, q, p in rows)
    return Strategy(legs=legs, multiplier=multiplier)


def test_bull_call_vertical_by_hand():
    # long 95 call at 7, short 105 call at 2: a 5 debit, 10 wide
    s = _legs(("call", 95, 1, 7.0), ("call", 105, -1, 2.0))
    np.testing.assert_allclose(pnl_at_expiry(s, [80, 95, 100, 103, 105, 130]), [-5, -5, 0, 3, 5, 5])
    a = analyze(s, MARKET)
    assert a.net_premium == 5.0
    assert a.breakevens == (100.0,)
    assert (a.max_profit, a.max_loss) == (5.0, -5.0)
    assert not a.max_profit_unlimited and not a.max_loss_unlimited and a.exact


def test_long_straddle_by_hand():
    # call 6 + put 5 at 100: loses 11 at 100, breakevens 89 and 111, profit unlimited
    s = _legs(("call", 100, 1, 6.0), ("put", 100, 1, 5.0))
    np.testing.assert_allclose(pnl_at_expiry(s, [0, 89, 100, 111, 150]), [89, 0, -11, 0, 39])
    a = analyze(s, MARKET)
    assert a.breakevens == pytest.approx((89.0, 111.0))
    assert a.max_loss == -11.0 and a.max_profit is None and a.max_profit_unlimited


def test_short_strangle_by_hand():
    # sell the 90 put at 2 and the 110 call at 3: keep 5 between, breakevens 85 and 115
    s = _legs(("put", 90, -1, 2.0), ("call", 110, -1, 3.0))
    np.testing.assert_allclose(pnl_at_expiry(s, [80, 85, 100, 115, 125]), [-5, 0, 5, 0, -10])
    a = analyze(s, MARKET)
    assert a.net_premium == -5.0
    assert a.breakevens == pytest.approx((85.0, 115.0))
    assert a.max_profit == 5.0 and a.max_loss is None and a.max_loss_unlimited
    # at S = 0 the short put loses 90 - 5 = 85: large but bounded below by the strike
    assert pnl_at_expiry(s, [0.0])[0] == -85.0


def test_short_iron_condor_by_hand_with_multiplier():
    # credit -0.5 + 2 + 2.5 - 0.8 = 3.2; wings 10 wide: max loss 6.8; per 100 units
    s = _legs(
        ("put", 80, 1, 0.5),
        ("put", 90, -1, 2.0),
        ("call", 110, -1, 2.5),
        ("call", 120, 1, 0.8),
        multiplier=100,
    )
    a = analyze(s, MARKET)
    assert a.net_premium == pytest.approx(-320.0)
    assert a.max_profit == pytest.approx(320.0) and a.max_loss == pytest.approx(-680.0)
    assert a.breakevens == pytest.approx((86.8, 113.2))
    np.testing.assert_allclose(
        pnl_at_expiry(s, [50, 80, 86.8, 100, 113.2, 120, 200]),
        [-680, -680, 0, 320, 0, -680, -680],
        atol=1e-9,
    )


def test_long_call_butterfly_by_hand():
    # 12 - 2×5 + 1.5 = 3.5 debit; peak 10 - 3.5 = 6.5 at 100; breakevens 93.5 and 106.5
    s = _legs(("call", 90, 1, 12.0), ("call", 100, -2, 5.0), ("call", 110, 1, 1.5))
    a = analyze(s, MARKET)
    assert a.net_premium == pytest.approx(3.5)
    assert (a.max_profit, a.max_loss) == pytest.approx((6.5, -3.5))
    assert a.breakevens == pytest.approx((93.5, 106.5))


def test_builders_price_legs_with_bsm_and_signs():
    v = vertical(MARKET, "put", 95, 105, 0.5, bull=True)
    assert [leg.quantity for leg in v.legs] == [1.0, -1.0]
    assert v.legs[0].premium == bsm_price("put", 100, 95, 0.5, 0.03, 0.25)
    assert v.net_premium < 0  # a bull put spread is a credit
    assert [leg.quantity for leg in butterfly(MARKET, (90, 100, 110), 0.5).legs] == [1, -2, 1]
    condor = iron_condor(MARKET, (80, 90, 110, 120), 0.5)
    assert [(leg.right, leg.quantity) for leg in condor.legs] == [
        ("put", 1.0),
        ("put", -1.0),
        ("call", -1.0),
        ("call", 1.0),
    ]
    assert condor.net_premium < 0
    assert strangle(MARKET, 90, 110, 0.5, long=False).net_premium < 0
    cal = calendar(MARKET, 100, 0.1, 0.5)
    assert [(leg.expiry, leg.quantity) for leg in cal.legs] == [(0.1, -1.0), (0.5, 1.0)]


def test_net_greeks_sum_the_legs():
    s = straddle(MARKET, 100, 0.5, quantity=2, multiplier=100)
    call = bsm("call", 100, 100, 0.5, 0.03, 0.25)
    put = bsm("put", 100, 100, 0.5, 0.03, 0.25)
    a = analyze(s, MARKET)
    assert a.greeks["delta"] == pytest.approx(200 * (call.delta + put.delta), abs=1e-10)
    assert a.greeks["vega_per_1pct"] == pytest.approx(400 * call.vega_per_1pct, abs=1e-10)
    assert a.greeks["price"] == pytest.approx(s.net_premium, abs=1e-9)  # priced at market


def test_pnl_today_is_zero_at_the_build_market_and_meets_expiry():
    s = iron_condor(MARKET, (80, 90, 110, 120), 0.5)
    assert pnl_today(s, [100.0], MARKET)[0] == pytest.approx(0.0, abs=1e-12)
    spots = np.linspace(60, 140, 17)
    np.testing.assert_allclose(pnl_today(s, spots, MARKET, elapsed=0.5), pnl_at_expiry(s, spots))


def test_calendar_is_model_valued_at_the_front_expiry():
    s = calendar(MARKET, 100, 0.1, 0.5)
    far = bsm_price("call", 100.0, 100, 0.4, 0.03, 0.25)
    # at the front expiry with S = K the near call is worth 0 and the far one BSM(τ = 0.4)
    assert pnl_at_expiry(s, [100.0], MARKET)[0] == pytest.approx(far - s.net_premium)
    a = analyze(s, MARKET)
    assert not a.exact and len(a.breakevens) == 2
    low, high = a.breakevens
    assert low < 100 < high
    np.testing.assert_allclose(pnl_at_expiry(s, [low, high], MARKET), 0.0, atol=1e-9)
    assert not a.max_loss_unlimited and not a.max_profit_unlimited  # q = 0: slope 0 at ∞
    assert a.max_loss == pytest.approx(-s.net_premium, rel=1e-3)  # far from the strike
    with pytest.raises(InvalidInputError, match="market"):
        pnl_at_expiry(s, [100.0])


def test_bad_strategies_are_refused():
    with pytest.raises(InvalidInputError, match="vertical: values must increase"):
        vertical(MARKET, "call", 105, 95, 0.5)
    with pytest.raises(ValidationError, match="non-zero quantity"):
        Leg(right="call", strike=100, expiry=0.5, quantity=0)
    with pytest.raises(ValidationError):
        Strategy(legs=())
