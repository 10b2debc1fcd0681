"""Searches for the best point of a space: grid, random and differential evolution.

Each search takes the space, an ``evaluate(params)`` callable returning a score or a
metrics dict (then scored by ``objective``) and returns a :class:`SearchResult`. Repeated
points are evaluated once; infeasible points score ``-inf`` without an evaluation; the
``progress`` callback gets a :class:`SearchProgress` after each evaluation and
``should_stop()`` is checked before each one (a stopped search returns its trials so far,
with ``stopped=True``). ``workers`` evaluates batches in parallel processes when
``evaluate`` can be pickled (a module-level function, or an object of a module-level class).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.optimize

from core.optimize._objective import Objective
from core.optimize._space import SearchSpace
from core.optimize._trials import (
    Evaluate,
    MapFunction,
    SearchProgress,
    SearchResult,
    StopRequested,
    Trials,
)

# The energy differential evolution minimises for a point scored -inf: far above any real
# negated score, but finite, so that scipy's convergence statistics stay defined.
_INFEASIBLE_ENERGY = 1e12

Progress = Callable[[SearchProgress], None] | None
Stop = Callable[[], bool] | None


def grid_search(
    space: SearchSpace,
    evaluate: Evaluate,
    *,
    objective: Objective | None = None,
    max_points: int = 10_000,
    workers: int | MapFunction = 1,
    progress: Progress = None,
    should_stop: Stop = None,
    errors: str = "raise",
) -> SearchResult:
    """Evaluate every point of the space's grid (see :meth:`SearchSpace.grid`).

    Raises
    ------
    ValueError
        When a dimension is continuous or the grid has more than ``max_points`` points.
    """
    points = space.grid(max_points)
    trials = Trials(
        space,
        evaluate,
        objective,
        workers=workers,
        progress=progress,
        should_stop=should_stop,
        total=len(points),
        errors=errors,
    )
    return _run(trials, "grid", lambda: trials.scores(points), n_points=len(points))


def random_search(
    space: SearchSpace,
    evaluate: Evaluate,
    n_trials: int,
    *,
    seed: int | np.random.Generator | None = None,
    objective: Objective | None = None,
    workers: int | MapFunction = 1,
    progress: Progress = None,
    should_stop: Stop = None,
    errors: str = "raise",
) -> SearchResult:
    """Evaluate ``n_trials`` points drawn uniformly from the space (see :meth:`SearchSpace.sample`).

    Points are drawn with replacement, so on a small grid some repeat; a repeat is not
    evaluated again and the trials table has one row per distinct point.
    """
    points = space.sample(np.random.default_rng(seed), n_trials)
    trials = Trials(
        space,
        evaluate,
        objective,
        workers=workers,
        progress=progress,
        should_stop=should_stop,
        total=n_trials,
        errors=errors,
    )
    return _run(trials, "random", lambda: trials.scores(points), n_draws=n_trials)


def differential_evolution(
    space: SearchSpace,
    evaluate: Evaluate,
    *,
    objective: Objective | None = None,
    seed: int | None = None,
    maxiter: int = 50,
    popsize: int = 15,
    tol: float = 0.01,
    mutation: float | tuple[float, float] = (0.5, 1.0),
    recombination: float = 0.7,
    start: Mapping[str, Any] | None = None,
    workers: int | MapFunction = 1,
    progress: Progress = None,
    should_stop: Stop = None,
    errors: str = "raise",
) -> SearchResult:
    """Maximise the score with :func:`scipy.optimize.differential_evolution`.

    Stepped dimensions are searched in *lattice coordinates* ``k = (x - low) / step`` with
    scipy's ``integrality``, so every trial lands on a step; continuous ones as they are.
    The whole population of a generation is scored at once (scipy's ``vectorized`` mode,
    which implies ``updating="deferred"``): with ``workers`` the new points of a generation
    are evaluated in parallel, and the result does not depend on the number of workers.

    Parameters
    ----------
    maxiter, popsize, tol, mutation, recombination
        As in scipy: at most ``(maxiter + 1) * popsize * n_dims`` evaluations (fewer, as
        repeated points are cached); no gradient "polish" at the end.
    start : dict, optional
        Parameters to put into the initial population (scipy's ``x0``).
    seed : int, optional
        Seeds scipy's generator: the same seed gives the same search.
    """
    lattice = _Lattice(space)
    size = popsize * max(1, space.n_dims)
    trials = Trials(
        space,
        evaluate,
        objective,
        workers=workers,
        progress=progress,
        should_stop=should_stop,
        total=(maxiter + 1) * size,
        errors=errors,
    )
    generations: list[float] = []

    def energies(u: np.ndarray) -> np.ndarray:
        scores = trials.scores(lattice.to_space(np.atleast_2d(u.T)))
        return np.where(np.isfinite(scores), -scores, _INFEASIBLE_ENERGY)

    def callback(intermediate_result) -> None:
        generations.append(trials.best_score)

    def solve():
        if space.n_dims == 0:
            return trials.scores(np.empty((1, 0)))
        return scipy.optimize.differential_evolution(
            energies,
            lattice.bounds,
            maxiter=maxiter,
            popsize=popsize,
            tol=tol,
            mutation=mutation,
            recombination=recombination,
            rng=np.random.default_rng(seed),
            callback=callback,
            polish=False,
            updating="deferred",
            vectorized=True,
            integrality=lattice.integrality,
            x0=None if start is None else lattice.to_lattice(space.vector(start)),
        )

    return _run(trials, "differential_evolution", solve, generation_best=generations)


class _Lattice:
    """Maps points between value coordinates and DE's lattice coordinates."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.integrality = np.array([d.discrete for d in space.dimensions], dtype=bool)
        self.low = np.array([d.low for d in space.dimensions], dtype=float)
        self.step = np.array([d.step or 1.0 for d in space.dimensions], dtype=float)
        self.bounds = [
            (0.0, float(d.n_values - 1)) if d.discrete else (d.low, d.high)
            for d in space.dimensions
        ]

    def to_space(self, u: np.ndarray) -> np.ndarray:
        """Lattice points (shape ``(n, n_dims)``) in value coordinates."""
        x = np.where(self.integrality, self.low + np.round(u) * self.step, u)
        return self.space.round(x)

    def to_lattice(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.integrality, np.round((x - self.low) / self.step), x)


def _run(trials: Trials, method: str, search: Callable[[], Any], **info: Any) -> SearchResult:
    try:
        outcome = search()
    except StopRequested:
        outcome = None
    finally:
        trials.close()
    if isinstance(outcome, scipy.optimize.OptimizeResult):
        info.update(nit=int(outcome.nit), message=str(outcome.message))
    return trials.result(method, **info)
