"""Walk-forward evaluation: the test span cut into folds, PPO retrained before each one.

Fold ``i`` trains a fresh PPO (same settings, budget and seed) on every bar up to the day
before its block, fits the baselines on the same bars, and runs all policies over the block
alone. The blocks' equity curves are chained into one out-of-sample curve per policy (each
block starts from where the previous one ended), so every test bar is scored by a model
that never saw it. Fold 0 reuses the model trained for the main split.
"""

from __future__ import annotations

import itertools

import numpy as np

from core.rl._evaluate import PolicyRun
from core.rl._market import RLMarket
from core.rl._policy import TrainedPolicy
from core.rl._ppo import build_ppo, train_ppo
from core.rl._report import POLICIES, compare


def fold_bounds(test: tuple[int, int], folds: int) -> list[tuple[int, int]]:
    """(decision bar, last bar) of each fold: the test bars cut into ``folds`` equal blocks."""
    first, last = test
    edges = np.linspace(first, last, folds + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def chain(runs: list[PolicyRun]) -> PolicyRun:
    """One run from consecutive ones: each starts at the previous one's final value."""
    scale, equity, turnover, costs = 1.0, [np.ones(1)], [], []
    for run in runs:
        equity.append(scale * run.equity[1:])
        turnover.append(run.turnover)
        costs.append(scale * run.costs)
        scale *= run.equity[-1]
    return PolicyRun(
        dates=runs[0].dates.append([r.dates[1:] for r in runs[1:]]),
        equity=np.concatenate(equity),
        decisions=runs[0].decisions.append([r.decisions for r in runs[1:]]),
        weights=np.vstack([r.weights for r in runs]),
        turnover=np.concatenate(turnover),
        costs=np.concatenate(costs),
    )


def walk_forward(request, market: RLMarket, test: tuple[int, int], first: TrainedPolicy, ctx=None):
    """Per-fold and chained out-of-sample metrics of every policy.

    Parameters
    ----------
    request : PPOTrainRequest
        Its ``walk_forward`` folds, settings, budget and seed.
    market : RLMarket
    test : tuple of int
        The test span's (decision bar, last bar).
    first : TrainedPolicy
        The model trained up to the test span (fold 0's).
    ctx : task context, optional
        Progress per fold; its Cancel stops the remaining folds.
    """
    folds, runs = [], {p: [] for p in POLICIES}
    bounds = fold_bounds(test, request.walk_forward)
    for i, (start, end) in enumerate(bounds):
        if ctx is not None:
            ctx.progress(i, len(bounds), unit="folds", message=f"walk-forward fold {i + 1}")
            if ctx.should_stop():
                break
        policy = first if i == 0 else _retrained(request, market, start)
        fold = compare(policy, market, (0, start), (start, end), spans=("test",))["test"]
        for name in POLICIES:
            runs[name].append(fold[name])
        day = lambda j: market.index[j].date().isoformat()  # noqa: E731
        folds.append(
            {
                "train_end": day(start),
                "test_start": day(start + 1),
                "test_end": day(end),
                "test": {name: fold[name].metrics() for name in POLICIES},
            }
        )
    chained = {name: chain(r).metrics() for name, r in runs.items() if r}
    return {"folds": folds, "test": chained}


def _retrained(request, market: RLMarket, train_last: int) -> TrainedPolicy:
    model = build_ppo(market, request.env, request.ppo, (0, train_last), request.seed)
    trained = train_ppo(model, request.timesteps)
    return TrainedPolicy("walk-forward", market.symbols, request.env, trained.model)


__all__ = ["chain", "fold_bounds", "walk_forward"]
