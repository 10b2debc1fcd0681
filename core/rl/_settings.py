"""The settings of the RL lab, declared once: environment, PPO hyperparameters, a request.

Every model is frozen and refuses unknown keys; the form on the RL lab page, the command
line's flags and the model id all derive from these fields.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_TIMESTEPS = 150_000
MOMENTUM_BARS = 60  # bars of the momentum feature
VOL_BARS = 20  # log returns in the volatility feature


class EnvSettings(BaseModel):
    """How :class:`~core.rl.PortfolioEnv` observes, trades and rewards (all in one place).

    Costs: ``commission + slippage_bps / 10_000`` of every unit of notional traded, on the
    one-way turnover ``Σ |target − drifted weight|`` of the assets (cash moves free).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(20, ge=2, le=252, description="bars of past log returns observed")
    rebalance_every: int = Field(
        21, ge=1, le=63, description="bars between decisions (one env step = this many bars)"
    )
    episode_steps: int = Field(
        12, ge=1, le=2_000, description="decisions per training episode (random start)"
    )
    commission: float = Field(
        0.001,
        ge=0,
        le=0.05,
        description="commission, a fraction of traded notional",
        json_schema_extra={"step": 0.0005},
    )
    slippage_bps: float = Field(
        5.0, ge=0, le=500, description="slippage in basis points of traded notional"
    )
    action_map: Literal["softmax", "relu"] = Field(
        "softmax",
        description="softmax of logit_scale × action, or max(action, 0) normalised "
        "(all ≤ 0 = cash)",
    )
    logit_scale: float = Field(
        3.0,
        gt=0,
        le=50,
        description="softmax: logits span ±scale (3: one of 21 weights up to 0.95; 8: 0.99999)",
    )
    risk_penalty: Literal["none", "drawdown", "variance"] = Field(
        "none", description="penalty subtracted from the log return reward"
    )
    risk_aversion: float = Field(
        0.0,
        ge=0,
        le=100,
        description="λ: reward − λ × (drawdown increase, or squared log return)",
        json_schema_extra={"step": 0.1},
    )
    vol_feature: bool = Field(False, description="observe each asset's 20-bar volatility")
    momentum_feature: bool = Field(False, description="observe each asset's 60-bar log return")

    @property
    def cost_rate(self) -> float:
        """Cost per unit of notional traded."""
        return self.commission + self.slippage_bps / 10_000

    @property
    def lookback(self) -> int:
        """Closes needed before the first decision (window and features)."""
        need = self.window
        if self.vol_feature:
            need = max(need, VOL_BARS)
        if self.momentum_feature:
            need = max(need, MOMENTUM_BARS)
        return need


class PPOParams(BaseModel):
    """Hyperparameters of stable-baselines3's PPO (defaults sized for the 5-minute run)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    learning_rate: float = Field(
        3e-4, gt=0, le=0.1, description="Adam step size", json_schema_extra={"step": 1e-4}
    )
    n_steps: int = Field(256, ge=8, le=8192, description="steps per environment per rollout")
    n_envs: int = Field(4, ge=1, le=16, description="environments stepped together")
    batch_size: int = Field(128, ge=8, le=8192, description="minibatch size")
    n_epochs: int = Field(5, ge=1, le=50, description="passes over each rollout")
    gamma: float = Field(0.99, gt=0, le=1, description="discount", json_schema_extra={"step": 0.01})
    gae_lambda: float = Field(
        0.95, gt=0, le=1, description="GAE λ", json_schema_extra={"step": 0.01}
    )
    clip_range: float = Field(
        0.2, gt=0, le=1, description="PPO clip range", json_schema_extra={"step": 0.05}
    )
    ent_coef: float = Field(
        0.0, ge=0, le=1, description="entropy bonus", json_schema_extra={"step": 0.001}
    )
    vf_coef: float = Field(0.5, gt=0, le=2, description="value loss weight")
    max_grad_norm: float = Field(0.5, gt=0, le=10, description="gradient clipping")
    log_std_init: float = Field(
        -0.5, ge=-5, le=2, description="initial log std of the Gaussian policy"
    )
    net_width: int = Field(64, ge=4, le=512, description="units per hidden layer")
    net_depth: int = Field(2, ge=1, le=4, description="hidden layers (policy and value)")

    @model_validator(mode="after")
    def _batch_fits(self) -> PPOParams:
        if self.batch_size > self.n_steps * self.n_envs:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds a rollout of n_steps × n_envs = "
                f"{self.n_steps * self.n_envs}"
            )
        return self


class PPOTrainRequest(BaseModel):
    """One PPO training run: data, split, budget, seed, environment and agent.

    Data: bundled or imported ``symbols`` (their closes on common dates), or ``data``, a CSV or
    Parquet file of closes (a date column, one column per symbol). Training uses bars from
    ``train_start`` to ``train_end``; the held-out test span runs from the next bar to
    ``test_end`` (default: the last bar).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: tuple[str, ...] = ()
    data: str | None = None
    train_start: date | None = None
    train_end: date
    test_end: date | None = None
    timesteps: int = Field(DEFAULT_TIMESTEPS, ge=1, le=10_000_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    env: EnvSettings = EnvSettings()
    ppo: PPOParams = PPOParams()
    walk_forward: int = Field(
        0,
        ge=0,
        le=12,
        description="also cut the test span into this many folds, PPO retrained before each "
        "on all earlier bars (0 = off)",
    )
    checkpoint_every: int = Field(
        0, ge=0, description="save a checkpoint to the registry every N timesteps (0 = off)"
    )
    name: str = ""

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return tuple(s.strip().upper() for s in value if str(s).strip())

    @model_validator(mode="after")
    def _one_source(self) -> PPOTrainRequest:
        if bool(self.symbols) == bool(self.data):
            raise ValueError("give symbols or a data file, not both and not neither")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("a symbol is listed twice")
        if self.train_start and self.train_start >= self.train_end:
            raise ValueError("train_start must be before train_end")
        if self.test_end and self.test_end <= self.train_end:
            raise ValueError("test_end must be after train_end")
        return self
