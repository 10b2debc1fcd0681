"""``RegimeParams``: strategy parameters and position-size scales chosen by regime label.

A pure helper: it maps the label of the regime in force (``"bull"``, ``"bear"``,
``"sideways"``, ``"high_volatility"`` or None while no model is ready) to the
parameters a strategy should use and a multiplier for its position size. Feed it
labels from causal sources only (:class:`core.regimes.RegimeFilter`,
:func:`core.regimes.causal_regimes`), never from a Viterbi path.

Example
-------
>>> params = RegimeParams(
...     base={"fast": 20, "slow": 100},
...     by_regime={"bear": {"fast": 10}},
...     size_scale={"bear": 0.5, "high_volatility": 0.0},
... )
>>> params.for_regime("bear")
RegimeChoice(params={'fast': 10, 'slow': 100}, size_scale=0.5)
>>> params.for_regime(None)
RegimeChoice(params={'fast': 20, 'slow': 100}, size_scale=1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import InvalidInputError
from core.regimes._labels import LABELS, RegimeLabel


class RegimeChoice(NamedTuple):
    """What to trade with in one regime: parameters and a position-size multiplier."""

    params: dict[str, Any]
    size_scale: float


class RegimeParams(BaseModel):
    """Parameter overrides and size scales per regime label.

    Parameters
    ----------
    base : dict
        Parameters used in every regime unless overridden (and when no regime is known).
    by_regime : dict of label to dict
        Overrides of ``base`` for a regime; keys must be regime labels.
    size_scale : dict of label to float
        Multiplier of the position size in a regime, ≥ 0 (0: stay flat).
    default_size_scale : float
        Multiplier for a label absent from ``size_scale`` and for no regime, ≥ 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    base: dict[str, Any] = Field(default_factory=dict)
    by_regime: dict[RegimeLabel, dict[str, Any]] = Field(default_factory=dict)
    size_scale: dict[RegimeLabel, float] = Field(default_factory=dict)
    default_size_scale: float = Field(default=1.0, ge=0)

    @field_validator("size_scale")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"size scales must be ≥ 0, got {bad}")
        return value

    def for_regime(self, label: str | None) -> RegimeChoice:
        """Parameters (``base`` updated by the regime's overrides) and size scale.

        Parameters
        ----------
        label : str or None
            A regime label, or None while no regime is known (``base`` and
            ``default_size_scale``).

        Raises
        ------
        ValueError
            For a string that is not a regime label.
        """
        if label is None:
            return RegimeChoice(dict(self.base), self.default_size_scale)
        if label not in LABELS:
            raise InvalidInputError(
                f"unknown regime {label!r}; expected one of {', '.join(LABELS)}"
            )
        params = {**self.base, **self.by_regime.get(label, {})}
        return RegimeChoice(params, self.size_scale.get(label, self.default_size_scale))

    def expected_size_scale(self, probabilities: Mapping[str, float]) -> float:
        """Probability-weighted size scale, ``Σ P(label) · scale(label)``.

        Parameters
        ----------
        probabilities : mapping of label to float
            E.g. a row of ``CausalRegimes.regime_probabilities``; NaN entries (no
            model yet) count as unknown and give ``default_size_scale``.
        """
        values = {k: float(v) for k, v in probabilities.items()}
        if not values or any(math.isnan(v) for v in values.values()):
            return self.default_size_scale
        total = sum(values.values())
        scaled = sum(p * self.for_regime(label).size_scale for label, p in values.items())
        return scaled / total if total > 0 else self.default_size_scale
