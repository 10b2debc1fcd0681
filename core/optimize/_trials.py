"""Evaluating points of a search space, and the result every optimiser returns.

:class:`Trials` stands between an optimiser and the user's ``evaluate`` callable. It

* rounds a point to the space's steps and memoises its score (a dict keyed by the point),
  so a point is evaluated at most once per search;
* scores infeasible points (rejected by the params model) ``-inf`` without evaluating them;
* turns what ``evaluate`` returns into a score: a float is the score itself; a metrics
  mapping is scored by the :class:`~core.optimize.Objective`;
* records every trial (parameters, score, metrics) in order, tracks the best point, calls
  the progress callback and checks the stop flag before each evaluation;
* evaluates a batch of points in parallel through a map function (``workers``) when the
  ``evaluate`` callable can be pickled;
* hands a *batched* ``evaluate`` (``evaluate.batched`` true, with ``evaluate_batch(list of
  params, checked=True) -> list of metrics or exceptions``; ``checked``: the params model
  accepted each set) whole batches instead, in this process;
* keeps the equity curves of the best trials when ``evaluate`` attaches one to its metrics
  (an ``equity`` attribute), for the overfitting guard.

:class:`SearchResult` is what every search returns: the trials table, the best point and a
history for a convergence plot.
"""

from __future__ import annotations

import heapq
import math
import pickle
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.optimize._executor import worker_count
from core.optimize._objective import Objective
from core.optimize._space import SearchSpace

Evaluate = Callable[[dict[str, Any]], float | Mapping[str, Any]]
"""``evaluate(params) -> score`` or ``-> metrics`` (scored by an objective)."""
MapFunction = Callable[[Callable, Iterable], Iterable]
"""A ``map``-like callable, e.g. ``pool.map`` of a process pool."""


KEPT_CURVES = 50
"""Equity curves of this many best trials are kept (the overfitting guard's sample)."""
BATCH = 4096
"""Points per call of a batched evaluator without a ``batch_size`` of its own (between two
calls the stop flag is read)."""


@dataclass(frozen=True)
class SearchProgress:
    """What a progress callback receives after each evaluation.

    ``done`` counts evaluations (chain steps for MCMC); ``total`` is the planned number
    (an upper bound for differential evolution, which may converge early; ``None`` when
    unknown).
    """

    done: int
    total: int | None
    best_score: float
    best_params: dict[str, Any] | None

    @property
    def fraction(self) -> float:
        """Share of the planned work done, in ``[0, 1]`` (NaN when the total is unknown)."""
        if not self.total:
            return math.nan
        return min(1.0, self.done / self.total)


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """The outcome of a search.

    Attributes
    ----------
    method : str
        ``"grid"``, ``"random"``, ``"differential_evolution"`` or ``"mcmc"``.
    trials : DataFrame of shape (n_points, n_params + 4 + n_metrics)
        One row per distinct point, in evaluation order: ``trial``, the parameters
        (fixed ones included), ``score``, ``feasible``, ``error`` and the metrics.
    best_params : dict or None
        Parameters of the best finite score (``None`` when no score is finite).
    best_score : float
        The best score (``-inf`` when none is finite).
    n_trials : int
        Number of evaluations run (infeasible and repeated points are not evaluated).
    history : DataFrame of shape (n_points, 3)
        ``trial``, ``score`` and ``best_score`` (the running maximum), for a convergence plot.
    stopped : bool
        True when the stop flag ended the search early (the result is partial).
    elapsed : float
        Wall-clock seconds.
    info : dict
        Method-specific extras (e.g. differential evolution's ``nit``, ``message`` and
        ``generation_best``, the best score after each generation).
    curves : dict
        The equity curves ``evaluate`` attached, of the best trials only.
    """

    method: str
    trials: pd.DataFrame
    best_params: dict[str, Any] | None
    best_score: float
    n_trials: int
    history: pd.DataFrame
    stopped: bool = False
    elapsed: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    curves: dict[tuple[float, ...], np.ndarray] = field(default_factory=dict, repr=False)
    """Equity curves of the best trials (at most :data:`KEPT_CURVES`), by point, when
    ``evaluate`` attached them to its metrics (an ``equity`` attribute)."""


class StopRequested(Exception):
    """Raised inside a search when the stop flag is set; the search returns what it has."""


class Trials:
    """Memoised, recorded evaluations of points of ``space``.

    Parameters
    ----------
    space : SearchSpace
    evaluate : callable
        ``evaluate(params) -> float`` (the score) or ``-> mapping`` of metrics.
    objective : Objective, optional
        Scores metrics; required when ``evaluate`` returns metrics.
    workers : int or map-like, default 1
        Parallel evaluation of batches: a number of processes (``-1``: one per CPU) or a
        ``map`` function; needs a picklable ``evaluate`` (else batches run serially, with
        a warning).
    progress : callable, optional
        ``progress(SearchProgress)`` after each evaluation.
    should_stop : callable, optional
        ``should_stop() -> bool``, checked before each evaluation.
    total : int, optional
        The planned number of evaluations, for progress.
    errors : {"raise", "skip"}, default "raise"
        What an exception in ``evaluate`` does: propagate, or score the point ``-inf`` and
        record the error.
    """

    def __init__(
        self,
        space: SearchSpace,
        evaluate: Evaluate,
        objective: Objective | None = None,
        *,
        workers: int | MapFunction = 1,
        progress: Callable[[SearchProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        total: int | None = None,
        errors: str = "raise",
    ):
        if errors not in ("raise", "skip"):
            raise InvalidInputError("errors must be 'raise' or 'skip'", field="errors")
        self.space, self.evaluate, self.objective = space, evaluate, objective
        self.workers, self.progress, self.should_stop = workers, progress, should_stop
        self.total, self.errors = total, errors
        self.cache: dict[tuple[float, ...], float] = {}
        self.rows: list[dict[str, Any]] = []
        self._keys: list[tuple[float, ...]] = []
        self.n_evaluations = 0
        self.best_score, self.best_point = -math.inf, None
        self.stopped = False
        self._start = time.perf_counter()
        self._curves: list[tuple[float, int, tuple[float, ...], np.ndarray]] = []  # min-heap

    # -- evaluation --------------------------------------------------------------------------
    def score(self, x: np.ndarray) -> float:
        """The score of point ``x`` (shape ``(n_dims,)``), rounded to the steps first.

        Raises :class:`StopRequested` when the stop flag is set before an evaluation.
        """
        x = self.space.round(x)
        key = _key(x)
        if key in self.cache:
            return self.cache[key]
        params = self.space._decode(x)
        reason = self.space.check(x, params)
        if reason is not None:
            error = f"infeasible: {reason}"
            return self._record(x, key, params, -math.inf, {}, error, feasible=False)
        self._check_stop()
        outcome, error = _call(self.evaluate, params, self.errors)
        return self._record(x, key, params, *self._scored(outcome), error, curve=outcome)

    def scores(self, points: np.ndarray) -> np.ndarray:
        """Scores of the rows of ``points`` (shape ``(n, n_dims)``) → shape ``(n,)``.

        New feasible points are evaluated through the map function when there is one.
        """
        points = self.space.round(np.atleast_2d(points))
        if getattr(self.evaluate, "batched", False):
            return self._scores_batched(points)
        mapper = self._mapper()
        if mapper is None:
            return np.array([self.score(p) for p in points])
        for chunk in _chunks(self._new_feasible(points), 4 * self._n_workers()):
            self._check_stop()
            params = [values for _, _, values in chunk]
            outcomes = mapper(_Call(self.evaluate, self.errors), params)
            for (p, key, values), (outcome, error) in zip(chunk, outcomes, strict=True):
                self._record(p, key, values, *self._scored(outcome), error, curve=outcome)
        return np.array([self.cache[_key(p)] for p in points])

    def _new_feasible(self, points: np.ndarray) -> list[tuple[np.ndarray, tuple, dict]]:
        """``(point, key, params)`` of the new, feasible rows of ``points``, once each.

        The rows are already rounded and not evaluated yet; infeasible ones are recorded on the way.
        """
        todo: dict[tuple[float, ...], tuple[np.ndarray, tuple, dict]] = {}
        for p in points:
            key = _key(p)
            if key in self.cache or key in todo:
                continue
            params = self.space._decode(p)
            reason = self.space.check(p, params)
            if reason is None:
                todo[key] = (p, key, params)
            else:
                self._record(p, key, params, -math.inf, {}, f"infeasible: {reason}", False)
        return list(todo.values())

    def _scores_batched(self, points: np.ndarray) -> np.ndarray:
        """:meth:`scores` through ``evaluate.evaluate_batch``, in this process.

        ``evaluate.batch_size`` (else :data:`BATCH`) points per call; the stop flag is read before
        each batch.
        """
        size = int(getattr(self.evaluate, "batch_size", BATCH))
        for chunk in _chunks(self._new_feasible(points), size):
            self._check_stop()
            params = [values for _, _, values in chunk]  # each accepted by space.check
            checked = self.space.model is not None
            outcomes = self.evaluate.evaluate_batch(params, checked=checked)
            for (p, key, values), outcome in zip(chunk, outcomes, strict=True):
                error = None
                if isinstance(outcome, Exception):
                    if self.errors == "raise":
                        raise outcome
                    outcome, error = None, f"{type(outcome).__name__}: {outcome}"
                self._record(p, key, values, *self._scored(outcome), error)
        return np.array([self.cache[_key(p)] for p in points])

    def _scored(self, outcome: Any) -> tuple[float, dict[str, Any]]:
        if outcome is None:
            return -math.inf, {}
        if isinstance(outcome, Mapping):
            if self.objective is None:
                raise TypeError("evaluate returned metrics; give an objective to score them")
            return self.objective(outcome), dict(outcome)
        score = float(outcome)
        return (score if math.isfinite(score) else -math.inf), {}

    def _keep(self, key: tuple[float, ...], score: float, equity: np.ndarray) -> None:
        """Keep the curve of the trial being recorded if it is among the best."""
        item = (score, -len(self.rows), key, equity)  # earlier trials win ties, as a sort
        if len(self._curves) < KEPT_CURVES:
            heapq.heappush(self._curves, item)
        elif self._curves and item[:2] > self._curves[0][:2]:
            heapq.heapreplace(self._curves, item)

    def recorded(self) -> list[tuple[tuple[float, ...], dict[str, Any]]]:
        """``(key, row)`` of every trial recorded here, for :meth:`absorb` elsewhere."""
        return list(zip(self._keys, self.rows, strict=True))

    def absorb(self, recorded: Iterable[tuple[tuple[float, ...], dict[str, Any]]]) -> None:
        """Add trials recorded by another :class:`Trials` of the same space (a worker's).

        Points already known here are skipped. Progress is not reported.
        """
        for key, row in recorded:
            if key in self.cache:
                continue
            self.cache[key] = row["score"]
            self._keys.append(key)
            self.rows.append({**row, "trial": len(self.rows)})
            self.n_evaluations += bool(row["feasible"])
            if row["score"] > self.best_score:
                self.best_score, self.best_point = row["score"], np.array(key)

    def _record(self, x, key, params, score, metrics, error, feasible=True, curve=None) -> float:
        equity = getattr(curve, "equity", None)
        if equity is not None and score > -math.inf:
            self._keep(key, score, equity)
        self.cache[key] = score
        self._keys.append(key)
        self.n_evaluations += feasible
        row = {"trial": len(self.rows), **params, "score": score}
        row.update(feasible=feasible, error=error)
        row.update({k if k not in row else f"metric_{k}": v for k, v in metrics.items()})
        self.rows.append(row)
        if score > self.best_score:
            self.best_score, self.best_point = score, x.copy()
        if feasible and self.progress is not None:
            self.progress(
                SearchProgress(self.n_evaluations, self.total, self.best_score, self.best_params)
            )
        return score

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            raise StopRequested

    # -- parallel ----------------------------------------------------------------------------
    def _n_workers(self) -> int:
        return worker_count(self.workers)

    def _mapper(self) -> MapFunction | None:
        if callable(self.workers):
            return self.workers
        if self._n_workers() == 1:
            return None
        if not _picklable(self.evaluate):
            warnings.warn(
                "evaluate cannot be pickled; evaluating serially", RuntimeWarning, stacklevel=3
            )
            self.workers = 1
            return None
        if not hasattr(self, "_pool"):
            self._pool = ProcessPoolExecutor(max_workers=self._n_workers())
        return self._pool.map

    def close(self) -> None:
        """Shut down the process pool, if one was started."""
        pool = self.__dict__.pop("_pool", None)
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    # -- results -----------------------------------------------------------------------------
    @property
    def best_params(self) -> dict[str, Any] | None:
        if self.best_point is None:
            return None
        return self.space.to_params(self.best_point)

    def table(self) -> pd.DataFrame:
        """The trials table (see :class:`SearchResult`)."""
        columns = ["trial", *self.space.names, *self.space.fixed, "score", "feasible", "error"]
        return pd.DataFrame(self.rows, columns=_union(columns, self.rows))

    def history(self) -> pd.DataFrame:
        """``trial``, ``score`` and the running best score, in evaluation order."""
        scores = np.array([r["score"] for r in self.rows], dtype=float)
        best = np.maximum.accumulate(scores) if len(scores) else scores
        return pd.DataFrame({"trial": np.arange(len(scores)), "score": scores, "best_score": best})

    def result(self, method: str, **info: Any) -> SearchResult:
        """The :class:`SearchResult` of the trials so far."""
        return SearchResult(
            method=method,
            trials=self.table(),
            best_params=self.best_params,
            best_score=self.best_score,
            n_trials=self.n_evaluations,
            history=self.history(),
            stopped=self.stopped,
            elapsed=time.perf_counter() - self._start,
            info=info,
            curves={key: equity for _, _, key, equity in self._curves},
        )


class _Call:
    """``evaluate`` wrapped for a map function: returns ``(outcome, error)`` (picklable)."""

    def __init__(self, evaluate: Evaluate, errors: str):
        self.evaluate, self.errors = evaluate, errors

    def __call__(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        return _call(self.evaluate, params, self.errors)


def _call(evaluate: Evaluate, params: dict[str, Any], errors: str) -> tuple[Any, str | None]:
    if errors == "raise":
        return evaluate(params), None
    try:
        return evaluate(params), None
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"


def _key(x: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in x)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def _union(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    seen = dict.fromkeys(columns)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)
