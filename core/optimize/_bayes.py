"""Bayesian optimisation with Optuna's TPE sampler, its study kept in a database.

Optuna proposes points; the shared :class:`Trials` machinery scores them (cache,
feasibility, progress, stop flag), so the trials table is the same as the other searches'.
"""

from __future__ import annotations

import math

import numpy as np

from core.optimize._search import _run
from core.optimize._space import SearchSpace
from core.optimize._trials import SearchResult, Trials

FLOOR = -1e12  # TPE needs finite values: infeasible or failing points score this


def bayesian_search(
    space: SearchSpace,
    evaluate,
    n_trials: int,
    *,
    objective=None,
    seed: int | None = 0,
    storage: str | None = None,
    study_name: str | None = None,
    progress=None,
    should_stop=None,
    errors: str = "raise",
) -> SearchResult:
    """Maximise the score over ``n_trials`` TPE proposals.

    ``storage`` is a SQLAlchemy URL (the workstation's database) where Optuna keeps the
    study under ``study_name`` so it can be reopened; None keeps it in memory.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = Trials(
        space,
        evaluate,
        objective,
        progress=progress,
        should_stop=should_stop,
        total=n_trials,
        errors=errors,
    )
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        storage=storage,
        study_name=study_name,
        load_if_exists=study_name is not None,
    )

    def objective_fn(trial) -> float:
        x = np.array([_suggest(trial, d) for d in space.dimensions], dtype=float)
        score = trials.score(x)
        return score if math.isfinite(score) else FLOOR

    return _run(
        trials,
        "bayes",
        lambda: study.optimize(objective_fn, n_trials=n_trials),
        study_name=study.study_name,
    )


def _suggest(trial, dim) -> float:
    if dim.low == dim.high:
        return dim.low
    if dim.step is not None:
        if float(dim.step).is_integer() and float(dim.low).is_integer():
            return float(
                trial.suggest_int(dim.name, int(dim.low), int(dim.high), step=int(dim.step))
            )
        return trial.suggest_float(dim.name, dim.low, dim.high, step=dim.step)
    return trial.suggest_float(dim.name, dim.low, dim.high)
