"""Regimes without look-ahead: walk-forward refits and a forward filter per bar.

:func:`causal_regimes` gives, for every bar ``t``, the regime a backtest or a live
system could have known at ``t``:

- models are refitted at the refit points ``r_j = min_train + j · refit_every``;
  model ``j`` is fitted on rows ``[r_j - window, r_j)`` (``[0, r_j)`` when expanding),
  all strictly before ``r_j``;
- bar ``t`` in ``[r_j, r_{j+1})`` uses model ``j`` and the forward filter run from the
  start of that model's training rows up to row ``t`` — filtered, never smoothed,
  probabilities.

Changing any row after ``t`` therefore changes nothing at or before ``t``
(``tests/regimes/test_walkforward.py`` checks exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.regimes._hmm import RegimeHMM, as_features
from core.regimes._labels import LABELS


@dataclass(frozen=True)
class CausalRegimes:
    """Per-bar regimes known at each bar; rows before the first refit are empty.

    Attributes
    ----------
    probabilities : DataFrame of shape (n_observations, n_states)
        Filtered probability of each state (columns ``state_0 ..``, states of the
        model in force, ordered by mean return); NaN before the first refit.
    regime_probabilities : DataFrame of shape (n_observations, 4)
        The same probabilities summed by label (columns :data:`LABELS`; 0 for a
        label the model in force does not use): comparable across refits.
    state : Series of Int64
        Most likely state per bar (<NA> before the first refit).
    regime : Series of object
        Label of that state (None before the first refit).
    model_number : Series of Int64
        Which refit (row of ``refits``) produced each bar's probabilities.
    refits : DataFrame
        One row per refit: ``position`` (first bar it serves), ``timestamp``,
        ``train_start``, ``train_stop`` (positions, stop exclusive),
        ``log_likelihood``, ``labels``.
    models : tuple of RegimeHMM
        The fitted models, in refit order.
    """

    probabilities: pd.DataFrame
    regime_probabilities: pd.DataFrame
    state: pd.Series
    regime: pd.Series
    model_number: pd.Series
    refits: pd.DataFrame
    models: tuple[RegimeHMM, ...]


def causal_regimes(
    X: np.ndarray,
    index: pd.Index | None = None,
    *,
    n_states: int = 3,
    refit_every: int = 21,
    min_train: int = 252,
    window: int | None = None,
    seed: int = 0,
    n_starts: int = 5,
    covariance_type: str = "diag",
    n_iter: int = 200,
    tol: float = 1e-4,
) -> CausalRegimes:
    """Filtered regime probabilities per bar from walk-forward refits (no look-ahead).

    Parameters
    ----------
    X : array-like of shape (n_observations, n_features) or (n_observations,)
        Causal features in time order (:func:`core.regimes.return_features`).
    index : Index of length n_observations, optional
        Labels of the rows (the ``Features.index``); default 0 .. n - 1.
    n_states : int
        States of every model, 2 to 4.
    refit_every : int
        Bars between refits, ≥ 1.
    min_train : int
        Bars before the first refit (the first bar with a regime), ≥ 10 · n_states.
    window : int, optional
        Rolling training window in bars (≥ min_train); None for an expanding window.
    seed, n_starts, covariance_type, n_iter, tol
        Passed to every :class:`RegimeHMM`.

    Returns
    -------
    CausalRegimes
    """
    X = as_features(X)
    n = len(X)
    index = pd.RangeIndex(n) if index is None else pd.Index(index)
    _check(n, len(index), n_states, refit_every, min_train, window)
    probabilities = np.full((n, n_states), np.nan)
    model_number = np.full(n, -1)
    models, rows = [], []
    for number, start in enumerate(range(min_train, n, refit_every)):
        first = 0 if window is None else start - window
        try:
            model = RegimeHMM(n_states, n_starts, seed, covariance_type, n_iter=n_iter, tol=tol)
            model = model.fit(X[first:start])
            loglik = model.loglik_
        except ValueError:
            if not models:
                raise
            model, loglik = models[-1], float("nan")  # a failed refit keeps the last model
        stop = min(start + refit_every, n)
        filtered = model.filtered_probabilities(X[first:stop])
        probabilities[start:stop] = filtered[start - first :]
        model_number[start:stop] = number
        models.append(model)
        rows.append((start, index[start], first, start, loglik, tuple(model.labels_)))
    return _result(probabilities, model_number, models, rows, index)


def _check(
    n: int, n_index: int, n_states: int, refit_every: int, min_train: int, window: int | None
) -> None:
    if n_index != n:
        raise InvalidInputError(f"index has {n_index} labels for {n} observations")
    if refit_every < 1:
        raise InvalidInputError("refit_every must be ≥ 1")
    if min_train < 10 * n_states:
        raise InvalidInputError(f"min_train must be ≥ {10 * n_states} for {n_states} states")
    if window is not None and window < min_train:
        raise InvalidInputError("window must be ≥ min_train")
    if n <= min_train:
        raise InvalidInputError(f"need more than min_train={min_train} observations, got {n}")


def _result(
    probabilities: np.ndarray,
    model_number: np.ndarray,
    models: list[RegimeHMM],
    rows: list[tuple],
    index: pd.Index,
) -> CausalRegimes:
    k = probabilities.shape[1]
    known = model_number >= 0
    state = np.where(known, np.nan_to_num(probabilities).argmax(axis=1), -1)
    labels = [
        models[m].labels_[s] if m >= 0 else None for m, s in zip(model_number, state, strict=True)
    ]
    by_label = np.full((len(index), len(LABELS)), np.nan)
    for number, model in enumerate(models):
        bars = model_number == number
        by_label[bars] = 0.0
        for j, label in enumerate(model.labels_):
            by_label[bars, LABELS.index(label)] = probabilities[bars, j]
    columns = ["position", "timestamp", "train_start", "train_stop", "log_likelihood", "labels"]
    return CausalRegimes(
        probabilities=pd.DataFrame(probabilities, index, [f"state_{j}" for j in range(k)]),
        regime_probabilities=pd.DataFrame(by_label, index, list(LABELS)),
        state=pd.Series(state, index, name="state").where(known).astype("Int64"),
        regime=pd.Series(labels, index, dtype=object, name="regime"),
        model_number=pd.Series(model_number, index, name="model").where(known).astype("Int64"),
        refits=pd.DataFrame(rows, columns=columns),
        models=tuple(models),
    )
