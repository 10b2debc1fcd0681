"""The one rounding rule of order quantities, worked by hand."""

from __future__ import annotations

import math

import pytest

import core.rebalance
from core.execution import Sizing, floor_to_step
from core.instruments import Instrument


@pytest.mark.parametrize(
    ("quantity", "step", "expected"),
    [
        (2.7, 1, 2.0),  # 2.7 whole shares → 2
        (-2.7, 1, -2.0),  # toward zero, not toward −∞ (−3)
        (12, 5, 10.0),  # two lots of 5
        (-12, 5, -10.0),
        (1.239, 0.01, 123 * 0.01),  # 123.9 hundredths → 123
        (2.999999, 1, 2.0),  # 1e-6 short of 3 is more than the tolerance
        (3 - 1e-12, 1, 3.0),  # 1e-12 short of 3 is float noise: 3
        (0.4, 1, 0.0),
        (0.0, 0.01, 0.0),
    ],
)
def test_floor_to_step_rounds_toward_zero_to_whole_steps(quantity, step, expected):
    assert floor_to_step(quantity, step) == expected


def test_float_noise_does_not_lose_a_step():
    assert math.floor(0.3 / 0.1) == 2  # 0.3 / 0.1 is 2.9999999999999996 in floats
    assert floor_to_step(0.3, 0.1) == 3 * 0.1  # three steps of 0.1, not two
    assert floor_to_step(-0.3, 0.1) == -3 * 0.1
    assert floor_to_step(0.7, 0.1) == 7 * 0.1  # 0.7 / 0.1 is 6.999999999999999


def test_rebalancing_uses_the_same_rule():
    assert core.rebalance.floor_step is floor_to_step


def test_sizing_never_goes_below_zero_units():
    # 10 % of a negative equity (−1 000) at 10 would be −10 units: sizing gives none
    stock = Instrument(symbol="X")
    units = Sizing(method="percent", percent=0.1).units(10.0, 0.0, -1_000.0, stock)
    assert units == 0.0
