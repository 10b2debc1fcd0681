"""What a job's progress counts, and how much of it is planned.

A grid evaluates each feasible point once; a random search draws ``trials`` points with
replacement and evaluates each distinct feasible one once; MCMC counts chain steps. The
planned total is worked out from the request before anything runs, so a queued job already
shows the truth ("0 of 32", not "0 of 100").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.optimize._space import SearchSpace
from core.optimize._trials import _key
from core.strategies import get_strategy

MCMC_CHAINS = 4
"""Chains :func:`~core.optimize.search_by_method` runs for MCMC (``trials // 4`` steps each)."""


def planned_total(request: Mapping[str, Any]) -> int | None:
    """Evaluations (chain steps for MCMC) job ``request`` will run; ``None`` when unknown.

    Walk-forward and allocation jobs count windows and pairs, which the worker reports once it
    knows them; differential evolution may stop early, so it is unknown too.
    """
    if request.get("walk_forward") or request.get("allocation"):
        return None
    method, trials = request.get("method"), int(request.get("trials") or 0)
    if method == "mcmc":
        return max(trials // MCMC_CHAINS, 20) * MCMC_CHAINS
    if method == "bayes":
        return trials or None
    if method not in ("grid", "random"):
        return None
    try:
        space = _space(request)
        if method == "grid":
            size = space.size
            if size is None or size > max(trials, 1):
                return None  # refused when it runs, with the reason
            points = space.grid(max(trials, 1))
        else:
            points = space.sample(np.random.default_rng(int(request.get("seed") or 0)), trials)
        return _distinct_feasible(space, points)
    except Exception:  # a request that cannot be planned fails when it runs, with the reason
        return None


def progress_unit(request: Mapping[str, Any]) -> str:
    """What ``done`` counts for ``request``, as a person reads it after "12 of 30"."""
    if request.get("walk_forward"):
        return "windows"
    if request.get("allocation"):
        return "pairs"
    method = request.get("method")
    if method == "mcmc":
        return "chain steps"
    if method == "random":
        return "distinct points"  # repeated draws are not evaluated again
    return "evaluations"


def progress_text(done: int, total: int | None, request: Mapping[str, Any]) -> str:
    """``"12 of 30 evaluations (40 %)"``, with the draws of a random search beside it."""
    unit = progress_unit(request)
    if not total:
        return f"{done:,} {unit}"
    text = f"{done:,} of {total:,} {unit} ({min(1.0, done / total):.0%})"
    trials = int(request.get("trials") or 0)
    if unit == "distinct points" and trials > total:
        text += f"; {trials - total:,} of {trials:,} draws were repeats"
    return text


def _space(request: Mapping[str, Any]) -> SearchSpace:
    config = request.get("config") or {}
    ranges = {k: tuple(v) for k, v in (request.get("ranges") or {}).items()}
    params = get_strategy(config["strategy"]).Params
    return SearchSpace.from_params(params, overrides=ranges, fixed=dict(request.get("fixed") or {}))


def _distinct_feasible(space: SearchSpace, points: np.ndarray) -> int:
    """Distinct points of ``points`` (rounded to the steps) that the params model accepts."""
    seen: set[tuple[float, ...]] = set()
    count = 0
    for x in space.round(np.atleast_2d(points)):
        key = _key(x)
        if key in seen:
            continue
        seen.add(key)
        count += space.check(x, space._decode(x)) is None
    return count
