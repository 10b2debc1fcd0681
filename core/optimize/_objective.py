"""What an optimisation maximises: one metric, or a weighted sum, under constraints.

An :class:`Objective` turns the metrics dict of one backtest (the keys of
:func:`core.analytics.compute_metrics`, or any others the caller adds) into one score::

    score = sum(weight[m] * metrics[m] for m in weights)    if every constraint holds
    score = -inf                                              otherwise

Scores are always *maximised*. Metrics keep their conventions: drawdowns and value at risk
are negative returns, so ``max_drawdown`` closer to zero is better and a constraint
``("max_drawdown", ">=", -0.2)`` means "lose at most 20 % from a peak"; to minimise a
metric, give it a negative weight (``{"volatility": -1}``).

A score that is not finite counts as ``-inf``: a NaN metric (a Sharpe ratio without
returns), an infinite one (the profit factor of a run without losing trades) or ``inf - inf``
cannot be ranked. A failing constraint, or a constraint on a NaN metric, also gives ``-inf``.
A metric missing from the dict is an error (a typo would otherwise score every point
``-inf``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from core.errors import NotFoundError

Comparison = Literal[">=", "<=", ">", "<"]
_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


class Objective(BaseModel):
    """A score to maximise from a metrics dict.

    Parameters
    ----------
    metric : str or dict of str to float, default "sharpe"
        The metric to maximise, or weights ``{metric: weight}`` of a weighted sum.
    constraints : dict of str to (comparison, float), optional
        ``{metric: (op, bound)}`` with ``op`` one of ``>=``, ``<=``, ``>``, ``<``; a point
        whose metrics fail one scores ``-inf``.

    Examples
    --------
    >>> objective = Objective("sharpe", constraints={"n_trades": (">=", 10)})
    >>> objective({"sharpe": 1.2, "n_trades": 14})
    1.2
    >>> objective({"sharpe": 1.2, "n_trades": 3})
    -inf
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str | dict[str, float] = "sharpe"
    constraints: dict[str, tuple[Comparison, float]] = {}

    def __init__(self, metric: str | Mapping[str, float] = "sharpe", /, **data: Any):
        if "weights" in data:
            metric = data.pop("weights")
        super().__init__(metric=data.pop("metric", metric), **data)

    @field_validator("metric")
    @classmethod
    def _weights_valid(cls, value):
        if isinstance(value, dict):
            if not value:
                raise ValueError("give at least one metric weight")
            if not all(math.isfinite(w) for w in value.values()):
                raise ValueError("metric weights must be finite")
        return value

    @field_validator("constraints")
    @classmethod
    def _bounds_finite(cls, value):
        if not all(math.isfinite(bound) for _, bound in value.values()):
            raise ValueError("constraint bounds must be finite")
        return value

    @property
    def weights(self) -> dict[str, float]:
        """The objective as weights ``{metric: weight}`` (one metric has weight 1)."""
        return {self.metric: 1.0} if isinstance(self.metric, str) else dict(self.metric)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric the objective reads (weighted ones, then constrained ones)."""
        return tuple(dict.fromkeys([*self.weights, *self.constraints]))

    def __call__(self, metrics: Mapping[str, Any]) -> float:
        """The score of one run's ``metrics``: the weighted sum, or ``-inf``."""
        if self.failed(metrics):
            return -math.inf
        score = math.fsum(w * float(_get(metrics, m)) for m, w in self.weights.items())
        return score if math.isfinite(score) else -math.inf

    def failed(self, metrics: Mapping[str, Any]) -> list[str]:
        """The constraints that ``metrics`` fail, as text (empty when all hold)."""
        failed = []
        for name, (op, bound) in self.constraints.items():
            value = float(_get(metrics, name))
            if math.isnan(value) or not _OPERATORS[op](value, bound):
                failed.append(f"{name} {_SYMBOLS[op]} {bound:g} (is {value:g})")
        return failed

    def describe(self) -> str:
        """One line for people, e.g. ``maximise sharpe subject to n_trades ≥ 10``."""
        weights = self.weights
        if isinstance(self.metric, str):
            text = f"maximise {self.metric}"
        else:
            text = "maximise " + " + ".join(f"{w:g}·{m}" for m, w in weights.items())
        if self.constraints:
            limits = ", ".join(
                f"{m} {_SYMBOLS[op]} {bound:g}" for m, (op, bound) in self.constraints.items()
            )
            text += f" subject to {limits}"
        return text


def _get(metrics: Mapping[str, Any], name: str) -> Any:
    try:
        value = metrics[name]
    except KeyError:
        raise NotFoundError(
            f"the metrics have no {name!r} (they have {', '.join(metrics)})", field="metric"
        ) from None
    return math.nan if value is None else value
