"""The edges of the allocation package: what is asked (a spec), what comes back (a result)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core._kv import split_pair
from core.errors import InvalidInputError

Method = Literal[
    "equal",
    "inverse_vol",
    "min_variance",
    "mean_variance",
    "max_sharpe",
    "risk_parity",
    "min_cvar",
    "hrp",
]
METHODS: tuple[str, ...] = get_args(Method)


class AllocationError(InvalidInputError):
    """An allocation that cannot be computed as asked; ``field`` names the culprit input."""


class GroupCap(BaseModel):
    """At most ``cap`` of the portfolio in ``symbols`` together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    symbols: tuple[str, ...] = Field(min_length=1)
    cap: float = Field(ge=0, le=1)

    @classmethod
    def parse(cls, text: str) -> GroupCap:
        """``"NAME=A,B:CAP"``, e.g. ``"staples=KO,PEP,PG:0.3"``."""
        try:
            name, rest = split_pair(text, option="group cap", form="NAME=A,B:CAP")
            symbols, cap = rest.rsplit(":", 1)
            members = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
            return cls(name=name, symbols=members, cap=float(cap))
        except ValueError:  # a PairError and pydantic's ValidationError are ValueErrors too
            raise AllocationError(
                f"group cap {text!r}: expected NAME=A,B:CAP with CAP between 0 and 1",
                "group_caps",
            ) from None


class AllocationSpec(BaseModel):
    """How to allocate: the method, its constraints and its parameters (all keyword-only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    max_weight: float = Field(1.0, gt=0, le=1, description="cap of every asset's weight")
    group_caps: tuple[GroupCap, ...] = ()
    target_return: float | None = Field(
        None, description="mean_variance: minimum annual expected return"
    )
    risk_aversion: float | None = Field(
        None, gt=0, description="mean_variance: δ in max μᵀw − δ/2 wᵀΣw (default 1)"
    )
    risk_free_rate: float = Field(0.0, description="annual, for the Sharpe ratio")
    shrinkage: Literal["ledoit_wolf"] | None = None
    cvar_beta: float = Field(0.95, gt=0.5, lt=1, description="min_cvar: confidence level")

    @model_validator(mode="after")
    def _mean_variance_parameters(self) -> AllocationSpec:
        given = [n for n in ("target_return", "risk_aversion") if getattr(self, n) is not None]
        if given and self.method != "mean_variance":
            raise ValueError(f"{given[0]} applies to mean_variance only, not {self.method}")
        if len(given) == 2:
            raise ValueError("give target_return or risk_aversion, not both")
        return self


class AllocationResult(BaseModel):
    """Weights and their ex-post measures on the estimation window.

    ``expected_return`` and ``volatility`` are annual; ``cvar_95`` is the daily historical
    CVaR at 95 % as a positive loss (see ``historical_cvar``); ``risk_contributions`` are
    each asset's share of the volatility, in volatility units (they sum to ``volatility``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    weights: dict[str, float]
    expected_return: float
    volatility: float
    sharpe: float
    cvar_95: float
    risk_contributions: dict[str, float]
    risk_free_rate: float
    start: date
    end: date
    n_returns: int

    def summary(self) -> dict[str, Any]:
        """The command line's payload: weights and the four measures, then the window."""
        return self.model_dump(mode="json")


class FrontierPoint(BaseModel):
    """One mean-variance efficient portfolio."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    expected_return: float
    volatility: float
    sharpe: float
    weights: dict[str, float]
