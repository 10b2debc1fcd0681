"""RegimeParams: parameters and size scales chosen by regime label."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.regimes import RegimeChoice, RegimeParams

PARAMS = RegimeParams(
    base={"fast": 20, "slow": 100},
    by_regime={"bear": {"fast": 10}, "high_volatility": {"slow": 200}},
    size_scale={"bear": 0.5, "high_volatility": 0.0},
)


def test_regime_overrides_are_merged_over_the_base():
    assert PARAMS.for_regime("bear") == RegimeChoice({"fast": 10, "slow": 100}, 0.5)
    assert PARAMS.for_regime("high_volatility") == RegimeChoice({"fast": 20, "slow": 200}, 0.0)


def test_a_regime_without_entries_and_no_regime_use_the_defaults():
    assert PARAMS.for_regime("bull") == RegimeChoice({"fast": 20, "slow": 100}, 1.0)
    assert PARAMS.for_regime(None) == RegimeChoice({"fast": 20, "slow": 100}, 1.0)


def test_the_returned_params_are_a_copy():
    PARAMS.for_regime("bull").params["fast"] = 1
    assert PARAMS.for_regime("bull").params["fast"] == 20


def test_unknown_labels_are_rejected():
    with pytest.raises(ValueError, match="unknown regime 'bul'"):
        PARAMS.for_regime("bul")
    with pytest.raises(ValidationError):
        RegimeParams(by_regime={"bul": {}})
    with pytest.raises(ValidationError):
        RegimeParams(size_scale={"bull": -1.0})
    with pytest.raises(ValidationError):
        RegimeParams(sizes={})


def test_expected_size_scale_weights_scales_by_probability():
    probabilities = {"bull": 0.5, "bear": 0.3, "sideways": 0.0, "high_volatility": 0.2}
    assert PARAMS.expected_size_scale(probabilities) == pytest.approx(0.5 + 0.15)
    assert PARAMS.expected_size_scale({"bull": float("nan")}) == 1.0


def test_is_frozen_and_round_trips_through_json():
    with pytest.raises(ValidationError):
        PARAMS.default_size_scale = 2.0
    assert RegimeParams.model_validate_json(PARAMS.model_dump_json()) == PARAMS
