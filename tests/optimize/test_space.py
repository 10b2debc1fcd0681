"""Search spaces from params models: dimensions, steps, grids, samples and feasibility."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from core.optimize import Dimension, SearchSpace
from core.strategies import StrategyParams, get_strategy

SMA = get_strategy("sma_crossover").Params
MEAN_REVERSION = get_strategy("mean_reversion").Params


def test_from_params_takes_bounds_steps_and_kinds_from_the_model():
    space = SearchSpace.from_params(MEAN_REVERSION)

    lookback, entry, exit_, long_short = space.dimensions
    assert (lookback.kind, lookback.low, lookback.high, lookback.step) == ("int", 3, 500, 1)
    assert (entry.kind, entry.low, entry.high, entry.step) == ("float", 0.1, 5, 0.1)
    assert exit_.n_values == 51
    assert (long_short.kind, long_short.low, long_short.high) == ("bool", 0, 1)
    np.testing.assert_array_equal(space.default(), [20, 2.0, 0.5, 0])


def test_overrides_narrow_ranges_change_steps_and_pin_parameters():
    space = SearchSpace.from_params(
        SMA, {"fast": (5, 20, 5), "slow": (30, 30)}, fixed={"long_short": True}
    )

    assert space.names == ("fast",)
    assert space.fixed == {"slow": 30, "long_short": True}
    np.testing.assert_array_equal(space.dimensions[0].values(), [5, 10, 15, 20])
    assert space.to_params(np.array([10.0])) == {"fast": 10, "slow": 30, "long_short": True}


def test_overrides_outside_the_declared_bounds_or_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="leaves the declared"):
        SearchSpace.from_params(SMA, {"fast": (1, 20)})
    with pytest.raises(ValueError, match="no parameter"):
        SearchSpace.from_params(SMA, {"fastest": (2, 20)})


def test_text_parameters_are_fixed_at_their_default():
    space = SearchSpace.from_params(get_strategy("rebalancer").Params, {"every": (5, 10)})

    # every parameter but the text one is searchable; the text one stays at its default
    assert "weights" not in space.names and space.names[0] == "every"
    assert set(space.names) == set(get_strategy("rebalancer").Params.model_fields) - {"weights"}
    assert space.fixed == {"weights": ""}


def test_float_steps_give_clean_decimal_values():
    space = SearchSpace.from_params(MEAN_REVERSION, {"entry_z": (0.1, 1.0, 0.1)})
    values = space.dimensions[1].values()

    assert values.tolist() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert space.to_params(np.array([20, 0.30000000000000004, 0.2, 0]))["entry_z"] == 0.3


def test_grid_is_the_cartesian_product_in_order():
    space = SearchSpace.from_params(SMA, {"fast": (5, 15, 5), "slow": (20, 30, 10)})

    grid = space.grid()

    assert grid.shape == (3 * 2 * 2, 3) == (space.size, space.n_dims)
    np.testing.assert_array_equal(grid[:4], [[5, 20, 0], [5, 20, 1], [5, 30, 0], [5, 30, 1]])
    assert len({tuple(p) for p in grid}) == len(grid)


def test_grid_refuses_too_many_points_and_continuous_dimensions():
    with pytest.raises(ValueError, match="more than max_points"):
        SearchSpace.from_params(SMA).grid(max_points=10_000)
    continuous = SearchSpace([Dimension("x", "float", 0, 1)])
    with pytest.raises(ValueError, match="continuous"):
        continuous.grid()


def test_sample_is_seeded_uniform_and_on_the_steps():
    space = SearchSpace.from_params(MEAN_REVERSION, {"lookback": (10, 20, 2)})

    a, b = space.sample(7, 2000), space.sample(7, 2000)

    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(space.round(a), a)
    assert set(a[:, 0]) == {10, 12, 14, 16, 18, 20}
    counts = np.unique(a[:, 0], return_counts=True)[1]
    assert counts.min() > 2000 / 6 * 0.8


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4))
def test_round_gives_an_allowed_value_nearest_to_the_clipped_point(values):
    space = SearchSpace.from_params(MEAN_REVERSION)
    x = np.array(values)

    rounded = space.round(x)

    assert space.contains(rounded)
    for d, v, r in zip(space.dimensions, space.clip(x), rounded, strict=True):
        allowed = d.values()
        assert r in allowed
        assert abs(r - v) <= np.min(np.abs(allowed - v)) + 1e-9


def test_bounds_are_the_allowed_extremes():
    space = SearchSpace.from_params(SMA, {"fast": (2, 11, 3)})

    assert space.bounds() == [(2, 11), (3, 400), (0, 1)]
    assert SearchSpace.from_params(SMA, {"fast": (2, 12, 3)}).bounds()[0] == (2, 11)


def test_model_validators_make_points_infeasible():
    space = SearchSpace.from_params(SMA, {"fast": (5, 50, 5), "slow": (20, 60, 10)})

    assert space.is_feasible(np.array([10, 20, 0]))
    assert "must be shorter than slow" in space.check(np.array([30, 20, 0]))
    grid = space.grid()
    np.testing.assert_array_equal(space.feasible(grid), grid[:, 0] < grid[:, 1])


def test_choices_are_indices_and_vector_inverts_to_params():
    class Model(StrategyParams):
        mode: str = "x"
        side: Literal["long", "short", "both"] = "both"
        rate: float = Field(0.5, ge=0, le=1)

    space = SearchSpace.from_params(Model)

    assert space.names == ("side", "rate") and space.fixed == {"mode": "x"}
    params = space.to_params(np.array([1.0, 0.25]))
    assert params == {"side": "short", "rate": 0.25, "mode": "x"}
    np.testing.assert_array_equal(space.vector(params), [1.0, 0.25])
    assert space.dimensions[1].n_values is None
    assert math.isclose(space.dimensions[1].span, 1.0)
