"""The page's parameter models: days to years, the model switch, the implied vol."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from core.derivatives import PricerParams, black76, bsm


def test_pricer_params_dispatch_to_the_model():
    p = PricerParams(right="put", spot=50, strike=55, expiry_days=73, rate=0.04, vol=0.3)
    assert p.expiry == pytest.approx(0.2)  # 73 / 365
    assert p.greeks().as_dict() == bsm("put", 50, 55, 0.2, 0.04, 0.3).as_dict()
    f = p.model_copy(update={"model": "black76", "dividend": 0.5})  # ignored by Black-76
    assert f.greeks().price == black76("put", 50, 55, 0.2, 0.04, 0.3).price
    spots = np.array([40.0, 50.0, 60.0])
    np.testing.assert_array_equal(
        p.greeks(spot=spots).price, bsm("put", spots, 55, 0.2, 0.04, 0.3).price
    )
    assert f.implied(f.greeks().price).iv == pytest.approx(0.3, abs=1e-12)


def test_pricer_params_refuse_out_of_range_inputs():
    with pytest.raises(ValidationError):
        PricerParams(vol=-0.1)
    with pytest.raises(ValidationError):
        PricerParams(model="binomial")
