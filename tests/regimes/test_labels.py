"""State labels: the documented rules, uniqueness, and the order of bull and bear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.regimes import LABELS, label_states


def labels(means, vols, **kwargs):
    return label_states(np.array(means), np.array(vols) ** 2, **kwargs)


@pytest.mark.parametrize(
    ("means", "vols", "expected"),
    [
        # two states: signs decide
        ([-0.001, 0.001], [0.02, 0.01], ["bear", "bull"]),
        # the lower state is flat (|mean/vol| < 0.03): sideways, not bear
        ([0.0001, 0.001], [0.01, 0.005], ["sideways", "bull"]),
        ([-0.002, -0.0001], [0.02, 0.01], ["bear", "sideways"]),
        # both flat, opposite signs: the larger |mean/vol| takes its sign
        ([-0.0001, 0.0002], [0.01, 0.01], ["sideways", "bull"]),
        ([-0.0002, 0.0001], [0.01, 0.01], ["bear", "sideways"]),
        # both flat, same sign: the upper is bull (positive) or the lower bear (negative)
        ([0.00001, 0.0002], [0.01, 0.01], ["sideways", "bull"]),
        ([-0.0002, -0.00001], [0.01, 0.01], ["bear", "sideways"]),
        # three states with a volatility well above the others (≥ 1.5×)
        (
            [-0.0016, -0.0002, 0.0009],
            [0.027, 0.012, 0.0055],
            ["high_volatility", "sideways", "bull"],
        ),
        ([-0.0016, -0.0009, 0.0009], [0.027, 0.012, 0.0055], ["high_volatility", "bear", "bull"]),
        ([-0.001, 0.002, 0.0005], [0.01, 0.03, 0.005], ["bear", "high_volatility", "bull"]),
        # three states without a standout volatility: ranks of the means
        ([-0.001, 0.0001, 0.001], [0.012, 0.010, 0.009], ["bear", "sideways", "bull"]),
        ([0.001, 0.002, 0.003], [0.012, 0.010, 0.009], ["bear", "sideways", "bull"]),
        # four states: the most volatile is always high_volatility
        (
            [-0.0027, -0.0007, 0.0001, 0.0009],
            [0.035, 0.015, 0.0097, 0.0052],
            ["high_volatility", "bear", "sideways", "bull"],
        ),
        (
            [-0.001, 0.0, 0.0005, 0.001],
            [0.010, 0.011, 0.012, 0.0105],
            ["bear", "sideways", "high_volatility", "bull"],
        ),
    ],
)
def test_label_rules(means, vols, expected):
    assert labels(means, vols) == expected


def test_thresholds_are_parameters():
    means, vols = [-0.0016, -0.0002, 0.0009], [0.027, 0.012, 0.0055]
    assert labels(means, vols, vol_ratio=3.0) == ["bear", "sideways", "bull"]
    assert labels([-0.0001, 0.001], [0.01, 0.005]) == ["sideways", "bull"]
    assert labels([-0.0001, 0.001], [0.01, 0.005], flat_sharpe=0.0) == ["bear", "bull"]


def test_two_dimensional_inputs_use_the_first_feature():
    means = np.array([[-0.001, 0.02], [0.001, 0.01]])
    variances = np.array([[0.02**2, 1.0], [0.01**2, 1.0]])
    assert label_states(means, variances) == ["bear", "bull"]


@pytest.mark.parametrize("k", [1, 5])
def test_two_to_four_states_only(k):
    with pytest.raises(ValueError, match="2 to 4 states"):
        label_states(np.zeros(k), np.ones(k))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(-0.01, 0.01), min_size=k, max_size=k),
            st.lists(st.floats(0.001, 0.05), min_size=k, max_size=k),
        )
    )
)
def test_labels_are_unique_known_and_bull_above_bear(params):
    means, vols = params
    result = labels(means, vols)
    assert len(set(result)) == len(result)
    assert set(result) <= set(LABELS)
    if "bull" in result and "bear" in result:
        assert means[result.index("bull")] >= means[result.index("bear")]
    if len(result) == 4:
        assert vols[result.index("high_volatility")] == max(vols)
