"""Optimization job requests: plain JSON a page or a script submits, checked before it is
stored (method, objective, ranges, strategies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.backtest import BacktestConfig
from core.optimize._job import METHODS
from core.optimize._objective import Objective
from core.optimize._space import SearchSpace
from core.strategies import get_strategy


def make_request(
    config: BacktestConfig,
    *,
    method: str = "grid",
    metric: str = "sharpe",
    constraints: Mapping[str, tuple[str, float]] | None = None,
    ranges: Mapping[str, tuple[float, ...]] | None = None,
    trials: int = 200,
    seed: int = 0,
    scheduler: str | None = None,
    walk_forward: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A job request (plain JSON), checked: the method, the objective and the ranges.

    ``scheduler`` is the address of a Dask scheduler to evaluate on (default: a local
    process pool in the worker). ``walk_forward`` (``train`` and ``test`` in bars,
    ``anchored``) runs a walk-forward optimisation instead of one search. ``fixed``
    parameters keep their value and are not searched."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if trials < 1:
        raise ValueError("trials must be at least 1")
    objective = Objective(metric=metric, constraints=dict(constraints or {}))
    ranges = {k: [float(v) for v in r] for k, r in (ranges or {}).items()}
    fixed = dict(fixed or {})
    SearchSpace.from_params(get_strategy(config.strategy).Params, overrides=ranges, fixed=fixed)
    if walk_forward is not None:
        train, test = int(walk_forward["train"]), int(walk_forward["test"])
        if train < 2 or test < 2:
            raise ValueError("walk-forward train and test windows need at least 2 bars each")
        walk_forward = {
            "train": train,
            "test": test,
            "anchored": bool(walk_forward.get("anchored")),
        }
    return {
        "config": config.model_dump(mode="json"),
        "method": method,
        "objective": {
            "metric": objective.metric,
            "constraints": {k: [op, bound] for k, (op, bound) in objective.constraints.items()},
        },
        "ranges": ranges,
        "trials": int(trials),
        "seed": int(seed),
        "scheduler": (scheduler or "").strip() or None,
        "walk_forward": walk_forward,
        "fixed": fixed,
    }


def make_allocation_request(
    base: BacktestConfig,
    strategies: list[str],
    symbols: list[str],
    *,
    method: str = "random",
    metric: str = "sharpe",
    trials: int = 50,
    seed: int = 0,
    train_fraction: float = 0.7,
    risk_aversion: float = 1.0,
    diversification: float = 0.1,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """A job request for :func:`~core.optimize.optimize_allocation` (plain JSON), checked."""
    if not strategies or not symbols:
        raise ValueError("pick at least one strategy and one asset")
    for name in strategies:
        if get_strategy(name).multi_asset:
            raise ValueError(f"{name} trades several assets at once; pick one-asset strategies")
    if not 0 < train_fraction < 1 or risk_aversion < 0 or diversification < 0:
        raise ValueError("need 0 < train fraction < 1, risk aversion ≥ 0, diversification ≥ 0")
    request = make_request(base, method=method, metric=metric, trials=trials, seed=seed)
    request["scheduler"] = (scheduler or "").strip() or None
    request["allocation"] = {
        "strategies": list(strategies),
        "symbols": list(symbols),
        "train_fraction": float(train_fraction),
        "risk_aversion": float(risk_aversion),
        "diversification": float(diversification),
    }
    return request
