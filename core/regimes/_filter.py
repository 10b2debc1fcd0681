"""``RegimeFilter``: the forward filter of a fitted ``RegimeHMM``, one observation at a time.

Each :meth:`RegimeFilter.update` is one step of the forward algorithm,
``p_t ∝ (p_{t-1} @ transmat) · N(x_t; means, covariances)``, in O(n_states²)
plain-float arithmetic on constants prepared once, so it can run on every tick
(a few microseconds for three states). It reproduces
:meth:`RegimeHMM.filtered_probabilities` row by row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from math import exp, log
from operator import mul, sub

import numpy as np

from core.errors import InvalidInputError
from core.regimes._hmm import RegimeHMM

_LOG_2PI = math.log(2 * math.pi)


class RegimeFilter:
    """Filtered regime probabilities updated by one observation at a time.

    Parameters
    ----------
    model : RegimeHMM
        A fitted model; its parameters are copied, later refits do not affect the filter.
    prior : array-like of shape (n_states,), optional
        State distribution of the first observation; default ``model.startprob_``.

    Attributes
    ----------
    labels : tuple of str
        The model's state labels.
    log_likelihood : float
        Log-likelihood of the observations seen since the last reset.
    n_observations : int
        Observations seen since the last reset.
    """

    def __init__(self, model: RegimeHMM, prior: Sequence[float] | None = None):
        self.labels = tuple(model.labels_)
        self._k, self._d = model.n_states, model.n_features_in_
        self._columns = tuple(tuple(map(float, col)) for col in model.transmat_.T)
        self._emissions = _emission_function(model.means_, model.covars_)
        start = model.startprob_ if prior is None else np.asarray(prior, dtype=float)
        if start.shape != (self._k,) or np.any(start < 0) or not math.isclose(start.sum(), 1):
            raise InvalidInputError(
                f"prior must be {self._k} non-negative probabilities summing to 1"
            )
        self._start = tuple(map(float, start))
        self.reset()

    def reset(self) -> None:
        """Forget every observation: the next one is treated as the first."""
        self._prior = self._start
        self._probabilities: tuple[float, ...] | None = None
        self.log_likelihood = 0.0
        self.n_observations = 0

    def update(self, x: float | Sequence[float]) -> tuple[float, ...]:
        """Add the observation of one new bar and return its filtered probabilities.

        Parameters
        ----------
        x : float or sequence of float of length n_features
            The new bar's features (a float for a single feature).

        Returns
        -------
        tuple of float of length n_states
            ``P(state_t = j | x_1 .. x_t)``.
        """
        xs = (float(x),) if isinstance(x, float | int | np.floating) else tuple(map(float, x))
        if len(xs) != self._d:
            raise InvalidInputError(f"expected {self._d} features, got {len(xs)}")
        log_b = self._emissions(xs)
        top = max(log_b)
        weights = list(map(mul, self._prior, [exp(lb - top) for lb in log_b]))
        total = sum(weights)
        if total > 0.0:
            probs = tuple([w / total for w in weights])
            log_norm = log(total) + top
        else:
            probs, log_norm = _log_space_step(self._prior, log_b)
        self._probabilities = probs
        self._prior = tuple([sum(map(mul, probs, col)) for col in self._columns])
        self.log_likelihood += log_norm
        self.n_observations += 1
        return probs

    def update_many(self, X: Iterable) -> np.ndarray:
        """:meth:`update` for each row of ``X``; filtered probabilities, shape (n, n_states)."""
        rows = np.asarray(X, dtype=float)
        rows = rows[:, None] if rows.ndim == 1 else rows
        return np.array([self.update(row) for row in rows.tolist()]).reshape(-1, self._k)

    @property
    def probabilities(self) -> np.ndarray | None:
        """Filtered probabilities after the last update (None before the first)."""
        return None if self._probabilities is None else np.array(self._probabilities)

    @property
    def predicted(self) -> np.ndarray:
        """Probabilities of the next bar's state before it is observed."""
        return np.array(self._prior)

    @property
    def state(self) -> int | None:
        """Index of the most likely state now (None before the first update)."""
        probs = self._probabilities
        return None if probs is None else max(range(self._k), key=probs.__getitem__)

    @property
    def regime(self) -> str | None:
        """Label of the most likely state now (None before the first update)."""
        state = self.state
        return None if state is None else self.labels[state]


def _emission_function(
    means: np.ndarray, covars: np.ndarray
) -> Callable[[tuple[float, ...]], list[float]]:
    """``xs -> [log N(xs; mean_j, cov_j) for each state]`` with constants folded in."""
    d = means.shape[1]
    precisions = np.linalg.inv(covars)
    constants = -0.5 * (d * _LOG_2PI + np.linalg.slogdet(covars)[1])
    if d == 1:
        states = [
            (float(m[0]), 0.5 * float(p[0, 0]), float(c))
            for m, p, c in zip(means, precisions, constants, strict=True)
        ]

        def one_feature(xs: tuple[float, ...]) -> list[float]:
            x = xs[0]
            return [c - h * (x - m) * (x - m) for m, h, c in states]

        return one_feature
    halves = [tuple(map(float, 0.5 * p.ravel())) for p in precisions]
    states = list(
        zip([tuple(map(float, m)) for m in means], halves, constants.tolist(), strict=True)
    )
    pairs = [(i, j) for i in range(d) for j in range(d)]

    def several_features(xs: tuple[float, ...]) -> list[float]:
        out = []
        for mean, half, constant in states:
            dx = list(map(sub, xs, mean))
            out.append(constant - sum([dx[i] * half[i * d + j] * dx[j] for i, j in pairs]))
        return out

    return several_features


def _log_space_step(
    prior: tuple[float, ...], log_b: list[float]
) -> tuple[tuple[float, ...], float]:
    logs = [math.log(p) + lb if p > 0.0 else -math.inf for p, lb in zip(prior, log_b, strict=True)]
    top = max(logs)
    log_norm = top + math.log(sum(math.exp(v - top) for v in logs))
    return tuple(math.exp(v - log_norm) for v in logs), log_norm
