"""A commission stated as a fraction of notional lies in [0, 0.1]; amounts are unbounded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.1])
def test_fractions_up_to_ten_percent_are_accepted(rate):
    assert CommissionModel(rate=rate).notional_rate == rate


@pytest.mark.parametrize("rate", [-0.001, 0.1000001, 0.5, 1.0, 10.0])
def test_fractions_outside_zero_to_ten_percent_are_refused(rate):
    with pytest.raises(ValidationError, match="rate"):
        CommissionModel(rate=rate)


def test_the_bound_holds_in_backtest_configs_loaded_from_json():
    # a saved or hand-written run config goes through the same model
    document = {"strategy": "sma_crossover", "execution": {"commission": {"rate": 0.25}}}
    with pytest.raises(ValidationError, match=r"less than or equal to 0\.1"):
        BacktestConfig.model_validate(document)
    assert ExecutionConfig.model_validate({"commission": {"rate": 0.1}}).commission.rate == 0.1


def test_amount_commissions_are_not_fractions():
    # per share and per order are money, not fractions of notional: no upper bound
    assert CommissionModel(kind="per_share", per_share=2.5).cost(100, 10.0) == pytest.approx(250.0)
    assert CommissionModel(kind="fixed", fixed=50.0).cost(1, 10.0) == pytest.approx(50.0)
