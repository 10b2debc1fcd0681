"""One training run from universe to report.

Features, walk-forward, evaluation, portfolio, canaries: everything reported is measured on
the test folds only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.ml._canaries import run_canaries
from core.ml._data import Universe
from core.ml._evaluate import daily_ic, ic_summary, quantile_returns
from core.ml._pipeline import Dataset, WalkForwardRun, build_dataset, run_walk_forward
from core.ml._portfolio import portfolio_report
from core.ml._spec import MLTrainRequest

SUMMARY_KEYS = (
    "ic",
    "ic_std",
    "icir",
    "ic_tstat",
    "rank_ic",
    "rank_ic_std",
    "rank_icir",
    "rank_ic_tstat",
    "tstat_method",
    "hit_rate",
    "n_dates",
)


def train_and_evaluate(
    universe: Universe,
    request: MLTrainRequest,
    *,
    executor=None,
    index_close: pd.Series | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_fold: Callable | None = None,
) -> tuple[dict, Dataset, WalkForwardRun]:
    """The report of one walk-forward training (without the model id), its data and run."""
    began = time.perf_counter()
    dataset = build_dataset(universe, request)
    features_s = time.perf_counter() - began
    run = run_walk_forward(
        dataset,
        request,
        executor=executor,
        progress=progress,
        should_stop=should_stop,
        on_fold=None if on_fold is None else lambda f, o: on_fold(dataset, f, o),
    )
    train_s = time.perf_counter() - began - features_s
    t = time.perf_counter()
    report = evaluate(dataset, run, request, index_close)
    report["timings"] = {
        "evaluate_s": time.perf_counter() - t,
        "features_s": features_s,
        "walk_forward_s": train_s,
        "fold_mean_s": float(np.mean([o.seconds for o in run.outcomes])),
        "feature_values": int(dataset.features.values.size),
    }
    if request.canaries:
        t = time.perf_counter()
        report["canaries"] = run_canaries(dataset, request)
        report["timings"]["canaries_s"] = time.perf_counter() - t
    else:
        report["canaries"] = {}
    return report, dataset, run


def evaluate(
    dataset: Dataset, run: WalkForwardRun, request: MLTrainRequest, index_close=None
) -> dict:
    """IC statistics, quantiles, importances and the portfolios of the tested dates."""
    dates = dataset.universe.dates
    ic, rank_ic = daily_ic(run.scores, dataset.forward)
    summary = ic_summary(ic, rank_ic, request.horizon)
    quantiles = quantile_returns(run.scores, dataset.forward, request.quantiles)
    trials = sum(len(o.trials) for o in run.outcomes)
    configurations = max(1, request.tune_trials) if trials else 1
    book = portfolio_report(
        dataset.universe.close,
        run.scores,
        dates,
        top=request.top,
        every=request.rebalance_every,
        weighting=request.weighting,
        cost_bps=request.cost_bps,
        index_close=index_close,
        n_trials=configurations,
    )
    known = np.isfinite(rank_ic)
    report = {
        **{k: summary[k] for k in SUMMARY_KEYS},
        "quantile_returns": quantiles,
        "top_minus_bottom": quantiles[-1] - quantiles[0],
        "top_n": book["top_n"],
        "benchmark": book["benchmark"],
        "index": book["index"],
        "configurations_tried": configurations,
        "tuning_trials_run": trials,
        "folds": [
            _fold(dataset, f, o, ic, rank_ic) for f, o in zip(run.folds, run.outcomes, strict=True)
        ],
        "feature_importance": _importance(run),
        "stopped": run.stopped,
        "series": {
            "dates": [d.date().isoformat() for d in dates[known]],
            "ic": ic[known].tolist(),
            "rank_ic": rank_ic[known].tolist(),
            "cum_ic": np.nancumsum(ic[known]).tolist(),
            "cum_rank_ic": np.cumsum(rank_ic[known]).tolist(),
        },
        "curves": book["curves"],
    }
    return report


def _fold(dataset: Dataset, fold, outcome, ic, rank_ic) -> dict:
    dates = dataset.universe.dates
    window = rank_ic[fold.test_start : fold.test_end]
    return {
        "k": fold.k,
        "train_start": dates[fold.train_start].date().isoformat(),
        "train_end": dates[fold.train_end - 1].date().isoformat(),
        "test_start": dates[fold.test_start].date().isoformat(),
        "test_end": dates[fold.test_end - 1].date().isoformat(),
        "rank_ic": float(np.nanmean(window)) if np.isfinite(window).any() else None,
        "labelled_test_dates": int(np.isfinite(window).sum()),
        "seconds": outcome.seconds,
        "params": outcome.params,
    }


def _importance(run: WalkForwardRun) -> dict:
    names = list(run.outcomes[0].gain) if run.outcomes else []

    def mean(kind: str) -> dict[str, float]:
        rows = [getattr(o, kind) for o in run.outcomes if getattr(o, kind)]
        return {n: float(np.mean([r.get(n, 0.0) for r in rows])) for n in names} if rows else {}

    gain, shap = mean("gain"), mean("shap")
    return {
        "gain": dict(sorted(gain.items(), key=lambda kv: -kv[1])),
        "shap": dict(sorted(shap.items(), key=lambda kv: -kv[1])),
        "per_fold_gain": [o.gain for o in run.outcomes],
    }
