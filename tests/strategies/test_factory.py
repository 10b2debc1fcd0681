"""The one strategy factory: ``build_strategy`` and the one place parameters are validated."""

from __future__ import annotations

import pytest

from core.backtest import BacktestConfig
from core.backtest import build_strategy as build_from_config
from core.errors import WorkstationError
from core.strategies import (
    InvalidParams,
    StrategyParams,
    build_strategy,
    get_strategy,
    validate_field,
    validate_params,
)
from core.strategies.builtin.sma_crossover import SmaCrossoverParams


def test_validate_params_fills_the_defaults():
    params = validate_params("sma_crossover", {"fast": 5})
    assert params == SmaCrossoverParams(fast=5, slow=50, long_short=False)
    assert validate_params("sma_crossover") == SmaCrossoverParams()


def test_a_params_instance_of_the_model_passes_through_unchanged():
    params = SmaCrossoverParams(fast=7)
    assert validate_params("sma_crossover", params) is params


@pytest.mark.parametrize(
    ("values", "message", "field"),
    [
        (
            {"fast": 1},
            "sma crossover params: fast: Input should be greater than or equal to 2",
            "fast",
        ),
        ({"nope": 1}, "sma crossover params: nope: Extra inputs are not permitted", "nope"),
        ({"fast": 60}, "sma crossover params: fast (60) must be shorter than slow (50)", None),
    ],
)
def test_refused_params_read_where_field_problem(values, message, field):
    with pytest.raises(InvalidParams) as caught:
        validate_params("sma_crossover", values)
    assert str(caught.value) == message
    assert caught.value.field == field
    assert isinstance(caught.value, WorkstationError) and isinstance(caught.value, ValueError)
    assert caught.value.kind == "invalid_input"
    assert "pydantic" not in str(caught.value) and "http" not in str(caught.value)


def test_the_where_of_a_refusal_can_be_named():
    with pytest.raises(InvalidParams, match=r"^parameters: slow: Input should be"):
        validate_params("sma_crossover", {"slow": 0}, where="parameters")


def test_an_unknown_strategy_is_a_key_error_listing_the_available():
    with pytest.raises(KeyError, match="available: donchian"):
        validate_params("no_such_strategy", {})
    with pytest.raises(KeyError):
        build_strategy("no_such_strategy")


def test_build_strategy_builds_the_registered_class_with_validated_params():
    strategy = build_strategy("sma_crossover", {"fast": 5, "slow": 20})
    assert type(strategy) is get_strategy("sma_crossover")
    assert strategy.params == SmaCrossoverParams(fast=5, slow=20)
    with pytest.raises(InvalidParams):
        build_strategy("sma_crossover", {"fast": 30, "slow": 20})


def test_the_backtest_config_builds_through_the_same_factory():
    config = BacktestConfig(strategy="mean_reversion", params={"entry_z": 2.5}, symbols=("SPX",))
    built = build_from_config(config)
    assert built.params == build_strategy("mean_reversion", {"entry_z": 2.5}).params
    assert built.params.entry_z == 2.5
    with pytest.raises(InvalidParams, match="exit_z"):
        build_from_config(config.model_copy(update={"params": {"entry_z": 1.0, "exit_z": 1.5}}))


def test_validate_field_checks_one_value_by_its_field_alone():
    assert validate_field("sma_crossover", "fast", "5") == 5  # lax like the model
    assert validate_field("sma_crossover", "fast", 60) == 60  # fast < slow is not checked here
    with pytest.raises(InvalidParams) as caught:
        validate_field("sma_crossover", "fast", 1)
    assert caught.value.problems == ["Input should be greater than or equal to 2"]
    assert str(caught.value) == "fast: Input should be greater than or equal to 2"
    assert not caught.value.unknown
    with pytest.raises(InvalidParams) as caught:
        validate_field("sma_crossover", "fats", 3)
    assert caught.value.unknown and caught.value.field == "fats"
    assert caught.value.problems == [
        "sma_crossover has no parameter 'fats'; its parameters are fast, slow, long_short"
    ]


def test_params_of_another_model_are_revalidated_by_this_one():
    class Other(StrategyParams):
        fast: int = 3

    assert validate_params("sma_crossover", Other()) == SmaCrossoverParams(fast=3)
