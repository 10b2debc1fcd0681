"""The volatility smile and the chain it prices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.derivatives import OptionMarket, SmileParams, bsm, option_chain, smile_vol


def test_smile_by_hand():
    smile = SmileParams(atm_vol=0.2, skew=-0.05, curvature=0.02, min_vol=0.05)
    # at the forward k = 0; at K = F·e^{0.5} with T = 0.25, k = 0.5 / 0.5 = 1
    assert smile_vol(smile, 105.0, 105.0, 0.25) == pytest.approx(0.2)
    assert smile_vol(smile, 105.0 * math.exp(0.5), 105.0, 0.25) == pytest.approx(0.17)
    assert smile_vol(smile, 105.0 * math.exp(-0.5), 105.0, 0.25) == pytest.approx(0.27)
    steep = SmileParams(atm_vol=0.1, skew=-1.0, curvature=0.0, min_vol=0.05)
    assert smile_vol(steep, 200.0, 100.0, 1.0) == 0.05  # floored


def test_chain_prices_at_the_smile_and_keeps_parity():
    market = OptionMarket(spot=100.0, rate=0.02, dividend=0.01)
    strikes = np.arange(70.0, 131.0, 10.0)
    chain = option_chain(market, strikes, 0.5, SmileParams())
    call = bsm("call", 100.0, strikes, 0.5, 0.02, chain["vol"].to_numpy(), 0.01)
    np.testing.assert_allclose(chain["call_price"], call.price, atol=1e-12)
    parity = 100 * np.exp(-0.01 * 0.5) - strikes * np.exp(-0.02 * 0.5)
    np.testing.assert_allclose(chain["call_price"] - chain["put_price"], parity, atol=1e-12)
    np.testing.assert_allclose(chain["call_iv"], chain["vol"], atol=1e-9)
    assert chain["vol"].iloc[0] > chain["vol"].iloc[-1]  # the default skew is negative
