"""The rebalancing policy and its decision: drift, schedule, risk triggers, minimum interval.

Weights are fractions of equity (0.25 = 25 %); a drift is ``weight − target``. A threshold
test passes at equality (``≥`` triggers, within 1e-12 for floating-point noise); a threshold
of 0 switches its test off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInputError

EPS = 1e-12
SCHEDULES = ("none", "every_n_bars", "monthly", "quarterly")
DRAWDOWN_LEVELS = ("normal", "warning", "critical")


class RebalancePolicy(BaseModel):
    """When to rebalance. Every field is keyword-only, immutable and checked.

    abs_threshold : |weight − target| at or above which an asset is out of band (0.05 = 5 pp)
    rel_threshold : |weight − target| / target at or above which it is (targets > 0 only)
    schedule : "none", "every_n_bars" (``every_n_bars`` bars after the last rebalance),
        "monthly" / "quarterly" (the first bar in a month / quarter with no rebalance yet)
    min_interval_bars : bars that must pass after a rebalance before the next one
    drawdown_trigger : rebalance when the drawdown controller's level differs from its level
        at the last rebalance (targets are then scaled by the level's scale)
    vol_bound : annualised portfolio volatility at or above which a rebalance is due, once
        per crossing (the volatility at the last rebalance was below it)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    abs_threshold: float = Field(0.05, ge=0, le=1, description="absolute drift band, 0 = off")
    rel_threshold: float = Field(0.20, ge=0, le=10, description="relative drift band, 0 = off")
    schedule: Literal["none", "every_n_bars", "monthly", "quarterly"] = "none"
    every_n_bars: int = Field(21, ge=1, le=10_000, description="bars between scheduled runs")
    min_interval_bars: int = Field(0, ge=0, le=10_000, description="bars between rebalances")
    drawdown_trigger: bool = False
    vol_bound: float = Field(0.0, ge=0, le=10, description="annualised volatility, 0 = off")


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`check_rebalance`.

    rebalance : a rebalance is due now
    reasons : every trigger that fired, readable ("drift AAPL +6.00 pp ≥ 5.00 pp")
    drifts : symbol → weight − target, for every target and every held symbol
    blocked_by : why triggers that fired were held back ("" when none)
    """

    rebalance: bool
    reasons: list[str] = field(default_factory=list)
    drifts: dict[str, float] = field(default_factory=dict)
    blocked_by: str = ""

    def to_dict(self) -> dict:
        return {
            "rebalance": self.rebalance,
            "reasons": list(self.reasons),
            "drifts": dict(self.drifts),
            "blocked_by": self.blocked_by,
        }


def drifts(weights_now: dict[str, float], targets: dict[str, float]) -> dict[str, float]:
    """Weight − target per symbol over targets then held symbols (a missing one is 0)."""
    symbols = list(targets) + [s for s in weights_now if s not in targets]
    return {s: weights_now.get(s, 0.0) - targets.get(s, 0.0) for s in symbols}


def check_rebalance(
    weights_now: dict[str, float],
    targets: dict[str, float],
    bars_since_last: int | None,
    ts: datetime | pd.Timestamp | None = None,
    prev_ts: datetime | pd.Timestamp | None = None,
    drawdown_level: str = "normal",
    *,
    last_drawdown_level: str | None = None,
    volatility: float | None = None,
    last_volatility: float | None = None,
    policy: RebalancePolicy | None = None,
) -> Decision:
    """Whether to rebalance now, and why.

    Parameters
    ----------
    weights_now, targets : symbol → fraction of equity
    bars_since_last : bars since the last rebalance; None when there was none
    ts : time of the current bar; prev_ts : time of the last rebalance (None: none)
    drawdown_level : the controller's level now; last_drawdown_level : at the last rebalance
    volatility : annualised portfolio volatility now; last_volatility : at the last rebalance
    """
    policy = policy or RebalancePolicy()
    _check_inputs(weights_now, targets, bars_since_last, drawdown_level, last_drawdown_level)
    gaps = drifts(weights_now, targets)
    reasons = _drift_reasons(gaps, targets, policy)
    reasons += _schedule_reasons(policy, bars_since_last, ts, prev_ts)
    reasons += _risk_reasons(
        policy, drawdown_level, last_drawdown_level, volatility, last_volatility
    )
    if reasons and bars_since_last is not None and bars_since_last < policy.min_interval_bars:
        blocked = (
            f"minimum interval: {bars_since_last} of {policy.min_interval_bars} bars since the "
            "last rebalance"
        )
        return Decision(False, reasons, gaps, blocked)
    return Decision(bool(reasons), reasons, gaps)


def _check_inputs(weights_now, targets, bars_since_last, level, last_level) -> None:
    for where, weights in (("weights_now", weights_now), ("targets", targets)):
        for symbol, w in weights.items():
            if not isinstance(w, int | float) or not math.isfinite(w):
                raise InvalidInputError(f"{where}[{symbol!r}] must be a finite number, got {w!r}")
    negative = [s for s, w in targets.items() if w < 0]
    if negative:
        raise InvalidInputError(f"targets must be ≥ 0; negative for {negative}")
    if sum(targets.values()) > 1 + 1e-9:
        raise InvalidInputError(f"targets sum to {sum(targets.values()):.6g} > 1")
    if bars_since_last is not None and bars_since_last < 0:
        raise InvalidInputError(f"bars_since_last must be ≥ 0 or None, got {bars_since_last}")
    for name, value in (("drawdown_level", level), ("last_drawdown_level", last_level)):
        if value is not None and value not in DRAWDOWN_LEVELS:
            raise InvalidInputError(f"{name} must be one of {DRAWDOWN_LEVELS}, got {value!r}")


def _drift_reasons(gaps, targets, policy) -> list[str]:
    reasons = []
    for symbol, d in gaps.items():
        if policy.abs_threshold and abs(d) >= policy.abs_threshold - EPS:
            reasons.append(
                f"drift {symbol} {d * 100:+.2f} pp ≥ {policy.abs_threshold * 100:.2f} pp"
            )
            continue
        target = targets.get(symbol, 0.0)
        if policy.rel_threshold and target > 0 and abs(d) / target >= policy.rel_threshold - EPS:
            reasons.append(
                f"relative drift {symbol} {d / target:+.1%} of target ≥ {policy.rel_threshold:.1%}"
            )
    return reasons


def _schedule_reasons(policy, bars_since_last, ts, prev_ts) -> list[str]:
    if policy.schedule == "none":
        return []
    if policy.schedule == "every_n_bars":
        if bars_since_last is None:
            return ["schedule: first rebalance"]
        if bars_since_last >= policy.every_n_bars:
            return [
                f"schedule: {bars_since_last} bars since the last (every {policy.every_n_bars})"
            ]
        return []
    if ts is None:
        raise InvalidInputError(f"a {policy.schedule} schedule needs the bar's time ts")
    if prev_ts is None:
        return ["schedule: first rebalance"]
    now, last = pd.Timestamp(ts), pd.Timestamp(prev_ts)
    if policy.schedule == "monthly" and (now.year, now.month) != (last.year, last.month):
        return [f"schedule: first bar of {now:%Y-%m}"]
    if policy.schedule == "quarterly" and (now.year, now.quarter) != (last.year, last.quarter):
        return [f"schedule: first bar of {now.year}-Q{now.quarter}"]
    return []


def _risk_reasons(policy, level, last_level, volatility, last_volatility) -> list[str]:
    reasons = []
    if policy.drawdown_trigger and last_level is not None and level != last_level:
        reasons.append(f"drawdown level {last_level} → {level}")
    bound = policy.vol_bound
    if bound and volatility is not None and math.isfinite(volatility):
        was_below = last_volatility is None or not last_volatility >= bound - EPS
        if volatility >= bound - EPS and was_below:
            reasons.append(f"volatility {volatility:.1%} ≥ bound {bound:.1%}")
    return reasons


def scaled_targets(targets: dict[str, float], scale: float) -> dict[str, float]:
    """Targets × the drawdown controller's scale (the rest stays in cash)."""
    if not 0 <= scale <= 1:
        raise InvalidInputError(f"scale must be in [0, 1], got {scale}")
    return {s: w * scale for s, w in targets.items()}
