"""The one builder of an execution config from a form's or a command line's options."""

from __future__ import annotations

import pytest

from core.errors import WorkstationError
from core.execution import (
    CommissionModel,
    ExecutionConfig,
    ExecutionConfigError,
    Sizing,
    SlippageModel,
    execution_config,
)

OPTIONS = {"commission": "--commission", "slippage_bps": "--slippage-bps", "size": "--size"}


def test_defaults_are_the_models_defaults():
    assert execution_config() == ExecutionConfig()


def test_options_become_the_nested_models():
    built = execution_config(
        fill_timing="same_close",
        commission=0.001,
        slippage_bps=5.0,
        sizing="percent",
        size=0.25,
        allow_short=False,
    )
    assert built == ExecutionConfig(
        fill_timing="same_close",
        commission=CommissionModel(rate=0.001),
        slippage=SlippageModel(bps=5.0),
        sizing=Sizing(method="percent", percent=0.25),
        allow_short=False,
    )


@pytest.mark.parametrize(
    ("sizing", "size", "expected"),
    [
        ("fixed", 7.0, Sizing(method="fixed", quantity=7.0)),  # units
        ("percent", 0.5, Sizing(method="percent", percent=0.5)),  # share of equity
        ("vol_target", 0.5, Sizing(method="vol_target", percent=0.5)),  # as the CLI's --size
        ("kelly", None, Sizing(method="kelly")),
    ],
)
def test_size_is_units_for_fixed_and_a_share_otherwise(sizing, size, expected):
    assert execution_config(sizing=sizing, size=size).sizing == expected


@pytest.mark.parametrize(
    ("kwargs", "plain", "named", "field"),
    [
        (
            {"commission": -1},
            "commission model: rate: Input should be greater than or equal to 0",
            "--commission: Input should be greater than or equal to 0",
            "commission",
        ),
        (
            {"commission": 0.5},
            "commission model: rate: Input should be less than or equal to 0.1",
            "--commission: Input should be less than or equal to 0.1",
            "commission",
        ),
        (
            {"slippage_bps": -1},
            "slippage model: bps: Input should be greater than or equal to 0",
            "--slippage-bps: Input should be greater than or equal to 0",
            "slippage_bps",
        ),
        (
            {"sizing": "percent", "size": 50},
            "sizing: percent: Input should be less than or equal to 10",
            "--size: Input should be less than or equal to 10",
            "size",
        ),
        (
            {"sizing": "fixed", "size": -5},
            "sizing: quantity: Input should be greater than 0",
            "--size: Input should be greater than 0",
            "size",
        ),
    ],
)
def test_a_refusal_says_where_and_what(kwargs, plain, named, field):
    with pytest.raises(ExecutionConfigError) as refused:
        execution_config(**kwargs)
    assert str(refused.value) == plain
    assert refused.value.field == field
    assert isinstance(refused.value, WorkstationError)
    with pytest.raises(ExecutionConfigError) as refused:
        execution_config(**kwargs, options=OPTIONS)
    assert str(refused.value) == named


def test_an_option_without_a_name_keeps_the_model_label():
    with pytest.raises(ExecutionConfigError) as refused:
        execution_config(fill_timing="at_noon", options=OPTIONS)
    assert str(refused.value) == (
        "execution config: fill_timing: Input should be 'next_open' or 'same_close'"
    )
