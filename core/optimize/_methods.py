"""The search methods by name and how each spends a budget of trials.

``grid``, ``random``, ``mcmc``, ``de`` and ``bayes``: one dispatcher shared by single
searches, walk-forward windows and the allocation's per-pair tuning.
"""

from __future__ import annotations

from core.optimize._bayes import bayesian_search
from core.optimize._mcmc import metropolis_hastings
from core.optimize._search import differential_evolution, grid_search, random_search

METHODS = ("grid", "random", "mcmc", "de", "bayes")

BATCHED_METHODS = ("grid", "random", "de")
"""Searches that hand a batched evaluator whole batches (MCMC steps one point at a time)."""


def search_by_method(method, space, evaluator, trials, seed, storage, config, common, pool=None):
    """Run search ``method`` on ``space`` within about ``trials`` evaluations of ``evaluator``.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    space : SearchSpace
        What is searched.
    evaluator : callable
        ``params -> metrics`` (a :class:`~core.optimize.BacktestEvaluator`).
    trials : int
        The evaluation budget (a grid's point limit; chains × steps for MCMC).
    seed : int
        Seeds the random methods.
    storage : str or None
        Where a Bayesian search keeps its Optuna study.
    config : BacktestConfig
        Names the Optuna study (strategy, run id, seed).
    common : dict
        Keyword arguments every search takes (``objective``, ``progress``, ``should_stop``).
    pool : Executor, optional
        Evaluates points in parallel (all methods but Bayesian search).

    Returns
    -------
    SearchResult
        The search's trials, best point and score.
    """
    if method != "bayes" and pool is not None:
        common = {**common, "workers": pool}
    if method == "grid":
        return grid_search(space, evaluator, max_points=max(trials, 1), **common)
    if method == "random":
        return random_search(space, evaluator, trials, seed=seed, **common)
    if method == "de":
        popsize = 10
        maxiter = max(1, trials // (popsize * max(1, space.n_dims)) - 1)
        return differential_evolution(
            space, evaluator, seed=seed, popsize=popsize, maxiter=maxiter, **common
        )
    if method == "mcmc":
        n_chains = 4
        n_iter = max(trials // n_chains, 20)
        return metropolis_hastings(
            space,
            evaluator,
            n_iter=n_iter,
            burn_in=n_iter // 4,
            n_chains=n_chains,
            seed=seed,
            **common,
        )
    name = f"{config.strategy}-{config.run_id()}-{seed}"
    return bayesian_search(
        space, evaluator, trials, seed=seed, storage=storage, study_name=name, **common
    )


def base_signals():
    """``Strategy.signals`` of the base class: a strategy that keeps it has no array path."""
    from core.strategies import Strategy

    return Strategy.signals
