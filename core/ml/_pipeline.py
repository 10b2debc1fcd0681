"""The walk-forward run: features and labels, one booster per fold, stitched scores.

The out-of-sample scores are stitched date by date (each date scored by the newest fold
testing it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.ml._data import Universe
from core.ml._features import FeaturePanel, compute_features, make_label
from core.ml._folds import Fold, FoldJob, FoldOutcome, fold_splits, train_fold
from core.ml._spec import BoosterParams, MLTrainRequest
from core.tasks import Stopped


@dataclass(frozen=True)
class Dataset:
    """A universe's features, training target and raw forward returns."""

    universe: Universe
    features: FeaturePanel
    target: np.ndarray  # (n_dates, n_symbols)
    forward: np.ndarray  # (n_dates, n_symbols), raw returns close[t+1+h]/close[t+1] − 1
    first: int  # first date whose features are complete (the warm-up before it)


@dataclass(frozen=True)
class WalkForwardRun:
    """Folds, their outcomes and the stitched out-of-sample scores (NaN: not tested)."""

    folds: list[Fold]
    outcomes: list[FoldOutcome]
    scores: np.ndarray  # (n_dates, n_symbols)
    stopped: bool


def build_dataset(universe: Universe, request: MLTrainRequest) -> Dataset:
    """Features (data up to each date) and labels (forward returns) of ``universe``."""
    panel = compute_features(universe.close, request.features, universe.volume)
    target, forward = make_label(universe.close, request.label_spec)
    return Dataset(universe, panel, target, forward, request.features.lookback - 1)


def splits(dataset: Dataset, request: MLTrainRequest) -> list[Fold]:
    """The walk-forward folds of ``request`` on ``dataset``."""
    return fold_splits(
        len(dataset.universe.dates),
        dataset.first,
        horizon=request.horizon,
        train=request.train,
        test=request.test,
        step=request.step_bars,
        window=request.window,
    )


def fold_job(
    dataset: Dataset, fold: Fold, request: MLTrainRequest, params: BoosterParams | None = None
) -> FoldJob:
    """The arrays of one fold: its training rows (labelled only) and its test rows."""
    x, y = dataset.features.values, dataset.target
    n_features = x.shape[-1]
    a, b = fold.train_start, fold.train_end
    rows = x[a:b].reshape(-1, n_features)
    labels = y[a:b].ravel()
    dates = np.repeat(np.arange(a, b), y.shape[1])
    keep = np.isfinite(labels)
    rows, labels, dates = rows[keep], labels[keep], dates[keep]
    split, val = 0, (0, 0)
    if request.tune_trials:
        span = b - a
        width = max(request.test, span // 5)
        gap = request.horizon + 1
        if span - width - gap >= 20:
            split = int(np.searchsorted(dates, b - width - gap))
            val = (int(np.searchsorted(dates, b - width)), len(dates))
    return FoldJob(
        fold.k,
        rows,
        labels,
        dates,
        x[fold.test_start : fold.test_end].reshape(-1, n_features),
        params or request.model,
        request.seed,
        request.nthread,
        dataset.features.names,
        request.tune_trials,
        split,
        val,
    )


def run_walk_forward(
    dataset: Dataset,
    request: MLTrainRequest,
    *,
    executor=None,
    folds: list[Fold] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_fold: Callable[[Fold, FoldOutcome], None] | None = None,
) -> WalkForwardRun:
    """Train every fold (on ``executor`` when given, else here, reporting each tree).

    ``progress(folds_done, n_folds, trees_done)`` is called after each tree (serially) or each
    batch of folds (on an executor), ``on_fold(fold, outcome)`` after each fold;
    ``should_stop()`` True ends the run between trees or batches (:class:`~core.tasks.Stopped`
    before the first fold is done).
    """
    folds = splits(dataset, request) if folds is None else folds
    outcomes: list[FoldOutcome] = []
    stopped = False
    batch = max(1, getattr(executor, "n_workers", 1)) if executor is not None else 1
    for lo in range(0, len(folds), batch):
        chunk = folds[lo : lo + batch]
        if should_stop and should_stop():
            stopped = True
            break
        if executor is None:
            done = len(outcomes)

            def on_tree(n: int, done=done) -> bool:
                if progress:
                    progress(done, len(folds), n)
                return bool(should_stop and should_stop())

            outcome = train_fold(fold_job(dataset, chunk[0], request), on_tree)
            if outcome.booster and should_stop and should_stop():
                stopped = True
                break  # a fold cut short by Cancel is not kept
            outcomes.append(outcome)
            new = [outcome]
        else:
            new = executor(train_fold, [fold_job(dataset, f, request) for f in chunk])
            outcomes += new
        for fold, outcome in zip(chunk, new, strict=True):
            if on_fold:
                on_fold(fold, outcome)
        if progress:
            progress(len(outcomes), len(folds), 0)
    if stopped and not outcomes:
        raise Stopped("ml: training cancelled before the first fold finished")
    return WalkForwardRun(
        folds[: len(outcomes)], outcomes, stitch(dataset, folds, outcomes), stopped
    )


def stitch(dataset: Dataset, folds: list[Fold], outcomes: list[FoldOutcome]) -> np.ndarray:
    """Out-of-sample scores per date and symbol; a later fold overwrites an earlier one."""
    n_symbols = len(dataset.universe.symbols)
    scores = np.full(dataset.target.shape, np.nan)
    for fold, outcome in zip(folds, outcomes, strict=False):
        scores[fold.test_start : fold.test_end] = outcome.predictions.reshape(-1, n_symbols)
    return scores
