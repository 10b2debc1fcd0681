"""Portfolio generators: the strategies the rules pick, and the hybrid ML → RL → equal weight.

Each generator reads the universe's closes up to ``as_of`` (a frame cut there) and returns
target weights (fractions of equity, ≥ 0, summing to at most 1) with the fallbacks it took.
The models come in through two small protocols, :class:`Scorer` (a score per symbol: the ML
lab's XGBoost) and :class:`Weighter` (weights for given symbols: the RL lab's PPO), bundled
in :class:`Models` by whatever resolves them for a day (the composition root's adapters, or
fakes in tests). A missing, stale or failing model is replaced by the plain rule (momentum
ranking, equal weight) and the reason is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from core.allocation import AllocationError, AllocationSpec, allocate
from core.autopilot._config import AutopilotConfig
from core.errors import InvalidInputError, WorkstationError

MIN_HISTORY = 253  # closes a symbol needs to be eligible (a year of returns)
MODEL_ERRORS = (WorkstationError, ValueError, KeyError, RuntimeError, OSError, TypeError)


class Scorer(Protocol):
    """Scores symbols on ``as_of`` from data up to ``as_of`` (higher is better)."""

    def score(self, as_of: date, symbols: Sequence[str]) -> pd.Series:
        """One float per symbol (index: symbols)."""
        ...


class Weighter(Protocol):
    """Target weights for ``symbols`` on ``as_of`` (≥ 0, summing to at most 1)."""

    def weights(self, as_of: date, symbols: Sequence[str]) -> pd.Series:
        """One weight per symbol (index: symbols)."""
        ...


@dataclass(frozen=True)
class Models:
    """The models usable on a day, and why one is absent."""

    scorer: Scorer | None = None
    weighter: Weighter | None = None
    scorer_note: str = "no ML model"
    weighter_note: str = "no RL model"
    ids: dict[str, str] = field(default_factory=dict)


class ModelResolver(Protocol):
    """The models fresh on ``as_of`` (trained on data up to it), or notes saying why none."""

    def resolve(self, as_of: date, symbols: Sequence[str]) -> Models:
        """The :class:`Models` for the day."""
        ...


class MockModels:
    """The ``--mock`` resolver: never a model, so every ML/RL step takes its plain rule."""

    def resolve(self, as_of: date, symbols: Sequence[str]) -> Models:
        """No models, with notes naming the mock."""
        return Models(scorer_note="mock: no ML", weighter_note="mock: no RL")


@dataclass(frozen=True)
class Proposal:
    """A generator's target weights, how they were made and the fallbacks taken."""

    weights: dict[str, float]
    source: str
    fallbacks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"weights": self.weights, "source": self.source, "fallbacks": list(self.fallbacks)}


def eligible(closes: pd.DataFrame, symbols: Sequence[str]) -> list[str]:
    """Symbols with a close on each of the last :data:`MIN_HISTORY` rows (a year)."""
    present = [s for s in symbols if s in closes]
    if len(closes) < MIN_HISTORY:
        return []
    full = closes[present].iloc[-MIN_HISTORY:].notna().all()
    return [s for s in present if full[s]]


def momentum(closes: pd.DataFrame, symbols: Sequence[str]) -> pd.Series:
    """12-1 month momentum: ``P[t-21] / P[t-252] - 1``."""
    frame = closes[list(symbols)]
    return frame.iloc[-22] / frame.iloc[-253] - 1.0


def _volatility(closes: pd.DataFrame, symbols: Sequence[str], days: int) -> pd.Series:
    returns = np.log(closes[list(symbols)].iloc[-days - 1 :]).diff().iloc[1:]
    return returns.std(ddof=1) * math.sqrt(252)


def _top(scores: pd.Series, n: int) -> list[str]:
    """The ``n`` best scores, ties broken by symbol (deterministic)."""
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [s for s, _ in ordered[:n]]


def _equal(symbols: Sequence[str], total: float = 1.0) -> dict[str, float]:
    return {s: total / len(symbols) for s in symbols} if symbols else {}


def _clean_scores(raw: Any, symbols: Sequence[str]) -> pd.Series:
    scores = pd.Series(raw, dtype=float).reindex(list(symbols))
    scores = scores[np.isfinite(scores)]
    if scores.empty:
        raise InvalidInputError("the model gave no finite score for the universe")
    return scores


def _clean_weights(raw: Any, symbols: Sequence[str]) -> dict[str, float]:
    weights = pd.Series(raw, dtype=float).reindex(list(symbols)).fillna(0.0)
    if not np.isfinite(weights).all() or (weights < -1e-12).any():
        raise InvalidInputError("the model gave a negative or non-finite weight")
    if weights.sum() > 1 + 1e-6:
        raise InvalidInputError(f"the model's weights sum to {weights.sum():.4f} > 1")
    return {s: float(w) for s, w in weights.items() if w > 1e-12}


def ml_top_n(
    closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """XGBoost top N → PPO weights, each step falling back (momentum, equal) with a reason."""
    symbols = eligible(closes, config.universe)
    fallbacks, source = [], []
    scores = None
    if models.scorer is not None:
        try:
            scores = _clean_scores(models.scorer.score(as_of, symbols), symbols)
            source.append(f"ml:{models.ids.get('ml', 'model')}")
        except MODEL_ERRORS as exc:
            fallbacks.append(f"ML model failed ({exc}): momentum top {config.top_n}")
    else:
        fallbacks.append(f"{models.scorer_note}: momentum top {config.top_n}")
    if scores is None:
        scores = momentum(closes, symbols)
        source.append("momentum")
    top = _top(scores, config.top_n)
    weights = None
    if models.weighter is not None:
        try:
            weights = _clean_weights(models.weighter.weights(as_of, top), top)
            source.append(f"rl:{models.ids.get('rl', 'model')}")
        except MODEL_ERRORS as exc:
            fallbacks.append(f"RL model failed ({exc}): equal weight")
    else:
        fallbacks.append(f"{models.weighter_note}: equal weight")
    if weights is None:
        weights = _equal(top)
        source.append("equal")
    return Proposal(weights, "+".join(source), tuple(fallbacks))


def min_variance(
    closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """Minimum variance (≤ 25 % a name) over the lower-volatility half of the universe."""
    symbols = eligible(closes, config.universe)
    vol = _volatility(closes, symbols, 60)
    calm = sorted(vol.sort_values(kind="stable").index[: max(2, math.ceil(len(symbols) / 2))])
    prices = closes[calm].iloc[-253:]
    try:
        result = allocate(prices, AllocationSpec(method="min_variance", max_weight=0.25))
    except AllocationError as exc:
        return Proposal(_equal(calm), "equal", (f"minimum variance failed ({exc})",))
    weights = {s: float(w) for s, w in result.weights.items() if w > 1e-6}
    return Proposal(weights, "min_variance")


def low_vol_income(
    closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """Inverse-volatility weights over the ``top_n`` names of lowest 252-day volatility."""
    symbols = eligible(closes, config.universe)
    vol = _volatility(closes, symbols, 252)
    calm = _top(-vol, config.top_n)
    inverse = 1.0 / vol[calm]
    return Proposal({s: float(v) for s, v in (inverse / inverse.sum()).items()}, "inverse_vol")


def contrarian_cash(
    closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """30 % equally in the five worst 21-day performers; the rest stays cash."""
    symbols = eligible(closes, config.universe)
    frame = closes[symbols]
    change = frame.iloc[-1] / frame.iloc[-22] - 1.0
    return Proposal(_equal(_top(-change, 5), 0.30), "contrarian")


def equal_weight(
    closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """Every eligible name of the universe at the same weight."""
    return Proposal(_equal(eligible(closes, config.universe)), "equal")


GENERATORS = {
    "ml_top_n": ml_top_n,
    "min_variance": min_variance,
    "low_vol_income": low_vol_income,
    "contrarian_cash": contrarian_cash,
    "equal_weight": equal_weight,
}


def generate(
    strategy: str, closes: pd.DataFrame, as_of: date, config: AutopilotConfig, models: Models
) -> Proposal:
    """Run the generator named ``strategy`` (one of :data:`GENERATORS`)."""
    try:
        generator = GENERATORS[strategy]
    except KeyError:
        raise InvalidInputError(
            f"strategy: unknown {strategy!r}; known: {', '.join(GENERATORS)}", "strategy"
        ) from None
    return generator(closes, as_of, config, models)
