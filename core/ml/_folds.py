"""Walk-forward folds and the training of one fold's booster.

Fold k tests the dates ``[s_k, s_k + test)`` with ``s_k = s_0 + k × step``. It trains on the
``train`` dates before ``s_k − (h + 1)`` (rolling) or on every date from the first usable one
(expanding): the purge gap of h + 1 dates means the last training label,
``close[t+1+h] / close[t+1] − 1`` at ``t = s_k − h − 2``, is known at bar ``s_k − 1``, before
the first test date. The last fold's test window may run past the labelled dates: it is the
model for dates after the data (``predict``, the strategy).

:func:`train_fold` is a plain function of a :class:`FoldJob` (picklable), so the folds run on
any :class:`~core.optimize.Executor`; XGBoost runs with a fixed seed and thread count and the
``hist`` method, so a fold gives the same booster bytes every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidInputError
from core.ml._evaluate import rows_rank_ic
from core.ml._spec import BoosterParams


@dataclass(frozen=True)
class Fold:
    """Date indices of a fold: train ``[train_start, train_end)``, test ``[test_start, …)``."""

    k: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def fold_splits(
    n_dates: int,
    first: int,
    *,
    horizon: int,
    train: int,
    test: int,
    step: int,
    window: str = "rolling",
) -> list[Fold]:
    """The walk-forward folds over ``n_dates`` dates whose features are complete from ``first``.

    Raises
    ------
    InvalidInputError
        When the data is too short for one fold.
    """
    gap = horizon + 1
    s = first + train + gap
    if s >= n_dates:
        raise InvalidInputError(
            f"walk-forward: {n_dates} dates are too few: the first test date would be bar {s} "
            f"({first} bars of feature warm-up + {train} training + a purge gap of {gap})",
            field="train",
        )
    folds = []
    while s < n_dates:
        start = first if window == "expanding" else s - gap - train
        folds.append(Fold(len(folds), start, s - gap, s, min(s + test, n_dates)))
        s += step
    return folds


@dataclass(frozen=True)
class FoldJob:
    """What one fold's training needs (arrays of its own dates only)."""

    k: int
    x_train: np.ndarray  # (n_rows, n_features) float32
    y_train: np.ndarray  # (n_rows,)
    qid_train: np.ndarray  # (n_rows,) date of each row (ranking objective)
    x_test: np.ndarray  # (n_test_rows, n_features)
    params: BoosterParams
    seed: int
    nthread: int
    names: tuple[str, ...]
    tune_trials: int = 0
    inner_split: int = 0  # rows before this index form the inner training set (tuning)
    inner_val: tuple[int, int] = (0, 0)  # the inner validation rows


@dataclass(frozen=True)
class FoldOutcome:
    """A trained fold: booster bytes (UBJ), test predictions, importances."""

    k: int
    booster: bytes
    predictions: np.ndarray  # (n_test_rows,)
    gain: dict[str, float]
    shap: dict[str, float]  # mean |SHAP| on the test rows (xgboost's pred_contribs)
    params: dict
    trials: list[float]  # inner-validation scores of the tuning trials (empty: not tuned)
    seconds: float


class _Trees:
    """XGBoost callback: report each tree, stop when asked (``after_iteration`` → True)."""

    def __new__(cls, on_tree: Callable[[int], bool]):
        import xgboost as xgb

        class Callback(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log) -> bool:
                return bool(on_tree(epoch + 1))

        return Callback()


def fit_booster(
    x: np.ndarray,
    y: np.ndarray,
    qid: np.ndarray,
    params: BoosterParams,
    *,
    seed: int,
    nthread: int,
    names: tuple[str, ...],
    on_tree: Callable[[int], bool] | None = None,
):
    """An ``xgboost.Booster`` trained on the rows given (``on_tree(n)`` True stops it)."""
    import xgboost as xgb

    ranking = params.objective.startswith("rank:")
    data = xgb.DMatrix(
        x, label=y, qid=qid if ranking else None, feature_names=list(names), nthread=nthread
    )
    callbacks = [_Trees(on_tree)] if on_tree else None
    return xgb.train(
        params.xgb(seed, nthread), data, num_boost_round=params.n_estimators, callbacks=callbacks
    )


def predict(booster, x: np.ndarray, names: tuple[str, ...], nthread: int = 1) -> np.ndarray:
    """Scores of the rows ``x`` (shape (n_rows,)), float64.

    ``names`` must be the booster's feature names in order (checked).
    """
    if booster.feature_names is not None and tuple(booster.feature_names) != tuple(names):
        raise InvalidInputError("ml: the booster was trained on other features")
    if not len(x):
        return np.empty(0)
    return booster.inplace_predict(np.asarray(x, dtype=np.float32)).astype(float)


def train_fold(job: FoldJob, on_tree: Callable[[int], bool] | None = None) -> FoldOutcome:
    """Tune (when asked) on the inner validation rows, train, predict the test rows."""
    import time

    import xgboost as xgb

    began = time.perf_counter()
    params, trials = job.params, []
    if job.tune_trials and job.inner_split > 0:
        params, trials = _tune(job)
    booster = fit_booster(
        job.x_train,
        job.y_train,
        job.qid_train,
        params,
        seed=job.seed,
        nthread=job.nthread,
        names=job.names,
        on_tree=on_tree,
    )
    preds = predict(booster, job.x_test, job.names, job.nthread)
    gain = booster.get_score(importance_type="gain")
    shap: dict[str, float] = {}
    if len(job.x_test):
        contribs = booster.predict(
            xgb.DMatrix(job.x_test, feature_names=list(job.names), nthread=job.nthread),
            pred_contribs=True,
        )
        mean_abs = np.abs(contribs[:, :-1]).mean(axis=0)  # the last column is the bias
        shap = {n: float(v) for n, v in zip(job.names, mean_abs, strict=True)}
    return FoldOutcome(
        job.k,
        bytes(booster.save_raw("ubj")),
        preds,
        {n: float(gain.get(n, 0.0)) for n in job.names},
        shap,
        params.model_dump(),
        trials,
        time.perf_counter() - began,
    )


TUNED = {  # the inner-validation search space: (low, high) over the declared bounds
    "n_estimators": (20, 200, 10),
    "max_depth": (2, 6, 1),
    "learning_rate": (0.01, 0.2, None),
    "subsample": (0.5, 1.0, None),
    "colsample_bytree": (0.5, 1.0, None),
    "min_child_weight": (1, 200, None),
}


def _tune(job: FoldJob) -> tuple[BoosterParams, list[float]]:
    """Optuna TPE (the optimizer's :func:`~core.optimize.bayesian_search`) on inner windows."""
    from core.optimize import SearchSpace, bayesian_search

    fixed = {k: v for k, v in job.params.model_dump().items() if k not in TUNED}
    space = SearchSpace.from_params(BoosterParams, overrides=TUNED, fixed=fixed)
    cut = job.inner_split
    lo, hi = job.inner_val

    def evaluate(values: dict) -> float:
        params = BoosterParams(**values)
        booster = fit_booster(
            job.x_train[:cut],
            job.y_train[:cut],
            job.qid_train[:cut],
            params,
            seed=job.seed,
            nthread=job.nthread,
            names=job.names,
        )
        scores = predict(booster, job.x_train[lo:hi], job.names, job.nthread)
        value = rows_rank_ic(scores, job.y_train[lo:hi], job.qid_train[lo:hi])
        return value if np.isfinite(value) else 0.0  # constant scores rank nothing: no skill

    result = bayesian_search(space, evaluate, job.tune_trials, seed=job.seed, errors="skip")
    if result.best_params is None:
        return job.params, []
    scores = [float(s) for s in result.trials["score"]]
    return BoosterParams(**result.best_params), scores
