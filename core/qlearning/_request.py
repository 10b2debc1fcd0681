"""What a Q-learning run is given: the strategies, the data, the split and the agent's settings.

:class:`QLearningSettings` holds every number of the agent (the form on the RL lab page is
generated from it); :class:`QLearningRequest` adds the strategies, their parameters and the
data. Both are frozen and refuse unknown keys; the request's JSON is the model's spec.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.strategies import get_strategy, validate_params

META_STRATEGIES = ("q_weights", "regime_adaptive", "rl_allocation")
"""Strategies that cannot be a sleeve: they combine or wrap others."""


class QLearningSettings(BaseModel):
    """The agent's settings: split, state bins, action grid, learning, reward and costs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(0, ge=0, le=1_000_000, description="seed of the exploration and HMM starts")
    train_end: str = Field(
        "", description="last training day (YYYY-MM-DD); empty: use train fraction"
    )
    train_fraction: float = Field(
        0.7,
        ge=0.2,
        le=0.95,
        description="share of the bars used for training (when no train end is given)",
        json_schema_extra={"step": 0.05},
    )
    regime_states: int = Field(2, ge=2, le=4, description="states of the HMM regime model")
    vol_buckets: int = Field(2, ge=1, le=4, description="volatility buckets (training quantiles)")
    return_buckets: int = Field(2, ge=1, le=4, description="recent-return buckets (quantiles)")
    vol_window: int = Field(20, ge=5, le=250, description="bars of the volatility estimate")
    return_window: int = Field(20, ge=2, le=250, description="bars of the recent return")
    step: float = Field(
        0.25,
        ge=0.1,
        le=1.0,
        description="weight grid step of the actions (1/step must be a whole number)",
        json_schema_extra={"step": 0.05},
    )
    rebalance: int = Field(5, ge=1, le=126, description="bars between weight decisions")
    episodes: int = Field(200, ge=1, le=20_000, description="passes over the training span")
    epsilon_start: float = Field(
        1.0,
        ge=0,
        le=1,
        description="exploration rate of the first episode",
        json_schema_extra={"step": 0.05},
    )
    epsilon_end: float = Field(
        0.05,
        ge=0,
        le=1,
        description="floor of the exploration rate",
        json_schema_extra={"step": 0.01},
    )
    epsilon_decay: float = Field(
        0.98,
        gt=0,
        le=1,
        description="exploration rate × this after each episode",
        json_schema_extra={"step": 0.005},
    )
    learning_rate: float = Field(
        0.1,
        gt=0,
        le=1,
        description="step size of the Q update (constant schedule and online updates)",
        json_schema_extra={"step": 0.01},
    )
    lr_schedule: Literal["visits", "constant"] = Field(
        "visits",
        description="step 1/visits of the state-action (a running mean) or the constant rate",
    )
    discount: float = Field(
        0.9,
        ge=0,
        lt=1,
        description="discount of the next state's value",
        json_schema_extra={"step": 0.05},
    )
    risk_aversion: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="reward = r − this × r² (0: the plain period return)",
        json_schema_extra={"step": 0.5},
    )
    commission: float = Field(
        0.0005,
        ge=0,
        le=0.1,
        description="commission, fraction of notional",
        json_schema_extra={"step": 0.0001},
    )
    slippage_bps: float = Field(
        2.0, ge=0, le=500, description="slippage in basis points", json_schema_extra={"step": 0.5}
    )
    cash: float = Field(100_000.0, gt=0, description="starting cash of every backtest")

    @field_validator("step")
    @classmethod
    def _whole_grid(cls, value: float) -> float:
        n = round(1 / value)
        if not math.isclose(n * value, 1.0, abs_tol=1e-9):
            raise ValueError(f"1/step must be a whole number, got 1/{value:g}")
        return value

    @field_validator("train_end")
    @classmethod
    def _iso_day(cls, value: str) -> str:
        if value:
            date.fromisoformat(value)  # ValueError names the bad text
        return value

    @model_validator(mode="after")
    def _epsilon_order(self) -> QLearningSettings:
        if self.epsilon_end > self.epsilon_start:
            raise ValueError("epsilon end must not exceed epsilon start")
        return self


class QLearningRequest(QLearningSettings):
    """A training run: 2–4 sleeve strategies on one instrument, and the agent's settings.

    ``params`` maps a strategy name to its parameter overrides (defaults otherwise);
    exactly one of ``symbol`` (bundled or imported) and ``data`` (a price file) is given.
    """

    strategies: tuple[str, ...] = Field(min_length=2, max_length=4)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    symbol: str | None = None
    data: str | None = None
    name: str = Field("", max_length=100)
    agent: Literal["qlearning"] = "qlearning"

    @field_validator("strategies")
    @classmethod
    def _sleeves(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError(f"strategies must differ, got {list(names)}")
        for name in names:
            strategy = get_strategy(name)  # NotFoundError lists the available ones
            if strategy.multi_asset or name in META_STRATEGIES:
                raise ValueError(f"{name} cannot be a sleeve: pick single-instrument strategies")
        return names

    @model_validator(mode="after")
    def _source_and_params(self) -> QLearningRequest:
        if (self.symbol is None) == (self.data is None):
            raise ValueError("give exactly one of symbol and data")
        unknown = set(self.params) - set(self.strategies)
        if unknown:
            raise ValueError(f"params name strategies not in the run: {sorted(unknown)}")
        for name in self.strategies:
            validate_params(name, self.params.get(name), where=f"params of {name}")
        return self

    def sleeve_params(self) -> list[dict[str, Any]]:
        """Each strategy's full parameters (defaults filled in), in ``strategies`` order."""
        return [
            validate_params(n, self.params.get(n)).model_dump(mode="json") for n in self.strategies
        ]

    def settings(self) -> QLearningSettings:
        """The agent's settings alone."""
        return QLearningSettings.model_validate(
            {k: getattr(self, k) for k in QLearningSettings.model_fields}
        )
