"""Metropolis–Hastings over a search space: where the score is high, and how flat it is there.

The sampler treats the score as a log-likelihood at a temperature ``T``: its target density
is ``π(x) ∝ exp(score(x) / T)`` on the feasible points of the space (zero outside the bounds
and at infeasible or ``-inf``-scored points). With ``T`` small the chains pile up at the
best point; with ``T`` of the order of the score's noise they spread over every point that
is about as good, which is what a robust parameter choice needs: a wide plateau of good
scores rather than a lone peak.

Algorithm (random-walk Metropolis, Metropolis et al. 1953, Hastings 1970)
    From ``x`` propose ``x' = x + ε`` with ``ε_j ~ N(0, (s · span_j)²)`` independently per
    dimension, ``span_j`` the width of dimension ``j``'s range and ``s`` the proposal scale
    (``proposal_scale``). On a stepped dimension ``ε_j`` is rounded to a whole number of
    steps (and its standard deviation is at least one step), so ``x'`` stays on the lattice.
    The proposal is symmetric, so ``x'`` is accepted with probability
    ``min(1, exp((score(x') - score(x)) / T))``; a proposal outside the bounds is rejected.
    During burn-in the scale of each chain is adapted every ``adapt_every`` iterations,
    ``s ← s · exp(a - a*)`` with ``a`` the recent and ``a*`` the target acceptance rate;
    after burn-in it is fixed, so the kept draws come from a valid Metropolis chain.

Outputs (:class:`MCMCResult`)
    Chains from dispersed random starts (one seed per chain from ``numpy.random.SeedSequence``),
    acceptance rate per chain after burn-in, the rank-normalised split-R-hat of Vehtari et
    al. (2021) and the split-R-hat of Gelman et al. (BDA3, 2013) per dimension (see
    :mod:`core.optimize._diagnostics`), posterior mean, sd and equal-tailed credible
    intervals, the best point seen, a :class:`Plateau` (the posterior mass within ``ε`` of
    the best score) and :meth:`MCMCResult.cells` (posterior mass per grid cell).

Every evaluation goes through :class:`~core.optimize._trials.Trials`: a point is evaluated
once (a dict cache), infeasible points are never evaluated. ``should_stop()`` is checked at
every iteration; a stopped run returns the draws so far.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.optimize._executor import ProcessExecutor, worker_count
from core.optimize._objective import Objective
from core.optimize._posterior import Plateau, plateau_of, posterior_cells, summarize
from core.optimize._space import Dimension, SearchSpace
from core.optimize._trials import (
    Evaluate,
    MapFunction,
    SearchProgress,
    SearchResult,
    Trials,
    _picklable,
)


@dataclass(frozen=True, kw_only=True)
class MCMCResult(SearchResult):
    """A Metropolis–Hastings run (the :class:`SearchResult` fields describe all evaluations).

    Attributes
    ----------
    dimensions : tuple of Dimension
        The space's dimensions, in coordinate order.
    chains : ndarray of shape (n_chains, n_iter, n_dims)
        Every state of every chain, burn-in included (value coordinates).
    chain_scores : ndarray of shape (n_chains, n_iter)
        The score of each state.
    accepted : ndarray of bool, shape (n_chains, n_iter)
        Whether the proposal of each iteration was accepted.
    burn_in, thin : int
        Kept draws are ``chains[:, burn_in::thin]``.
    temperature : float
    acceptance : ndarray of shape (n_chains,)
        Acceptance rate of each chain after burn-in.
    scales : ndarray of shape (n_chains,)
        Each chain's proposal scale after burn-in adaptation.
    level : float
        Probability mass of the credible intervals (0.9: the 5 %–95 % quantiles).
    summary : DataFrame of shape (n_dims, 8)
        Per dimension: ``mean``, ``sd``, ``lower``, ``median``, ``upper`` (equal-tailed
        interval), ``rhat`` (Vehtari et al. 2021), ``rhat_basic`` (BDA3 split-R-hat) and
        ``best`` (the value at the best point).
    plateau : Plateau
    """

    dimensions: tuple[Dimension, ...]
    chains: np.ndarray
    chain_scores: np.ndarray
    accepted: np.ndarray
    burn_in: int
    thin: int
    temperature: float
    acceptance: np.ndarray
    scales: np.ndarray
    level: float
    summary: pd.DataFrame
    plateau: Plateau

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    @property
    def samples(self) -> np.ndarray:
        """Kept draws, shape ``(n_chains, n_kept, n_dims)``."""
        return self.chains[:, self.burn_in :: self.thin]

    @property
    def sample_scores(self) -> np.ndarray:
        """Scores of the kept draws, shape ``(n_chains, n_kept)``."""
        return self.chain_scores[:, self.burn_in :: self.thin]

    @property
    def posterior(self) -> pd.DataFrame:
        """Kept draws as a table: ``chain``, ``draw``, one column per dimension, ``score``."""
        samples, scores = self.samples, self.sample_scores
        n_chains, n_kept = scores.shape
        table = pd.DataFrame(samples.reshape(-1, len(self.dimensions)), columns=list(self.names))
        table.insert(0, "draw", np.tile(np.arange(n_kept), n_chains))
        table.insert(0, "chain", np.repeat(np.arange(n_chains), n_kept))
        table["score"] = scores.ravel()
        return table

    @property
    def rhat(self) -> dict[str, float]:
        """Rank-normalised split-R-hat (Vehtari et al. 2021) per dimension."""
        return self.summary["rhat"].to_dict()

    @property
    def credible_intervals(self) -> dict[str, tuple[float, float]]:
        """Equal-tailed credible interval ``(lower, upper)`` per dimension at ``level``."""
        return {n: (r.lower, r.upper) for n, r in self.summary.iterrows()}

    def cells(self, names: Sequence[str] | None = None, bins: int = 10) -> pd.DataFrame:
        """Posterior mass per grid cell, to see where it is flat (:func:`posterior_cells`)."""
        return posterior_cells(
            self.samples.reshape(-1, len(self.dimensions)),
            self.sample_scores.ravel(),
            self.dimensions,
            names=names,
            bins=bins,
        )


def metropolis_hastings(
    space: SearchSpace,
    evaluate: Evaluate,
    *,
    objective: Objective | None = None,
    temperature: float = 1.0,
    n_iter: int = 2000,
    burn_in: int = 500,
    n_chains: int = 4,
    proposal_scale: float = 0.1,
    adapt: bool = True,
    target_acceptance: float = 0.3,
    adapt_every: int = 50,
    thin: int = 1,
    start: Mapping[str, Any] | None = None,
    seed: int | None = None,
    level: float = 0.9,
    plateau_eps: float | None = None,
    max_start_tries: int = 200,
    progress: Callable[[SearchProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    errors: str = "raise",
    workers: int | MapFunction = 1,
) -> MCMCResult:
    """Sample ``π(x) ∝ exp(score(x) / temperature)`` with random-walk Metropolis chains.

    Parameters
    ----------
    space : SearchSpace
    evaluate : callable
        ``evaluate(params) -> score`` or ``-> metrics`` (with ``objective``).
    temperature : float, default 1
        ``T`` in score units: score differences of ``T`` change the density by a factor e.
    n_iter : int, default 2000
        Iterations per chain, burn-in included.
    burn_in : int, default 500
        Iterations dropped from the start of each chain (and used to adapt the scale).
    n_chains : int, default 4
        Independent chains, each from a random feasible start (chain 0 from ``start``).
    proposal_scale : float, default 0.1
        Initial proposal sd as a fraction of each dimension's range.
    adapt, target_acceptance, adapt_every
        Burn-in adaptation of the proposal scale towards the target acceptance rate.
    thin : int, default 1
        Keep every ``thin``-th draw after burn-in.
    seed : int, optional
        Seeds every chain (through ``SeedSequence(seed).spawn(n_chains)``).
    level : float, default 0.9
        Mass of the equal-tailed credible intervals.
    plateau_eps : float, optional
        ``ε`` of the :class:`Plateau`; default ``temperature`` (the points whose density
        is at least ``1/e`` of the best point's).
    max_start_tries : int, default 200
        Random draws tried per chain for a start with a finite score.
    progress : callable, optional
        ``progress(SearchProgress)`` after every iteration; ``done`` and ``total`` count
        chain steps (``iterations × n_chains``), not evaluations.
    should_stop : callable, optional
        ``should_stop() -> bool``, checked before every iteration.
    errors : {"raise", "skip"}, default "raise"
        What an exception in ``evaluate`` does (see :class:`~core.optimize.Trials`).
    workers : int or map-like, default 1
        Run groups of chains in parallel: a number of processes or an executor (see
        :mod:`core.optimize._executor`), with a picklable ``evaluate``. The chains equal
        the serial run's; progress and the stop flag are then seen once per segment of
        about ``n_iter / 8`` iterations.

    Returns
    -------
    MCMCResult

    Raises
    ------
    ValueError
        When no start with a finite score is found.
    """
    if not temperature > 0:
        raise InvalidInputError("temperature must be positive")
    if not 0 <= burn_in < n_iter or n_chains < 1 or thin < 1:
        raise InvalidInputError("need n_chains >= 1, thin >= 1 and 0 <= burn_in < n_iter")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chains)]
    trials = Trials(space, evaluate, objective, errors=errors)
    starts = [start] + [None] * (n_chains - 1)
    x = [_start(space, trials, r, max_start_tries, s) for r, s in zip(rngs, starts, strict=True)]
    walk = _Walk.draw(space, rngs, proposal_scale, n_iter)
    adaptation = (burn_in, adapt_every, target_acceptance) if adapt else None
    x = np.array(x).reshape(n_chains, -1)
    groups = min(n_chains, worker_count(workers))
    if groups > 1 and _picklable(evaluate):
        own = None if callable(workers) else ProcessExecutor(worker_count(workers))
        try:
            chains, scores, accepted = _sample_parallel(
                trials,
                walk,
                x,
                temperature,
                adaptation,
                progress,
                should_stop,
                workers if own is None else own,
                groups,
            )
        finally:
            if own is not None:
                own.close()
    else:
        chains, scores, accepted = _sample(
            trials, walk, x, temperature, adaptation, progress, should_stop
        )
    eps = temperature if plateau_eps is None else plateau_eps
    return _result(
        trials,
        space,
        chains,
        scores,
        accepted,
        burn_in=burn_in,
        thin=thin,
        temperature=temperature,
        scales=walk.scales,
        level=level,
        eps=eps,
    )


def _sample(trials: Trials, walk: _Walk, x, temperature, adaptation, progress, should_stop):
    """Run the chains from states ``x`` (shape ``(n_chains, n_dims)``) for ``walk.n_iter``.

    Returns the states, scores and acceptances of the iterations done, shapes
    ``(n_chains, n_done, n_dims)``, ``(n_chains, n_done)`` and ``(n_chains, n_done)``.
    """
    s = np.array([trials.score(p) for p in x])
    return _steps(trials, walk, x, s, temperature, adaptation, progress, should_stop)


def _steps(trials, walk, x, s, temperature, adaptation, progress, should_stop, offset=0):
    """Advance chains in states ``x`` with scores ``s`` over ``walk``'s iterations.

    The first is iteration ``offset`` of the run (for the burn-in adaptation).
    """
    n_chains, n_iter = walk.log_u.shape
    chains = np.empty((n_chains, n_iter, x.shape[1]))
    scores = np.empty((n_chains, n_iter))
    accepted = np.zeros((n_chains, n_iter), dtype=bool)
    done = 0
    for it in range(n_iter):
        if should_stop is not None and should_stop():
            trials.stopped = True
            break
        for c in range(n_chains):
            proposal = walk.propose(c, it, x[c])
            new = trials.score(proposal) if proposal is not None else -math.inf
            if walk.log_u[c, it] < (new - s[c]) / temperature:
                x[c], s[c], accepted[c, it] = proposal, new, True
        chains[:, it], scores[:, it] = x, s
        done = it + 1
        if progress is not None:
            total = n_chains * n_iter
            progress(SearchProgress(done * n_chains, total, trials.best_score, trials.best_params))
        absolute = offset + done
        if adaptation is not None and absolute <= adaptation[0] and absolute % adaptation[1] == 0:
            walk.adapt(accepted[:, done - adaptation[1] : done].mean(axis=1), adaptation[2])
    return chains[:, :done], scores[:, :done], accepted[:, :done]


ROUNDS = 8
"""The parallel sampler hands each group of chains this many segments of its iterations
(progress and the stop flag are seen between segments)."""


def _sample_parallel(trials, walk, x, temperature, adaptation, progress, should_stop, run, groups):
    """:func:`_sample` with the chains split into ``groups`` run by the map function ``run``.

    Every chain draws its proposals from its own pre-drawn variates, and a point's score
    does not depend on where it is evaluated, so the chains equal the serial run's. Each
    segment starts with the scores known so far; new evaluations come back and are merged.
    """
    n_chains, n_iter = walk.log_u.shape
    s = np.array([trials.score(p) for p in x])
    every = adaptation[1] if adaptation is not None else 1
    segment = every * max(1, math.ceil(n_iter / ROUNDS / every))  # adaptation windows align
    parts = np.array_split(np.arange(n_chains), groups)
    out = [], [], []
    for start in range(0, n_iter, segment):
        if should_stop is not None and should_stop():
            trials.stopped = True
            break
        stop = min(start + segment, n_iter)
        tasks = [
            _Segment(trials, walk.part(c, start, stop), x[c], s[c], temperature, adaptation, start)
            for c in parts
        ]
        pieces = [[], [], []]
        for c, (rows, states, scales) in zip(parts, run(_run_segment, tasks), strict=True):
            trials.absorb(rows)
            walk.scales[c] = scales
            x[c], s[c] = states[0][:, -1], states[1][:, -1]
            for piece, state in zip(pieces, states, strict=True):
                piece.append(state)
        walk._set_sd()
        for whole, piece in zip(out, pieces, strict=True):
            whole.append(np.concatenate(piece))
        if progress is not None:
            done = n_chains * stop
            total = n_chains * n_iter
            progress(SearchProgress(done, total, trials.best_score, trials.best_params))
    if not out[0]:
        return (
            np.empty((n_chains, 0, x.shape[1])),
            np.empty((n_chains, 0)),
            np.empty((n_chains, 0), dtype=bool),
        )
    return tuple(np.concatenate(whole, axis=1) for whole in out)


class _Segment:
    """One group of chains over some iterations, for a worker (picklable)."""

    def __init__(self, trials: Trials, walk: _Walk, x, s, temperature, adaptation, offset):
        self.space, self.evaluate = trials.space, trials.evaluate
        self.objective, self.errors = trials.objective, trials.errors
        self.cache = dict(trials.cache)
        self.walk, self.x, self.s = walk, x.copy(), s.copy()
        self.temperature, self.adaptation, self.offset = temperature, adaptation, offset


def _run_segment(task: _Segment):
    """Run a :class:`_Segment`: the new trials, ``(states, scores, accepted)`` and scales."""
    trials = Trials(task.space, task.evaluate, task.objective, errors=task.errors)
    trials.cache.update(task.cache)
    states = _steps(
        trials,
        task.walk,
        task.x,
        task.s,
        task.temperature,
        task.adaptation,
        None,
        None,
        offset=task.offset,
    )
    return trials.recorded(), states, task.walk.scales


class _Walk:
    """Gaussian random-walk proposals, snapped to the steps of discrete dimensions.

    Each chain's normal and uniform variates are drawn up front from its own generator,
    shape ``(n_iter, n_dims)`` and ``(n_iter,)``.
    """

    def __init__(self, space: SearchSpace, normals, log_u, scales):
        dims = space.dimensions
        self.space = space
        self.span = np.array([d.span for d in dims], dtype=float)
        self.step = np.array([d.step or 1.0 for d in dims], dtype=float)
        self.discrete = np.array([d.discrete for d in dims], dtype=bool)
        self.low = np.array([d.low for d in dims], dtype=float)
        self.top = np.array([d.top for d in dims], dtype=float)
        self.tol = 1e-9 * np.maximum(1.0, self.span)
        self.normals, self.log_u = normals, log_u
        self.scales = np.array(scales, dtype=float)
        self._set_sd()

    @classmethod
    def draw(cls, space: SearchSpace, rngs: list[np.random.Generator], scale, n_iter: int):
        normals = np.stack([r.standard_normal((n_iter, space.n_dims)) for r in rngs])
        log_u = np.log(np.stack([1.0 - r.random(n_iter) for r in rngs]))
        return cls(space, normals, log_u, np.full(len(rngs), float(scale)))

    def part(self, chains: np.ndarray, start: int, stop: int) -> _Walk:
        """The walk of some ``chains`` over iterations ``[start, stop)``."""
        return _Walk(
            self.space,
            self.normals[chains, start:stop],
            self.log_u[chains, start:stop],
            self.scales[chains],
        )

    def propose(self, chain: int, it: int, x: np.ndarray) -> np.ndarray | None:
        """A proposal from ``x`` (shape ``(n_dims,)``), or ``None`` when out of bounds."""
        move = self.normals[chain, it] * self.sd[chain]
        move = np.where(self.discrete, np.round(move / self.step) * self.step, move)
        proposal = x + move
        if np.any(proposal < self.low - self.tol) or np.any(proposal > self.top + self.tol):
            return None
        return self.space.round(proposal)

    def adapt(self, rates: np.ndarray, target: float) -> None:
        self.scales = np.clip(self.scales * np.exp(rates - target), 1e-4, 10.0)
        self._set_sd()

    def _set_sd(self) -> None:
        sd = self.scales[:, None] * self.span
        self.sd = np.where(self.discrete, np.maximum(sd, self.step), sd)


def _start(space, trials, rng, tries, start) -> np.ndarray:
    if start is not None:
        x = space.round(space.vector(start))
        if math.isfinite(trials.score(x)):
            return x
        raise InvalidInputError(f"the start {dict(start)} has no finite score")
    for x in space.sample(rng, tries):
        if math.isfinite(trials.score(x)):
            return x
    raise InvalidInputError(
        f"no point with a finite score in {tries} random draws; widen the space"
    )


def _result(trials: Trials, space, chains, scores, accepted, *, eps, **fields) -> MCMCResult:
    burn_in, thin, level = fields["burn_in"], fields["thin"], fields["level"]
    kept, kept_scores = chains[:, burn_in::thin], scores[:, burn_in::thin]
    after = accepted[:, burn_in:]
    acceptance = after.mean(axis=1) if after.shape[1] else np.full(len(chains), np.nan)
    base = trials.result("mcmc")
    return MCMCResult(
        **{k: getattr(base, k) for k in base.__dataclass_fields__},
        dimensions=space.dimensions,
        chains=chains,
        chain_scores=scores,
        accepted=accepted,
        acceptance=acceptance,
        summary=summarize(space, kept, level, trials.best_point),
        plateau=plateau_of(space, kept, kept_scores, trials.best_score, eps),
        **fields,
    )
