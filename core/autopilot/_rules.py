"""The meta-strategy selector: an editable rules table from regime to portfolio generator.

Rules are tried in order; the first whose conditions all hold names the strategy, with its
confidence times the regime's. Hysteresis: a strategy in force for fewer than
``min_hold_days`` business days is kept even when another rule matches (the switch waits).

The defaults follow the seeds on the data bundled here, which has closes and no fundamentals:

===========================  =================  ==============================================
regime                       strategy           approximated by
===========================  =================  ==============================================
high or extreme volatility   ``min_variance``   minimum variance over the half of the universe
                                                with the lowest 60-day volatility (defensive)
bear trend                   ``contrarian_cash`` 30 % in the five worst 21-day performers,
                                                70 % cash (contrarian, mostly cash)
bull, low or medium vol      ``ml_top_n``       XGBoost top N → PPO weights → equal weight;
                                                without models, 12-1 month momentum top N
                                                (growth/momentum: no earnings data)
sideways                     ``low_vol_income`` the N names of lowest 252-day volatility,
                                                inverse-volatility weights (income proxy: no
                                                dividend yields bundled)
===========================  =================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.autopilot._regime import RegimeReading

Strategy = Literal["ml_top_n", "min_variance", "low_vol_income", "contrarian_cash", "equal_weight"]
Trend = Literal["bull", "bear", "sideways"]
Bucket = Literal["low", "medium", "high", "extreme"]


class Condition(BaseModel):
    """What a regime must show for a rule to match (an empty field matches anything)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trend: tuple[Trend, ...] = ()
    volatility: tuple[Bucket, ...] = ()
    min_breadth: float | None = Field(None, ge=0, le=1)
    max_breadth: float | None = Field(None, ge=0, le=1)

    def holds(self, regime: RegimeReading) -> bool:
        """Whether ``regime`` meets every condition given."""
        share = regime.breadth.get("above_share")
        return (
            (not self.trend or regime.trend["state"] in self.trend)
            and (not self.volatility or regime.volatility["bucket"] in self.volatility)
            and (self.min_breadth is None or (share is not None and share >= self.min_breadth))
            and (self.max_breadth is None or (share is not None and share <= self.max_breadth))
        )


class Rule(BaseModel):
    """When ``when`` holds, run ``strategy`` with ``confidence``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    when: Condition = Condition()
    strategy: Strategy
    confidence: float = Field(0.5, ge=0, le=1)


class RulesTable(BaseModel):
    """The ordered rules, the strategy when none matches, and the hysteresis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[Rule, ...]
    fallback: Strategy = "equal_weight"
    min_hold_days: int = Field(10, ge=0, description="business days before a switch")


DEFAULT_RULES = RulesTable(
    rules=(
        Rule(
            name="high volatility: defensive",
            when=Condition(volatility=("high", "extreme")),
            strategy="min_variance",
            confidence=0.8,
        ),
        Rule(
            name="bear: contrarian, mostly cash",
            when=Condition(trend=("bear",)),
            strategy="contrarian_cash",
            confidence=0.7,
        ),
        Rule(
            name="bull, calm: ML top N growth/momentum",
            when=Condition(trend=("bull",), volatility=("low", "medium")),
            strategy="ml_top_n",
            confidence=0.75,
        ),
        Rule(
            name="sideways: low-volatility income proxy",
            when=Condition(trend=("sideways",)),
            strategy="low_vol_income",
            confidence=0.6,
        ),
    )
)


@dataclass(frozen=True)
class Held:
    """The strategy in force before this run and the day it started."""

    strategy: str
    since: date


@dataclass(frozen=True)
class Selection:
    """The strategy chosen, why, its confidence and the day it has been in force since."""

    strategy: str
    rule: str
    confidence: float
    since: date
    reason: str
    switched: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "strategy": self.strategy,
            "rule": self.rule,
            "confidence": self.confidence,
            "since": self.since.isoformat(),
            "reason": self.reason,
            "switched": self.switched,
        }


def match(table: RulesTable, regime: RegimeReading) -> tuple[str, str, float]:
    """The first matching rule's strategy, name and confidence (the fallback's: 0.5)."""
    for rule in table.rules:
        if rule.when.holds(regime):
            return rule.strategy, rule.name, rule.confidence
    return table.fallback, "fallback: no rule matched", 0.5


def select(table: RulesTable, regime: RegimeReading, held: Held | None, as_of: date) -> Selection:
    """The strategy for ``as_of`` given the regime and what is in force (hysteresis).

    Parameters
    ----------
    table : RulesTable
    regime : RegimeReading
        The regime on ``as_of``.
    held : Held or None
        The strategy in force before (None on a first run).
    as_of : date

    Returns
    -------
    Selection
        ``confidence`` = rule confidence × regime confidence.
    """
    strategy, rule, confidence = match(table, regime)
    score = confidence * regime.confidence
    if held is None or held.strategy == strategy:
        since = as_of if held is None else held.since
        return Selection(strategy, rule, score, since, f"rule: {rule}", held is None)
    days = int(np.busday_count(held.since, as_of))
    if days < table.min_hold_days:
        reason = (
            f"hysteresis: {held.strategy} in force {days} business days since {held.since}, "
            f"fewer than {table.min_hold_days}; {strategy} ({rule}) waits"
        )
        return Selection(held.strategy, rule, score, held.since, reason, False)
    return Selection(strategy, rule, score, as_of, f"rule: {rule} (switched)", True)
