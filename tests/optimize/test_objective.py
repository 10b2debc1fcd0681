"""Objectives: one metric or a weighted sum, -inf when a constraint fails or a metric is NaN."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from core.optimize import Objective

METRICS = {"sharpe": 1.5, "calmar": 0.8, "max_drawdown": -0.15, "n_trades": 12, "volatility": 0.2}


def test_a_single_metric_is_the_score():
    assert Objective("sharpe")(METRICS) == 1.5
    assert Objective()(METRICS) == 1.5
    assert Objective(metric="calmar")(METRICS) == 0.8


def test_weights_give_a_weighted_sum():
    objective = Objective({"sharpe": 1.0, "volatility": -2.0})

    assert objective(METRICS) == pytest.approx(1.5 - 0.4)
    assert Objective(weights={"sharpe": 0.5, "calmar": 1.0})(METRICS) == pytest.approx(1.55)


def test_constraints_that_hold_keep_the_score_and_failing_ones_give_minus_inf():
    constraints = {"max_drawdown": (">=", -0.2), "n_trades": (">=", 10)}
    objective = Objective("sharpe", constraints=constraints)

    assert objective(METRICS) == 1.5
    assert objective({**METRICS, "max_drawdown": -0.25}) == -math.inf
    assert objective({**METRICS, "n_trades": 9}) == -math.inf
    assert objective.failed({**METRICS, "n_trades": 9}) == ["n_trades ≥ 10 (is 9)"]


def test_nan_or_infinite_metrics_give_minus_inf():
    objective = Objective("sharpe", constraints={"calmar": (">", 0)})

    assert objective({**METRICS, "sharpe": math.nan}) == -math.inf
    assert objective({**METRICS, "sharpe": math.inf}) == -math.inf
    assert objective({**METRICS, "calmar": math.nan}) == -math.inf
    assert objective({**METRICS, "sharpe": None}) == -math.inf


def test_a_missing_metric_is_an_error_not_a_silent_minus_inf():
    with pytest.raises(KeyError, match="sortino"):
        Objective("sortino")(METRICS)


def test_invalid_objectives_are_rejected():
    with pytest.raises(ValidationError):
        Objective({})
    with pytest.raises(ValidationError):
        Objective("sharpe", constraints={"n_trades": ("=>", 10)})
    with pytest.raises(ValidationError):
        Objective("sharpe", unknown=1)


def test_describe_and_round_trip_through_json():
    objective = Objective({"sharpe": 1, "calmar": 0.5}, constraints={"n_trades": (">=", 10)})

    assert objective.describe() == "maximise 1·sharpe + 0.5·calmar subject to n_trades ≥ 10"
    assert Objective.model_validate_json(objective.model_dump_json()) == objective
    assert objective.metrics == ("sharpe", "calmar", "n_trades")
