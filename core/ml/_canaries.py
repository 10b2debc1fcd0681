"""Leak canaries, run with every training and by the tests.

* ``shuffled_labels``: the labels (target and forward return alike) are permuted across all
  rows with a seed, then a few folds are trained and evaluated against the permuted labels.
  Nothing can be learnt, so |Rank IC t| must stay below 2; a pipeline that let test labels
  into training would show a signal here.
* ``causality``: every feature is recomputed on the data cut at several dates t and compared
  with its value at t on all the data: the largest gap must be 0.
* ``planted``: a synthetic universe whose forward returns are driven by one planted feature
  (the rest noise) goes through the same fold training and evaluation: the signal must be
  found (Rank IC t above 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ml._data import Universe
from core.ml._evaluate import daily_ic, ic_summary
from core.ml._features import FeaturePanel, causality_gaps, cross_rank
from core.ml._pipeline import Dataset, run_walk_forward, splits
from core.ml._spec import MLTrainRequest

CANARY_FOLDS = 4  # folds trained by the shuffled and planted canaries
CANARY_TREES = 30


def run_canaries(dataset: Dataset, request: MLTrainRequest) -> dict:
    """The three canaries' results (each with ``passed``)."""
    return {
        "shuffled_labels": shuffled_labels(dataset, request),
        "causality": causality(dataset, request),
        "planted": planted(request),
    }


def _quick(request: MLTrainRequest) -> MLTrainRequest:
    trees = min(request.model.n_estimators, CANARY_TREES)
    model = request.model.model_copy(update={"n_estimators": trees})
    return request.model_copy(update={"model": model, "tune_trials": 0})


def _spread(folds: list, n: int) -> list:
    if len(folds) <= n:
        return folds
    picks = np.linspace(0, len(folds) - 1, n).round().astype(int)
    return [folds[i] for i in picks]


def shuffled_labels(dataset: Dataset, request: MLTrainRequest) -> dict:
    """Rank IC of models trained and evaluated on permuted labels (should be ~0)."""
    rng = np.random.default_rng(request.seed + 1)
    target, forward = dataset.target.copy(), dataset.forward.copy()
    ok = np.flatnonzero(np.isfinite(forward.ravel()) & np.isfinite(target.ravel()))
    perm = rng.permutation(ok)
    target.ravel()[ok], forward.ravel()[ok] = target.ravel()[perm], forward.ravel()[perm]
    shuffled = Dataset(dataset.universe, dataset.features, target, forward, dataset.first)
    quick = _quick(request)
    folds = _spread(splits(shuffled, quick), CANARY_FOLDS)
    run = run_walk_forward(shuffled, quick, folds=folds)
    summary = ic_summary(*daily_ic(run.scores, forward), request.horizon)
    t = summary["rank_ic_tstat"]
    return {
        "rank_ic": summary["rank_ic"],
        "rank_ic_tstat": t,
        "folds": len(folds),
        "passed": bool(np.isfinite(t) and abs(t) < 2),
    }


def causality(dataset: Dataset, request: MLTrainRequest, n_cuts: int = 3) -> dict:
    """Largest gap of any feature between data cut at t and all data, at ``n_cuts`` dates."""
    n = len(dataset.universe.dates)
    cuts = sorted({int(x) for x in np.linspace(dataset.first, n - 2, n_cuts + 2)[1:-1]})
    gaps = causality_gaps(
        dataset.universe.close,
        request.features,
        cuts,
        dataset.universe.volume,
        full=dataset.features,
    )
    worst = max(gaps.values(), default=0.0)
    return {
        "cuts": [dataset.universe.dates[t].date().isoformat() for t in cuts],
        "features_checked": len(gaps),
        "max_gap": worst,
        "passed": bool(worst == 0.0),
    }


def planted_dataset(
    request: MLTrainRequest, n_dates: int = 700, n_symbols: int = 30, strength: float = 0.3
) -> Dataset:
    """Noise features plus one planted feature that drives the forward returns."""
    rng = np.random.default_rng(request.seed + 2)
    n_noise = 5
    values = rng.normal(size=(n_dates, n_symbols, n_noise + 1)).astype(np.float32)
    planted = values[..., -1].astype(float)
    forward = strength * 0.01 * planted + 0.01 * rng.normal(size=(n_dates, n_symbols))
    forward[-(request.horizon + 1) :] = np.nan
    names = (*(f"noise_{i}" for i in range(n_noise)), "planted")
    dates = pd.bdate_range("2000-01-03", periods=n_dates)
    close = np.cumprod(1 + 0.01 * rng.normal(size=(n_dates, n_symbols)), axis=0)
    universe = Universe(dates, tuple(f"S{i:02d}" for i in range(n_symbols)), close, None)
    target = cross_rank(forward) if request.label_spec.cross_section == "rank" else forward
    return Dataset(universe, FeaturePanel(values, names), target, forward, 0)


def planted(request: MLTrainRequest) -> dict:
    """Rank IC found on the planted universe (should be clearly positive)."""
    quick = _quick(request).model_copy(update={"train": 250, "test": 50, "step": 50})
    dataset = planted_dataset(quick)
    folds = _spread(splits(dataset, quick), CANARY_FOLDS)
    run = run_walk_forward(dataset, quick, folds=folds)
    summary = ic_summary(*daily_ic(run.scores, dataset.forward), request.horizon)
    t = summary["rank_ic_tstat"]
    top = max(run.outcomes[-1].gain.items(), key=lambda kv: kv[1])[0]
    return {
        "rank_ic": summary["rank_ic"],
        "rank_ic_tstat": t,
        "top_feature": top,
        "passed": bool(np.isfinite(t) and t > 2 and top == "planted"),
    }
